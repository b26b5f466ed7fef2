//! Parameters of type `wacht::Auth` receive the verified identity and leave the signature:
//! callers pass only the request and the other parameters.

use http::{Request, Response};
use wacht::Auth;

#[wacht::protect]
async fn right_after_request(_req: Request<String>, auth: wacht::Auth) -> Response<String> {
    Response::new(auth.user_id().to_owned())
}

#[wacht::protect(permission = "user:read")]
async fn later(req: Request<String>, n: u32, auth: Auth, name: &'static str) -> Response<String> {
    // The identity is also in the request's extensions.
    let stored = req.extensions().get::<Auth>().map(Auth::user_id);
    assert_eq!(stored, Some(auth.user_id()));
    Response::new(format!("{n} {name}"))
}

#[wacht::protect]
async fn twice(_req: Request<String>, first: Auth, second: wacht::Auth) -> Response<String> {
    Response::new(format!("{} {}", first.user_id(), second.user_id()))
}

fn main() {
    let _ = right_after_request(Request::new(String::new()));
    let _ = later(Request::new(String::new()), 1, "x");
    let _ = twice(Request::new(String::new()));
}
