use http::{Request, Response};

#[wacht::webhook(permission = "user:read", resource = "/hooks")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
