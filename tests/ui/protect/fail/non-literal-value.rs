use http::{Request, Response};

const PERMISSION: &str = "user:read";

#[wacht::protect(permission = PERMISSION)]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
