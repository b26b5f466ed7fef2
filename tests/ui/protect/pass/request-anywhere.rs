//! The request is recognised by its type's name in any position (axum wants the whole
//! request last, after `State`), and identity parameters may stand anywhere, even first: they
//! leave the signature, the other parameters keep their order.

use http::{Request, Response};
use std::sync::Arc;
use wacht::Auth;

struct State<S>(S);

#[wacht::protect(permission = "user:read")]
async fn request_last(
    State(greeting): State<&'static str>,
    req: Request<String>,
) -> Response<String> {
    Response::new(format!("{greeting} {}", req.uri()))
}

#[wacht::protect]
async fn identity_first(
    auth: Auth,
    tenant: u32,
    req: Request<()>,
    verbose: bool,
) -> Response<String> {
    Response::new(format!(
        "{} {tenant} {verbose} {}",
        auth.user_id(),
        req.uri()
    ))
}

struct Api;

impl Api {
    #[wacht::protect]
    async fn method(
        self: Arc<Self>,
        state: State<u8>,
        auth: wacht::Auth,
        req: Request<String>,
    ) -> Response<String> {
        let State(n) = state;
        Response::new(format!("{n} {} {}", auth.user_id(), req.body()))
    }
}

fn main() {
    let _ = request_last(State("hello"), Request::new(String::new()));
    let _ = identity_first(7, Request::new(()), true);
    let _ = Arc::new(Api).method(State(1), Request::new(String::new()));
}
