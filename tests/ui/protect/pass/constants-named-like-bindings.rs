//! Module-level constants named like the expansion's bindings do not clash: where the user
//! named a parameter, the expansion binds the user's own name (which no constant in scope can
//! share, or the user's signature would not compile either), and it binds nothing else.
#![allow(non_upper_case_globals)]

use http::{Request, Response};

const __wacht_request: u8 = 1;
const __wacht_auth: u8 = 2;
const __wacht_rejection: u8 = 3;
const __wacht_on_reject: u8 = 4;
const __wacht_output: u8 = 5;

fn reject(rejection: wacht::Rejection) -> Response<String> {
    Response::new(format!("{:?}", rejection.code()))
}

#[wacht::protect(permission = "user:read")]
async fn handler(req: Request<String>, auth: wacht::Auth) -> Response<String> {
    Response::new(format!("{} {} {}", req.uri(), auth.user_id(), __wacht_request))
}

#[wacht::protect(optional, on_reject = reject)]
async fn optional(req: Request<String>, auth: Option<wacht::Auth>) -> Response<String> {
    Response::new(format!("{} {:?} {}", req.uri(), auth.is_some(), __wacht_auth))
}

#[wacht::machine(resource = "/machine/users", method = "GET")]
async fn machine(req: Request<String>) -> Response<String> {
    let both = __wacht_rejection + __wacht_on_reject + __wacht_output;
    Response::new(format!("{} {both}", req.uri()))
}

#[wacht::protect(or_machine(resource = "/machine/users"))]
async fn either(request: Request<String>, caller: wacht::Caller) -> Response<String> {
    let _ = caller;
    Response::new(request.uri().to_string())
}

fn main() {
    let _ = handler(Request::new(String::new()));
    let _ = optional(Request::new(String::new()));
    let _ = machine(Request::new(String::new()));
    let _ = either(Request::new(String::new()));
}
