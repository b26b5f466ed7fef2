//! `#[axum::debug_handler]` above `#[wacht::protect]` with an identity parameter does not
//! compile, even though `wacht::Auth` is an axum extractor (feature `axum`): `debug_handler`
//! calls the function with every parameter it saw, and the attribute emits the function
//! without the identity parameter. It stays that way by design: keeping the parameter would
//! make the emitted signature depend on a feature, and features unify across a build (a
//! `lambda_http` handler elsewhere in the same build would stop being `fn(Request)`). Put
//! `#[wacht::protect]` outermost (tests/ui/protect/pass/debug-handler.rs), or use
//! `wacht::layer` with the `wacht::Auth` extractor.

use axum::extract::Request;
use axum::response::Response;

#[axum::debug_handler]
#[wacht::protect(permission = "user:read")]
async fn users(auth: wacht::Auth, req: Request) -> Response {
    Response::new(format!("{} {}", auth.user_id(), req.uri()).into())
}

fn main() {
    let _: axum::Router = axum::Router::new().route("/users", axum::routing::get(users));
}
