//! The guide's handler: an API key from `x-api-key`, checked by the gateway for one resource,
//! method and permission.

use http::{Request, Response};

#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn machine_users(req: Request<String>) -> Response<String> {
    Response::new(format!("hello from {}", req.uri()))
}

#[wacht::machine(
    resource = "/machine/users",
    method = "POST",
    permission = "user:write"
)]
pub async fn create_user(_req: http::Request<()>) -> http::Response<String> {
    Response::new(String::new())
}

fn main() {
    let _ = machine_users(Request::new(String::new()));
    let _ = create_user(Request::new(()));
}
