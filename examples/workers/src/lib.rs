//! The guide's two functions as one Cloudflare Worker (workers-rs with its `http` feature):
//!
//! - `GET /admin/users`: `#[wacht::protect(permission = "user:read")]`, for signed-in users
//!   (session token in `Authorization: Bearer …`);
//! - `GET /machine/users`: `#[wacht::machine(resource = "/machine/users", method = "GET",
//!   permission = "user:read")]`, for API keys (`x-api-key`) Wacht's gateway allows;
//! - `POST /hooks`: `#[wacht::webhook(event = "user.created")]`, for Wacht's deliveries, signed
//!   with the secret in the `WACHT_WEBHOOK_SECRET` binding.
//!
//! The Worker is configured by its bindings, under the names `WachtConfig::from_env` reads
//! (`WACHT_PUBLISHABLE_KEY`, `WACHT_GATEWAY_URL`, `WACHT_API_KEY`, …): a Worker has no process
//! environment, so the first request builds the configuration from `env` and installs it with
//! `wacht::init`. The isolate keeps it (key cache, token cache, HTTP client) for the requests
//! that follow.
//!
//! Built and checked against the local Wacht in workerd by `.ci/workers` (from the
//! repository root).

use std::sync::OnceLock;

use http::{Method, Request, Response};
use serde_json::{Value, json};
use worker::{Body, Context, Env};

/// Set once the configuration was installed in this isolate.
static CONFIGURED: OnceLock<()> = OnceLock::new();

/// Installs the process-wide (here: isolate-wide) Wacht from the Worker's bindings, on the
/// first request. The macros then use it through `wacht::global()`.
fn configure(env: &Env) {
    CONFIGURED.get_or_init(|| {
        // Text bindings and secrets are both plain strings on `env` (`worker::Secret` is
        // `worker::Var`), so one lookup reads either; empty values count as unset. Scoped: a
        // setting that cannot work makes only the checks needing it answer 500 (as
        // `Wacht::from_env` does).
        let lookup = |name: &str| env.var(name).ok().map(|value| value.to_string());
        let config = wacht::WachtConfig::builder_from_lookup(lookup).build_scoped();
        for (checks, error) in [
            ("session checks", config.session_error()),
            ("machine checks", config.machine_error()),
            ("backend API calls", config.backend_error()),
        ] {
            if let Some(error) = error {
                worker::console_error!(
                    "wacht: {checks} will answer 500 auth_misconfigured: {error}"
                );
            }
        }
        if let Err(error) = wacht::init(config) {
            // Every protected request then answers 500 auth_misconfigured.
            worker::console_error!("wacht: the configuration could not be installed: {error}");
        }
    });
}

/// A JSON answer in the Worker's response type (`worker::Body` is built from a
/// `worker::Response`: it has no `From<String>`).
fn json_response(status: u16, body: &Value) -> worker::Result<Response<Body>> {
    worker::Response::from_json(body)?
        .with_status(status)
        .try_into()
}

/// `GET /admin/users`: only signed-in users holding `user:read` get here; everyone else gets
/// the JSON 401 / 403 of `#[wacht::protect]`.
#[wacht::protect(permission = "user:read")]
async fn admin_users(_req: Request<Body>, auth: wacht::Auth) -> worker::Result<Response<Body>> {
    json_response(
        200,
        &json!({
            "message": "the handler ran",
            "user_id": auth.user_id(),
            "session_id": auth.session_id(),
            "organization_id": auth.organization_id(),
        }),
    )
}

/// `GET /machine/users`: only API keys the gateway allows `GET /machine/users` with
/// `user:read` get here; everyone else gets the JSON 401 / 403 / 429 / 503 of
/// `#[wacht::machine]`.
#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn machine_users(
    _req: Request<Body>,
    auth: wacht::MachineAuth,
) -> worker::Result<Response<Body>> {
    json_response(
        200,
        &json!({
            "message": "the handler ran",
            "key_id": auth.key_id(),
            "key_name": auth.key_name(),
            "request_id": auth.request_id(),
        }),
    )
}

/// `POST /hooks`: only deliveries signed with the endpoint's secret get here; a `user.created`
/// runs the body, another verified type gets an empty 204, everything else the JSON
/// 400 / 401 / 413 of `#[wacht::webhook]`.
#[wacht::webhook(event = "user.created")]
async fn user_created(
    req: Request<Body>,
    event: wacht::WebhookEvent,
) -> worker::Result<Response<Body>> {
    // The request comes back with its body, made again as a `worker::Body`.
    let _: Body = req.into_body();
    json_response(
        200,
        &json!({
            "message": "the handler ran",
            "webhook_id": event.id(),
            "first_name": event.data()["first_name"],
        }),
    )
}

/// The webhook secret: a Worker has no process environment, so the secret comes from its
/// binding, into the request's extensions (where the attribute looks first).
fn with_webhook_secret(mut req: Request<Body>, env: &Env) -> Request<Body> {
    let secret = env
        .var("WACHT_WEBHOOK_SECRET")
        .map(|value| value.to_string());
    match secret.as_deref().map(wacht::webhook::WebhookSecrets::parse) {
        Ok(Ok(secrets)) => {
            req.extensions_mut().insert(secrets);
        }
        // Without one, the attribute answers 500 `missing_webhook_secret` (Wacht retries).
        Ok(Err(error)) => worker::console_error!("wacht: WACHT_WEBHOOK_SECRET: {error}"),
        Err(_) => {}
    }
    req
}

#[worker::event(fetch)]
async fn fetch(req: Request<Body>, env: Env, _ctx: Context) -> worker::Result<Response<Body>> {
    configure(&env);
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/admin/users") => admin_users(req).await,
        (&Method::GET, "/machine/users") => machine_users(req).await,
        (&Method::POST, "/hooks") => user_created(with_webhook_secret(req, &env)).await,
        _ => json_response(
            404,
            &json!({ "error": "not_found", "message": "No such route." }),
        ),
    }
}
