//! `or_machine(…)`: one handler for people and machines, receiving `wacht::Caller`.

use http::{Request, Response};

#[wacht::protect(permission = "user:read", or_machine(resource = "/users", method = "GET", permission = "user:read"))]
async fn users(_req: Request<String>, caller: wacht::Caller) -> Response<String> {
    Response::new(format!("{:?}", caller.session().map(|auth| auth.user_id().to_owned())))
}

#[wacht::protect(or_machine(principal = "any", header = "x-custom-key"))]
async fn defaults(req: Request<()>, caller: wacht::Caller) -> Response<String> {
    Response::new(format!("{} {}", req.uri(), caller.machine().is_some()))
}

fn main() {
    let _ = users(Request::new(String::new()));
    let _ = defaults(Request::new(()));
}
