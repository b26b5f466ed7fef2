//! Every kind of argument mistake in one attribute, and signature mistakes besides: each is
//! reported, at its own token.

use http::{Request, Response};

const PERMISSION: &str = "user:read";

#[wacht::machine(
    resourse = "/machine/users",
    resource = "machine/users?page=2",
    method = "FETCH",
    principal = "API_KEY",
    header = "X-Custom-Key",
    permission = PERMISSION,
    all = ["user:read", 7, ""],
    any = [],
    organization_id = "org_123",
    method = "GET",
    on_reject = "reject",
    crate = wacht,
    "header" = "x-api-key",
    principal,
)]
unsafe fn handler(_req: Request<String>, auth: wacht::Auth) -> impl Sized {
    Response::new(auth.user_id().to_owned())
}

fn main() {}
