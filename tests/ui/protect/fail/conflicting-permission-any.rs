use http::{Request, Response};

#[wacht::protect(permission = "user:read", any = ["user:admin"])]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
