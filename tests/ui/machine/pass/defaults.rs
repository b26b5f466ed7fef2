//! No arguments: an API key from `x-api-key`, checked for the request's own path and method.

use http::{Request, Response};

#[wacht::machine]
async fn bare(req: Request<String>) -> Response<String> {
    Response::new(format!("hello from {}", req.uri()))
}

#[wacht::machine()]
async fn empty_parentheses(_req: Request<()>) -> Response<String> {
    Response::new(String::new())
}

fn main() {
    let _ = bare(Request::new(String::new()));
    let _ = empty_parentheses(Request::new(()));
}
