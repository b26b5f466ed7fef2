//! Attribute macros of the [`wacht`](https://docs.rs/wacht) crate. Use them through `wacht`
//! (`#[wacht::protect]`), which re-exports them next to the runtime they call.
//!
//! The macros are thin: they check their arguments and the handler's signature at compile time
//! and put a call into the runtime (`wacht::__private`) in front of the handler's body. All
//! authentication logic lives in the runtime.

mod args;
mod errors;
mod expand;
mod handler;
mod openapi;
mod validate;
mod webhook;

use proc_macro::TokenStream;

// The `wacht` facade prepends a summary and a compiling example of every argument to these
// docs (doctests cannot live here: they would need `wacht`, which depends on this crate).
/// # How it works
///
/// The handler's body runs only for a caller whose session token verifies and who meets the
/// requirement; everyone else gets a JSON 401 / 403 / 503 answer (500 when the configuration
/// cannot work) in the handler's own return type. Examples of every argument: [`wacht::protect`](https://docs.rs/wacht/latest/wacht/attr.protect.html).
///
/// # Arguments
///
/// All optional; with none, any signed-in caller passes.
///
/// | argument | meaning |
/// |---|---|
/// | `permission = "a"` | the caller must hold permission `a` |
/// | `any = ["a", "b"]` | the caller must hold at least one of them |
/// | `all = ["a", "b"]` | the caller must hold every one of them |
/// | `organization_id = "…"` | the session's active organization must be this one |
/// | `workspace_id = "…"` | the session's active workspace must be this one |
/// | `optional` | a request without an `Authorization` header passes too; the identity parameter is an `Option<wacht::Auth>` (`None` when signed out; a present but invalid token is still a 401). No requirement may be given with it |
/// | `or_machine(…)` | `#[wacht::machine]`'s arguments (except `on_reject` and `crate`, which go outside): a machine credential meeting them passes too; the identity parameter is a `wacht::Caller` (`Caller::Session(auth)` or `Caller::Machine(auth)`) |
/// | `on_reject = path::to::function` | a `fn(wacht::Rejection) -> R` building the answer for a rejected request (`R` is the handler's return type) |
/// | `crate = "path"` | where the `wacht` crate is, if renamed or re-exported |
///
/// At most one of `permission`, `any` and `all`; `optional` takes none of them, nor an
/// organization, a workspace or `or_machine(…)`. Permissions are checked against the session's
/// organization and workspace permissions together. Values are literals, read at compile time;
/// mistakes (unknown or repeated arguments, empty values, conflicts) are compile errors,
/// all reported at once.
///
/// # Handler contract
///
/// - An `async fn` (free function or method) with exactly one request parameter:
///   `http::Request<B>` for any body type `B`, taken by value. It is recognised by its type's
///   name, so aliases named `Request` (`lambda_http::Request`, `axum::extract::Request`,
///   `vercel_runtime::Request`) work too, and it may stand in any position: first for
///   lambda_http, hyper and vercel_runtime, last for axum (whose whole-request extractor must
///   come after `State` and the other extractors). Other parameters keep their place.
/// - It returns `http::Response<B2>` with `B2: From<String>`, or `Result<T, E>` where `T` is such
///   a response (a rejection is returned as `Ok`). `impl Trait` return types cannot carry a
///   rejection; name the type, or give `on_reject`.
/// - The verified [`Auth`](https://docs.rs/wacht/latest/wacht/struct.Auth.html) is stored in the
///   request's extensions. A parameter of type `wacht::Auth` (in any position) receives it
///   directly (`Option<wacht::Auth>` with `optional`, `wacht::Caller` with `or_machine(…)`);
///   such parameters are removed from the function's signature, so callers pass only the
///   request and the other parameters.
/// - Everything else (attributes, visibility, generics, `where` clauses, other parameters, the
///   body) is kept as written; `return`, `?` and shadowing in the body mean what they meant.
///
/// # Expansion
///
/// Roughly, for
///
/// ```ignore
/// #[wacht::protect(permission = "user:read")]
/// async fn list_users(req: http::Request<Body>, auth: wacht::Auth) -> Result<http::Response<Body>, Error> {
///     /* the body */
/// }
/// ```
///
/// the macro emits (`__wacht` is `::wacht::__private`, or the `crate = "…"` path's)
///
/// ```ignore
/// async fn list_users(mut req: http::Request<Body>) -> Result<http::Response<Body>, Error> {
///     use ::wacht::__private as __wacht;
///     let () = __wacht::WACHT_MACROS_0_2_0_NEED_WACHT_0_2_0; // the same release of both crates
///     static __WACHT_REQUIREMENT: __wacht::LazyLock<__wacht::Requirement> = /* built once from the arguments */;
///     let auth = match __wacht::admit(
///         __wacht::protect(&req, &__WACHT_REQUIREMENT).await,
///         &mut req,
///         __wacht::insert_auth, // the identity into the request's extensions
///     ) {
///         Ok(auth) => auth,
///         Err(req) => return <Result<http::Response<Body>, Error> as __wacht::RejectionResponse>::from_rejection(req),
///     };
///     let req: http::Request<Body> = req;
///     let auth: wacht::Auth = <wacht::Auth as __wacht::Identity<_>>::from_identity(auth);
///     { /* the body, unchanged */ }
/// }
/// ```
///
/// The request keeps your name (so `#[tracing::instrument(skip(req))]` below the attribute
/// still sees it), and only the names you gave your parameters are bound, so nothing in scope
/// can clash with them; the rejection is bound under the request's name, in its own arm. Only
/// a request or identity bound by a pattern or `_` gets an internal name (`__wacht_request`,
/// `__wacht_auth`). With `on_reject`, the rejection goes to your function instead of
/// `from_rejection`; with the `axum` feature and a return type that is not a `Response`, the
/// emitted function returns `axum::response::Response` and the body runs in an async closure
/// of the declared type.
#[proc_macro_attribute]
pub fn protect(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand::<args::Protect>(args.into(), item.into()).into()
}

