//! Wacht authentication in front of Rust HTTP handlers.
//!
//! [`#[wacht::protect]`](macro@protect) verifies the caller's session token and checks a
//! permission before the handler runs; [`#[wacht::machine]`](macro@machine) asks Wacht's
//! gateway whether an API key or OAuth access token may call the resource. Everyone else gets a
//! typed JSON answer (401, 403, 429, 503, or 500 when the configuration cannot work) in the
//! handler's own response type, and the handler's body never runs.
//!
//! ```no_run
//! use http::{Request, Response};
//! use lambda_http::{Body, Error};
//!
//! // People: a signed-in user's session token, checked against the deployment's keys.
//! #[wacht::protect(permission = "user:read")]
//! async fn admin_users(req: Request<Body>, auth: wacht::Auth) -> Result<Response<Body>, Error> {
//!     Ok(Response::new(format!("hello {}", auth.user_id()).into()))
//! }
//!
//! // Machines: an API key (or OAuth access token), checked by Wacht's gateway.
//! #[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
//! async fn machine_users(req: Request<Body>, auth: wacht::MachineAuth) -> Result<Response<Body>, Error> {
//!     Ok(Response::new(format!("hello key {}", auth.key_id().unwrap_or("?")).into()))
//! }
//! ```
//!
//! The same checks come as tower layers ([`layer`], feature `tower`) and axum extractors
//! (feature `axum`), and as plain calls on a [`Wacht`] context.
//!
//! # Guides
//!
//! | guide | what is in it |
//! |---|---|
//! | [runtimes](guide::runtimes) | AWS Lambda and Netlify (`lambda_http`), axum, hyper, Vercel, Cloudflare Workers |
//! | [people or machines](guide::people_or_machines) | every argument of both attributes, `optional`, `or_machine(…)`, the calls without macros |
//! | [webhooks](guide::webhooks) | `#[wacht::webhook]`: Wacht's own deliveries, verified; the answers, replays, the emulator |
//! | [layers and extractors](guide::layers_and_extractors) | tower layers, axum extractors, axum's return types, other attributes |
//! | [Lambda and Netlify](guide::lambda_netlify) | deploying: deadlines, logs, environment |
//! | [Workers](guide::workers) | Cloudflare Workers (wasm32) |
//! | [backend](guide::backend) | the backend API client |
//! | [browser sessions](guide::browser_sessions) | server-rendered pages: session cookies, the token exchange, sign-in redirects, WebSocket tokens, typed claims |
//! | [header bridge](guide::bridge) | forwarding the identity behind an edge |
//! | [configuration](guide::configuration) | every variable and setting, ranges, scoped errors |
//! | [rejections](guide::rejections) | the answers, every `reason`, failure modes, logs |
//! | [OpenAPI](guide::openapi) | features `utoipa`, `aide`: security requirements and refusal answers written from the attributes (utoipa) and the extractors (aide) |
//! | [keys and caching](guide::keys_and_caching) | the key cache, the token cache, warm starts, performance |
//! | [metrics](guide::metrics) | feature `metrics`: checks, durations, JWKS and gateway calls; OpenTelemetry traces |
//! | [testing](guide::testing) | your handlers against the local emulator |
//! | [from JavaScript](guide::from_javascript) | coming from `@wacht/backend`; where this crate is stricter |
//! | [migrating](guide::migrating) | from `wacht` 0.1.0-beta; versions |
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `backend` (default) | the backend API client: `Wacht::backend()`, [`BackendClient`] (the transport of every operation in [`backend_api`]) |
//! | `lambda` | Wacht calls end before a Lambda (or Netlify) invocation's deadline |
//! | `tower` | [`layer`]: tower layers for any `Service<http::Request<B>>` |
//! | `axum` | axum extractors (`Auth`, `MachineAuth`, `Option<Auth>`, `Caller`) and axum's return types under the attributes |
//! | `utoipa` | `openapi`: the attributes above `#[utoipa::path]` document their security and answers; the schemes and the rejection schema |
//! | `aide` | `openapi`: the extractors are `aide::OperationInput`s (security and answers); `aide_security` adds the schemes (implies `axum`) |
//! | `workers` | Cloudflare Workers: rejections as `http::Response<worker::Body>` (wasm32) |
//! | `testing` | [`testing`]: the local Wacht emulator and token minting |
//! | `metrics` | `wacht::metrics`: counters, histograms and a gauge through the `metrics` facade |
#![deny(missing_docs)]

pub mod guide;

