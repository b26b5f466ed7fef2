//! Handlers written against `wacht` renamed to `wacht_renamed`: `::wacht` does not exist in
//! this crate, so they compile only if the attributes use the `crate = "…"` path.

use http::{Request, Response};

/// A session-protected handler through the renamed dependency.
#[wacht_renamed::protect(crate = "wacht_renamed", permission = "user:read")]
pub async fn session(_req: Request<String>, auth: wacht_renamed::Auth) -> Response<String> {
    Response::new(auth.user_id().to_owned())
}

/// A machine handler through the renamed dependency.
#[wacht_renamed::machine(
    crate = "::wacht_renamed",
    resource = "/renamed",
    permission = "user:read"
)]
pub async fn machine(_req: Request<String>, auth: wacht_renamed::MachineAuth) -> Response<String> {
    Response::new(auth.key_id().unwrap_or_default().to_owned())
}
