//! Every kind of argument mistake in one attribute, and signature mistakes besides: each is
//! reported, at its own token.

use http::{Request, Response};

const ORG: &str = "org_1";

#[wacht::protect(
    permision = "user:read",
    resource = "/users",
    permission = "",
    any = [],
    all = ["user:read", 7, "user:read"],
    organization_id = ORG,
    workspace_id = 5,
    workspace_id = "ws_1",
    on_reject = "reject",
    crate = wacht,
    "permission" = "user:read",
    method,
)]
unsafe fn handler(_req: &Request<String>) -> impl Sized {
    Response::new(String::new())
}

fn main() {}
