//! Every requirement argument, and the `crate` override.

use http::{Request, Response};

#[wacht::protect(any = ["user:read", "user:admin"], organization_id = "org_123")]
async fn any_in_org(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::protect(all = ["user:read", "user:write"], workspace_id = "ws_123")]
async fn all_in_workspace(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::protect(
    permission = "user:read",
    organization_id = "org_123",
    workspace_id = "ws_123"
)]
async fn everything(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

mod reexported {
    pub use wacht as auth;
}

#[wacht::protect(crate = "reexported::auth", permission = "user:read")]
async fn renamed(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::protect(crate = "::wacht")]
async fn absolute(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {
    let _ = any_in_org(Request::new(String::new()));
    let _ = all_in_workspace(Request::new(String::new()));
    let _ = everything(Request::new(String::new()));
    let _ = renamed(Request::new(String::new()));
    let _ = absolute(Request::new(String::new()));
}
