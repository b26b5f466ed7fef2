//! Every permission argument, every method, and the `crate` override.

use http::{Request, Response};

#[wacht::machine(any = ["user:read", "user:admin"])]
async fn any_of(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(all = ["user:read", "user:write"], method = "PUT")]
async fn all_of(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(
    resource = "/machine/users",
    method = "PATCH",
    any = ["user:write"],
    principal = "any",
    header = "x-api-key"
)]
async fn everything(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(method = "HEAD")]
async fn head(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(method = "OPTIONS")]
async fn options(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

mod reexported {
    pub use wacht as auth;
}

#[wacht::machine(crate = "reexported::auth", permission = "user:read")]
async fn renamed(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(crate = "::wacht")]
async fn absolute(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {
    let _ = any_of(Request::new(String::new()));
    let _ = all_of(Request::new(String::new()));
    let _ = everything(Request::new(String::new()));
    let _ = head(Request::new(String::new()));
    let _ = options(Request::new(String::new()));
    let _ = renamed(Request::new(String::new()));
    let _ = absolute(Request::new(String::new()));
}
