//! `principal = "any"` accepts an API key or an OAuth access token; `header` moves the API key
//! out of `x-api-key`.

use http::{Request, Response};

#[wacht::machine(principal = "any", header = "x-custom-key")]
async fn either(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(header = "x-custom-key", permission = "user:read")]
async fn api_key_in_custom_header(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(principal = "any")]
async fn either_default_header(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {
    let _ = either(Request::new(String::new()));
    let _ = api_key_in_custom_header(Request::new(String::new()));
    let _ = either_default_header(Request::new(String::new()));
}
