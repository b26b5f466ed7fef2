//! The simplest handler: takes the request, returns `http::Response<String>`.

use http::{Request, Response};

#[wacht::protect]
async fn signed_in(req: Request<String>) -> Response<String> {
    Response::new(format!("hello from {}", req.uri()))
}

#[wacht::protect(permission = "user:read")]
pub async fn with_permission(_req: http::Request<()>) -> http::Response<String> {
    Response::new(String::new())
}

fn main() {
    let _ = signed_in(Request::new(String::new()));
    let _ = with_permission(Request::new(()));
}