/// Puts Wacht session authentication in front of an HTTP handler: the body runs only for a
/// caller whose session token verifies and who meets the requirement; everyone else gets a
/// JSON 401 / 403 / 503 answer (500 `auth_misconfigured` when the configuration cannot work)
/// in the handler's own return type.
///
/// # Examples
///
/// Every argument, each in an example that compiles (the handler shapes are those of the
/// runtimes: `lambda_http`, axum, hyper, `vercel_runtime`, `worker`; see
/// [the runtimes guide](crate::guide::runtimes) and
/// [people or machines](crate::guide::people_or_machines)).
///
/// No argument: any signed-in caller. A `wacht::Auth` parameter receives the identity.
///
/// ```no_run
/// use http::{Request, Response};
///
/// #[wacht::protect]
/// async fn me(_req: Request<String>, auth: wacht::Auth) -> Response<String> {
///     Response::new(auth.user_id().to_owned())
/// }
/// ```
///
/// `permission`, on an AWS Lambda / Netlify handler:
///
/// ```no_run
/// use lambda_http::{Body, Error, Request, Response};
///
/// #[wacht::protect(permission = "user:read")]
/// async fn list_users(_req: Request, auth: wacht::Auth) -> Result<Response<Body>, Error> {
///     Ok(Response::new(format!("hello {}", auth.user_id()).into()))
/// }
///
/// # async fn deploy() -> Result<(), Error> {
/// lambda_http::run(lambda_http::service_fn(list_users)).await
/// # }
/// ```
///
/// `any` (at least one) and `all` (every one):
///
/// ```no_run
/// use http::{Request, Response};
///
/// #[wacht::protect(any = ["user:read", "user:admin"])]
/// async fn read(_req: Request<String>) -> Response<String> {
///     Response::new("read".to_owned())
/// }
///
/// #[wacht::protect(all = ["user:read", "user:write"])]
/// async fn write(_req: Request<String>) -> Response<String> {
///     Response::new("written".to_owned())
/// }
/// ```
///
/// `organization_id` and `workspace_id`, on an axum handler (the whole request comes last,
/// as axum requires; the identity parameter may stand anywhere):
///
/// ```no_run
/// use axum::extract::{Request, State};
/// use axum::response::Response;
///
/// #[derive(Clone)]
/// struct AppState;
///
/// #[wacht::protect(organization_id = "org_123", workspace_id = "ws_123")]
/// async fn billing(State(_state): State<AppState>, auth: wacht::Auth, _req: Request) -> Response {
///     Response::new(auth.user_id().to_owned().into())
/// }
///
/// let app: axum::Router = axum::Router::new()
///     .route("/billing", axum::routing::get(billing))
///     .with_state(AppState);
/// ```
///
/// `optional`: signed-out callers pass too, with `None` (a present but invalid token is
/// still a 401). The identity parameter is an `Option<wacht::Auth>`.
///
/// ```no_run
/// use http::{Request, Response};
///
/// #[wacht::protect(optional)]
/// async fn home(_req: Request<String>, auth: Option<wacht::Auth>) -> Response<String> {
///     match auth {
///         Some(auth) => Response::new(format!("welcome back, {}", auth.user_id())),
///         None => Response::new("welcome, stranger".to_owned()),
///     }
/// }
/// ```
///
/// `or_machine(…)`: a person meeting the session arguments, or a machine meeting
/// `#[wacht::machine]`'s arguments given inside (an API key goes to the gateway, a JWT-shaped
/// Bearer token to the session check). The identity parameter is a `wacht::Caller`.
///
/// ```no_run
/// use http::{Request, Response};
/// use wacht::Caller;
///
/// #[wacht::protect(
///     permission = "user:read",
///     or_machine(resource = "/users", method = "GET", permission = "user:read"),
/// )]
/// async fn users(_req: Request<String>, caller: Caller) -> Response<String> {
///     match caller {
///         Caller::Session(auth) => Response::new(format!("user {}", auth.user_id())),
///         Caller::Machine(auth) => Response::new(format!("key {:?}", auth.key_id())),
///     }
/// }
/// ```
///
/// `on_reject`: your own answer for a refused request.
///
/// ```no_run
/// use http::{Request, Response};
///
/// fn login_page(rejection: wacht::Rejection) -> Response<String> {
///     let mut page = Response::new(format!("please sign in ({})", rejection.reason()));
///     *page.status_mut() = rejection.status();
///     page
/// }
///
/// #[wacht::protect(permission = "user:read", on_reject = login_page)]
/// async fn dashboard(_req: Request<String>) -> Response<String> {
///     Response::new("dashboard".to_owned())
/// }
/// ```
///
/// `crate`: where `wacht` is when it is renamed (`auth = { package = "wacht", … }` in
/// `Cargo.toml`) or re-exported.
///
/// ```no_run
/// mod deps {
///     pub use wacht as auth;
/// }
///
/// #[deps::auth::protect(crate = "deps::auth", permission = "user:read")]
/// async fn handler(_req: http::Request<String>) -> http::Response<String> {
///     http::Response::new(String::new())
/// }
/// ```
pub use wacht_macros::protect;