// As for `protect`: the facade prepends a summary and compiling examples.
/// # How it works
///
/// The caller's credential is sent to the gateway (`POST <gateway>/v1/authz/check`) with the
/// resource, method and user agent (and the caller's IP under a configured client-IP policy);
/// the handler's body runs only when the gateway answers `allowed: true` (and, with `any`, a
/// listed permission is held). Everyone else gets a JSON 401 / 403 / 429 / 503 answer (500
/// when the configuration cannot work) in the handler's own return type, and every
/// denial is logged with the gateway's `request_id`; the credential never is. Examples of every
/// argument: [`wacht::machine`](https://docs.rs/wacht/latest/wacht/attr.machine.html).
///
/// # Arguments
///
/// All optional.
///
/// | argument | meaning |
/// |---|---|
/// | `resource = "/path"` or `"urn:wacht:…"` | the resource to check; default: the request's path |
/// | `method = "GET"` | one of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, `OPTIONS`; default: the request's method |
/// | `permission = "a"` | the credential must hold `a` (sent as `required_permissions`) |
/// | `all = ["a", "b"]` | every one of them (sent as `required_permissions`, which the gateway ANDs) |
/// | `any = ["a", "b"]` | at least one of them, checked on the permissions the gateway returns |
/// | `principal = "api_key"` | `"api_key"` (default, from `x-api-key`), `"oauth_access_token"` (from `Authorization: Bearer`) or `"any"` (either; both at once is refused) |
/// | `header = "x-custom-key"` | read API keys from this header instead of `x-api-key` |
/// | `on_reject = path::to::function` | a `fn(wacht::Rejection) -> R` building the answer for a rejected request |
/// | `crate = "path"` | where the `wacht` crate is, if renamed or re-exported |
///
/// At most one of `permission`, `any` and `all`. Invalid values (a method outside the seven,
/// a resource that is not a path or a `urn:wacht:` URN, an unknown principal, an upper-case
/// header) are compile errors, all reported at once.
///
/// # Handler contract
///
/// As for [`macro@protect`], with `wacht::MachineAuth` as the identity type: a parameter of
/// that type (in any position) receives the gateway's answer (key id, app,
/// organization, permissions, scopes, rate-limit state, `request_id`, …) and is removed from
/// the function's signature; the identity is also stored in the request's extensions.
#[proc_macro_attribute]
pub fn machine(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand::<args::Machine>(args.into(), item.into()).into()
}

// As for `protect`: the facade prepends a summary and compiling examples.
/// # How it works
///
/// For Wacht's own calls to your app: webhook deliveries, signed with the endpoint's secret
/// (Standard Webhooks). Before the handler's body runs, the request's `webhook-id`,
/// `webhook-timestamp` and `webhook-signature` headers are checked, the body is read whole
/// (capped) and its HMAC-SHA256 signature compared, in constant time, with one computed with
/// each configured secret. Everything else gets a JSON 400 / 401 / 413 answer (500 when no
/// secret is configured), and a verified event of a type the handler does not take gets an
/// empty 204 (Wacht then stops retrying it). Examples of every argument:
/// [`wacht::webhook`](https://docs.rs/wacht/latest/wacht/attr.webhook.html).
///
/// # Arguments
///
/// All optional.
///
/// | argument | meaning |
/// |---|---|
/// | `event = "user.created"` | take only this event type |
/// | `events = ["user.created", "user.updated"]` | take only these |
/// | `secret_env = "NAME"` | the environment variable with the signing secret(s) (default `WACHT_WEBHOOK_SECRET`; several separated by spaces or commas, during a rotation) |
/// | `max_body_bytes = 1048576` | the body cap (default 262144, 256 KiB; up to 64 MiB) |
/// | `tolerance_seconds = 600` | how far the timestamp may be from now, either way (default 300) |
/// | `dedup` | remember handled delivery ids in this process (a bounded in-memory log) and answer a repeat 204 |
/// | `dedup = my_log` | the same with your store: `fn my_log() -> L` where `L: wacht::webhook::DeliveryLog` |
/// | `on_reject = path::to::function` | a `fn(wacht::Rejection) -> R` building the answer for a refused delivery |
/// | `crate = "path"` | where the `wacht` crate is, if renamed or re-exported |
///
/// An event type that is within two letters of one of Wacht's, but not one of them, is a
/// compile error (a typo would answer 204 to every delivery).
///
/// # Handler contract
///
/// As for [`macro@protect`], with `wacht::WebhookEvent` as the identity type: a parameter of
/// that type receives the verified event (id, type, timestamp, the body as signed, its `data`)
/// and is removed from the signature. The request comes back with its body (made again from
/// the verified bytes; a body that cannot be made again, hyper's `Incoming`, comes back as
/// `http_body_util::Full<Bytes>`).
#[proc_macro_attribute]
pub fn webhook(args: TokenStream, item: TokenStream) -> TokenStream {
    webhook::expand(args.into(), item.into()).into()
}
