//! `#[wacht::protect]` above `#[axum::debug_handler]`: axum's check sees the function the
//! macro emits (the identity parameter removed, the request last) and accepts it.

use axum::extract::{Request, State};
use axum::response::Response;

#[derive(Clone)]
struct AppState;

#[wacht::protect(permission = "user:read")]
#[axum::debug_handler]
async fn users(State(_state): State<AppState>, auth: wacht::Auth, req: Request) -> Response {
    Response::new(format!("{} {}", auth.user_id(), req.uri()).into())
}

#[wacht::machine]
#[axum::debug_handler]
async fn machine(req: Request, auth: wacht::MachineAuth) -> Response {
    Response::new(format!("{:?} {}", auth.key_id(), req.uri()).into())
}

fn main() {
    let _: axum::Router = axum::Router::new()
        .route("/users", axum::routing::get(users))
        .route("/machine", axum::routing::get(machine))
        .with_state(AppState);
}