/// Puts Wacht's gateway in front of an HTTP handler for machine callers (API keys, OAuth
/// access tokens): the body runs only when the gateway allows the caller's credential;
/// everyone else gets a JSON 401 / 403 / 429 / 503 answer (500 `auth_misconfigured` when the
/// configuration cannot work) in the handler's own return type.
///
/// # Examples
///
/// Every argument, each in an example that compiles.
///
/// No argument: an API key (`x-api-key`) the gateway allows for the request's own path and
/// method. A `wacht::MachineAuth` parameter receives the gateway's answer.
///
/// ```no_run
/// use http::{Request, Response};
///
/// #[wacht::machine]
/// async fn ping(_req: Request<String>, auth: wacht::MachineAuth) -> Response<String> {
///     Response::new(auth.key_id().unwrap_or("key").to_owned())
/// }
/// ```
///
/// `resource`, `method` and `permission`, on an AWS Lambda / Netlify handler:
///
/// ```no_run
/// use lambda_http::{Body, Error, Request, Response};
///
/// #[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
/// async fn machine_users(_req: Request, auth: wacht::MachineAuth) -> Result<Response<Body>, Error> {
///     Ok(Response::new(format!("{:?}", auth.permissions()).into()))
/// }
///
/// # async fn deploy() -> Result<(), Error> {
/// lambda_http::run(lambda_http::service_fn(machine_users)).await
/// # }
/// ```
///
/// A `urn:wacht:…` resource, `any` (checked on the permissions the gateway returns) and `all`
/// (sent to the gateway):
///
/// ```no_run
/// use http::{Request, Response};
///
/// #[wacht::machine(resource = "urn:wacht:reports", any = ["reports:read", "reports:admin"])]
/// async fn reports(_req: Request<String>) -> Response<String> {
///     Response::new("reports".to_owned())
/// }
///
/// #[wacht::machine(method = "POST", all = ["reports:read", "reports:write"])]
/// async fn write_report(_req: Request<String>) -> Response<String> {
///     Response::new("written".to_owned())
/// }
/// ```
///
/// `principal` (OAuth access tokens from `Authorization: Bearer`, or either kind) and
/// `header` (API keys from another header):
///
/// ```no_run
/// use http::{Request, Response};
///
/// #[wacht::machine(principal = "oauth_access_token", permission = "reports:read")]
/// async fn oauth_reports(_req: Request<String>, auth: wacht::MachineAuth) -> Response<String> {
///     Response::new(format!("{:?}", auth.scopes()))
/// }
///
/// #[wacht::machine(principal = "any")]
/// async fn either(_req: Request<String>) -> Response<String> {
///     Response::new(String::new())
/// }
///
/// #[wacht::machine(header = "x-partner-key")]
/// async fn partner(_req: Request<String>) -> Response<String> {
///     Response::new(String::new())
/// }
/// ```
///
/// `on_reject` and `crate`, on an axum handler:
///
/// ```no_run
/// use axum::extract::Request;
/// use axum::response::Response;
///
/// mod deps {
///     pub use wacht as auth;
/// }
///
/// fn plain_text(rejection: deps::auth::Rejection) -> Response {
///     let mut answer = Response::new(rejection.message().to_owned().into());
///     *answer.status_mut() = rejection.status();
///     answer
/// }
///
/// #[deps::auth::machine(crate = "deps::auth", on_reject = plain_text)]
/// async fn export(req: Request) -> Response {
///     Response::new(req.uri().path().to_owned().into())
/// }
/// ```
pub use wacht_macros::machine;

