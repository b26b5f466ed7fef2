use http::{Request, Response};

#[wacht::protect(permission = "user read")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::protect(any = ["user:read", "user admin"])]
async fn other(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
