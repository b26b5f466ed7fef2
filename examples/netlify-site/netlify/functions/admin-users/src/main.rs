//! `/.netlify/functions/admin-users`, the guide's first function: the first 20 users of the
//! deployment, for signed-in callers holding `user:read` (`Authorization: Bearer <session
//! token>`). Everyone else gets the JSON 401 / 403 of `#[wacht::protect]`; the body never
//! runs for them.
//!
//! Configured by the function's environment:
//!
//! | variable | used for |
//! |---|---|
//! | `WACHT_PUBLISHABLE_KEY` | verifying session tokens (JWKS of the deployment) |
//! | `WACHT_API_KEY` | the backend API (`GET /users`) |
//! | `WACHT_BACKEND_API_URL` | optional, default `https://api.wacht.dev` |
//! | `AWS_LAMBDA_LOG_LEVEL` | optional, the log level (default `INFO`) |
//!
//! The same binary runs on Netlify (`netlify functions:serve` locally) and on AWS Lambda
//! (API Gateway REST and HTTP APIs, function URLs; `cargo lambda watch` locally).
//! `cargo run --example netlify_admin_users` in the repository runs it against a local Wacht.

use lambda_http::{Body, Error, Request, Response, service_fn};
use serde_json::{Value, json};
use wacht::backend_api::types::UsersListQuery;
use wacht::{Auth, Wacht};

/// The function: 20 users, for callers holding `user:read`.
#[wacht::protect(permission = "user:read")]
pub async fn handler(req: Request, auth: Auth) -> Result<Response<Body>, Error> {
    // The context that verified the caller: the process-wide one (from the environment)
    // deployed, the one a test put in the request's extensions otherwise.
    let wacht = Wacht::for_request(&req)?;
    // Its calls end before the invocation's deadline (feature `lambda`).
    let listed = wacht
        .backend_for(&req)
        .users()
        .list(UsersListQuery::new().limit(20))
        .await;
    match listed {
        Ok(page) => json_response(
            200,
            &json!({
                "users": page.data,
                "total": page.total,
                "has_more": page.has_more,
                "requested_by": auth.user_id(),
            }),
        ),
        Err(error) => {
            // The status and message go to the function's log; the API key never does.
            tracing::error!(reason = error.reason(), %error, "listing users failed");
            json_response(
                502,
                &json!({
                    "error": "backend_unavailable",
                    "message": "The user list could not be fetched.",
                }),
            )
        }
    }
}

fn json_response(status: u16, body: &Value) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string().into())?)
}

/// Installs the function log and serves invocations until the platform stops the function.
pub async fn serve() -> Result<(), Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return Err(
            "not started by Netlify or AWS Lambda (no AWS_LAMBDA_RUNTIME_API); \
                    locally, run it with `netlify functions:serve` or `cargo lambda watch`"
                .into(),
        );
    }
    init_function_log();
    // `lambda_http::run`, reading the events Netlify's tooling sends too.
    wacht::netlify::run(service_fn(handler)).await
}

#[tokio::main]
#[allow(dead_code)] // the binary's entry point; unused where the demo includes this file
async fn main() -> Result<(), Error> {
    serve().await
}

/// The function log, on stdout (Netlify and Lambda collect it): `info` and above, or the
/// level in `AWS_LAMBDA_LOG_LEVEL` (`DEBUG`, `TRACE`, …), for this function and `wacht`.
/// Every other crate is capped at `debug`: at `trace`, `lambda_runtime` logs each raw event,
/// and with it the caller's token or API key. Nothing at `debug` or above holds one.
pub fn init_function_log() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let filter = Targets::new()
        .with_default(level.min(LevelFilter::DEBUG))
        .with_target(module_path!(), level)
        .with_target("wacht", level)
        .with_target("wacht_runtime", level);
    // `try_init`: a host that installed its own subscriber keeps it.
    let _ = tracing_subscriber::fmt()
        .with_ansi(false)
        .without_time()
        .with_max_level(level)
        .finish()
        .with(filter)
        .try_init();
}