/// Verifies Wacht's own calls to your app (webhook deliveries, signed with the endpoint's
/// secret by the Standard Webhooks scheme) before the handler's body runs: anything unsigned,
/// forged, tampered, stale or oversized gets a JSON 400 / 401 / 413 answer (500 when no
/// secret is configured) in the handler's own return type, and a verified event of a type the
/// handler does not take gets an empty 204 (so Wacht stops retrying it).
///
/// The secret comes from `WACHT_WEBHOOK_SECRET` (or the variable `secret_env` names): the
/// endpoint's `whsec_…` signing secret, several separated by spaces or commas during a
/// rotation. See [the webhooks guide](crate::guide::webhooks).
///
/// # Examples
///
/// Every argument, each in an example that compiles.
///
/// No argument: every verified event. A `wacht::WebhookEvent` parameter receives it.
///
/// ```no_run
/// use http::{Request, Response};
///
/// #[wacht::webhook]
/// async fn events(_req: Request<String>, event: wacht::WebhookEvent) -> Response<String> {
///     Response::new(format!("{} {}", event.id(), event.event_type()))
/// }
/// ```
///
/// `event` / `events` (other types are answered 204 unread), the typed event, on an AWS
/// Lambda / Netlify handler:
///
/// ```no_run
/// use lambda_http::{Body, Error, Request, Response};
/// use wacht::webhook::WachtEvent;
///
/// #[wacht::webhook(events = ["user.created", "user.updated"])]
/// async fn users(_req: Request, event: wacht::WebhookEvent) -> Result<Response<Body>, Error> {
///     match event.event()? {
///         WachtEvent::UserCreated(user) | WachtEvent::UserUpdated(user) => {
///             let _ = (event.id(), user.user_id(), user.primary_email_address.as_deref());
///         }
///         _ => {}
///     }
///     Ok(Response::new(Body::Empty))
/// }
///
/// #[wacht::webhook(event = "user.deleted")]
/// async fn user_deleted(_req: Request, event: wacht::WebhookEvent) -> Result<Response<Body>, Error> {
///     let data: serde_json::Value = event.data_as()?;
///     Ok(Response::new(data["entity_id"].to_string().into()))
/// }
/// # async fn deploy() -> Result<(), Error> {
/// lambda_http::run(lambda_http::service_fn(users)).await
/// # }
/// ```
///
/// `secret_env`, `max_body_bytes`, `tolerance_seconds`:
///
/// ```no_run
/// use http::{Request, Response};
///
/// #[wacht::webhook(secret_env = "BILLING_WEBHOOK_SECRET", max_body_bytes = 1048576, tolerance_seconds = 1200)]
/// async fn billing(_req: Request<String>, event: wacht::WebhookEvent) -> Response<String> {
///     Response::new(event.event_type().to_owned())
/// }
/// ```
///
/// `dedup`: a repeated `webhook-id` is answered 204 without running the handler (in this
/// process's memory, or in your store):
///
/// ```no_run
/// use http::{Request, Response};
/// use wacht::webhook::{Claim, DeliveryLog, DeliveryLogError, LogFuture, MemoryDeliveryLog};
///
/// #[wacht::webhook(dedup)]
/// async fn once(_req: Request<String>) -> Response<String> {
///     Response::new(String::new())
/// }
///
/// fn shared_log() -> MemoryDeliveryLog {
///     MemoryDeliveryLog::with_capacity(100_000)
/// }
///
/// #[wacht::webhook(dedup = shared_log)]
/// async fn once_in_my_log(_req: Request<String>) -> Response<String> {
///     Response::new(String::new())
/// }
/// ```
///
/// `on_reject` and `crate`, on an axum handler:
///
/// ```no_run
/// use axum::extract::Request;
/// use axum::response::Response;
///
/// mod deps {
///     pub use ::wacht as auth;
/// }
///
/// fn plain_text(rejection: deps::auth::Rejection) -> Response {
///     let mut answer = Response::new(rejection.message().to_owned().into());
///     *answer.status_mut() = rejection.status();
///     answer
/// }
///
/// #[deps::auth::webhook(crate = "deps::auth", on_reject = plain_text)]
/// async fn hook(req: Request, event: deps::auth::WebhookEvent) -> Response {
///     Response::new(format!("{} {}", req.uri().path(), event.id()).into())
/// }
/// ```
pub use wacht_macros::webhook;
pub use wacht_runtime::*;

/// The trait behind an identity parameter (`wacht::Auth`, …), named here so that the compiler's
/// message for a user's own type of the same name reads `WachtIdentity<_>`, not a path into
/// `__private`. Not a public API.
#[doc(hidden)]
pub use wacht_runtime::macro_support::Identity as WachtIdentity;

/// What the macros' expansions call. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use wacht_runtime::macro_support::*;

    /// Named by every expansion of `wacht-macros` 0.2.0: a `wacht` of another release does
    /// not have it, so the pair fails to compile with the versions in the message. Renamed
    /// with each release (`tests/ui` compiles it).
    pub const WACHT_MACROS_0_2_0_NEED_WACHT_0_2_0: () = ();
}
