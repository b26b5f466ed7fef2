//! The request is recognised by its type's name in any position, and `MachineAuth`
//! parameters may stand anywhere, even first: they leave the signature.

use http::{Request, Response};
use wacht::MachineAuth;

struct State<S>(S);

#[wacht::machine(resource = "/machine/users", method = "GET")]
async fn request_last(State(limit): State<u32>, req: Request<String>) -> Response<String> {
    Response::new(format!("{limit} {}", req.uri()))
}

#[wacht::machine(permission = "user:read")]
async fn identity_first(
    auth: MachineAuth,
    tenant: &'static str,
    req: Request<()>,
) -> Response<String> {
    Response::new(format!("{:?} {tenant} {}", auth.key_id(), req.uri()))
}

fn main() {
    let _ = request_last(State(10), Request::new(String::new()));
    let _ = identity_first("acme", Request::new(()));
}
