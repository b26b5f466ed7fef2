//! `on_reject` turns a `wacht::Rejection` into the handler's own response.

use http::{Request, Response, StatusCode};

fn reject(rejection: wacht::Rejection) -> Response<String> {
    let mut response = Response::new(format!("denied: {}", rejection.status()));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
}

mod answers {
    pub fn as_result(rejection: wacht::Rejection) -> Result<http::Response<Vec<u8>>, String> {
        Err(rejection.status().to_string())
    }
}

#[wacht::machine(resource = "/machine/users", permission = "user:read", on_reject = reject)]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

// `Response<Vec<u8>>` cannot hold a rejection itself (`Vec<u8>: From<String>` does not
// hold), so `on_reject` is what makes this handler possible.
#[wacht::machine(on_reject = answers::as_result)]
async fn custom_body(_req: Request<()>) -> Result<Response<Vec<u8>>, String> {
    Ok(Response::new(Vec::new()))
}

fn main() {
    let _ = handler(Request::new(String::new()));
    let _ = custom_body(Request::new(()));
}
