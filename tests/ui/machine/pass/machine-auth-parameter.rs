//! Parameters of type `wacht::MachineAuth` receive the gateway's answer and leave the
//! signature: callers pass only the request and the other parameters.

use http::{Request, Response};
use wacht::MachineAuth;

#[wacht::machine(permission = "user:read")]
async fn right_after_request(_req: Request<String>, auth: wacht::MachineAuth) -> Response<String> {
    Response::new(auth.key_name().unwrap_or("key").to_owned())
}

#[wacht::machine(resource = "/machine/users", method = "GET")]
async fn later(
    req: Request<String>,
    n: u32,
    auth: MachineAuth,
    name: &'static str,
) -> Response<String> {
    // The identity is also in the request's extensions.
    let stored = req
        .extensions()
        .get::<MachineAuth>()
        .map(MachineAuth::request_id);
    assert_eq!(stored, Some(auth.request_id()));
    Response::new(format!("{n} {name} {}", auth.permissions().len()))
}

#[wacht::machine]
async fn twice(
    _req: Request<String>,
    first: MachineAuth,
    second: wacht::MachineAuth,
) -> Response<String> {
    Response::new(format!("{:?} {:?}", first.key_id(), second.key_id()))
}

fn main() {
    let _ = right_after_request(Request::new(String::new()));
    let _ = later(Request::new(String::new()), 1, "x");
    let _ = twice(Request::new(String::new()));
}
