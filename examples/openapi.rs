//! An axum server documented with utoipa, on the built-in local Wacht (no account needed):
//!
//! ```text
//! cargo run --example openapi --features utoipa,axum,metrics
//! curl http://127.0.0.1:3000/openapi.json
//! curl http://127.0.0.1:3000/metrics
//! ```
//!
//! The attributes above `#[utoipa::path]` write each operation's `security` and its 401 / 403 /
//! 429 / 503 answers; `WachtSecurity` adds the schemes. `/openapi.json` is served unprotected.
//! The address comes from `WACHT_EXAMPLE_ADDR` (default `127.0.0.1:3000`; port 0 picks a free
//! one); the first line printed is `listening on http://<address>`. `.ci/openapi` runs it, fetches
//! the document over HTTP, compares it with `tests/openapi/example.json` and validates it, then
//! reads `/metrics`: every check counted (feature `metrics`, exported in Prometheus's text
//! format by `metrics-exporter-prometheus`).
#![allow(clippy::print_stdout)]

use axum::extract::Request;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use utoipa::OpenApi;
use wacht::Wacht;
use wacht::openapi::WachtSecurity;
use wacht::testing::LocalWacht;

/// The signed-in user's own profile.
#[wacht::protect]
#[utoipa::path(get, path = "/me", tag = "people", responses((status = 200, description = "The caller's user id.", body = String)))]
async fn me(auth: wacht::Auth, _req: Request) -> Response {
    Response::new(auth.user_id().to_owned().into())
}

/// Every user, for people holding `user:read`.
#[wacht::protect(permission = "user:read")]
#[utoipa::path(get, path = "/admin/users", tag = "people", responses((status = 200, description = "The users.", body = String)))]
async fn admin_users(_req: Request) -> Response {
    Response::new("users".into())
}

/// The front page: anyone, signed in or not.
#[wacht::protect(optional)]
#[utoipa::path(get, path = "/home", tag = "people", responses((status = 200, description = "A greeting.", body = String)))]
async fn home(auth: Option<wacht::Auth>, _req: Request) -> Response {
    let greeting = match auth {
        Some(auth) => format!("welcome back, {}", auth.user_id()),
        None => "welcome, stranger".to_owned(),
    };
    Response::new(greeting.into())
}

/// Every user, for API keys the gateway allows on `GET /machine/users` with `user:read`.
#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
#[utoipa::path(get, path = "/machine/users", tag = "machines", responses((status = 200, description = "The users.", body = String)))]
async fn machine_users(_req: Request) -> Response {
    Response::new("users".into())
}

/// Reports: people with `reports:read`, or OAuth access tokens granting it.
#[wacht::protect(
    permission = "reports:read",
    or_machine(principal = "oauth_access_token", permission = "reports:read")
)]
#[utoipa::path(get, path = "/reports", tag = "reports", responses((status = 200, description = "The reports.", body = String)))]
async fn reports(_caller: wacht::Caller, _req: Request) -> Response {
    Response::new("reports".into())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "wacht example", version = "1.0.0", description = "Routes protected by Wacht."),
    paths(me, admin_users, home, machine_users, reports),
    modifiers(&WachtSecurity),
)]
struct ApiDoc;

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The application. In production, leave the `Extension` out: the process-wide context from
/// the environment is used. `metrics` renders every metric recorded so far.
fn app(wacht: Wacht, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/admin/users", get(admin_users))
        .route("/home", get(home))
        .route("/machine/users", get(machine_users))
        .route("/reports", get(reports))
        .route("/openapi.json", get(openapi_json))
        // Operational endpoints, not in the document.
        .route("/metrics", get(move || async move { metrics.render() }))
        .layer(axum::Extension(wacht))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The recorder first: a context binds its metrics to the recorder installed when it is
    // built.
    let metrics = PrometheusBuilder::new().install_recorder()?;
    wacht::metrics::describe();
    let local = LocalWacht::start()?;
    let wacht = Wacht::new(local.config())?;
    let address =
        std::env::var("WACHT_EXAMPLE_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!(
        "a session token with user:read: {}",
        local
            .token()
            .subject("user_carol")
            .organization_permissions(["user:read"])
            .sign()
    );
    axum::serve(listener, app(wacht, metrics)).await?;
    Ok(())
}
