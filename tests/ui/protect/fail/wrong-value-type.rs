use http::{Request, Response};

#[wacht::protect(permission = 5)]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
