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
mod validate;

use proc_macro::TokenStream;

/// Puts Wacht session authentication in front of an HTTP handler.
///
/// ```ignore
/// #[wacht::protect(permission = "user:read")]
/// async fn list_users(req: http::Request<Body>, auth: wacht::Auth) -> Result<http::Response<Body>, Error> {
///     // Runs only for a signed-in caller holding `user:read`.
///     let user_id = auth.user_id();
///     …
/// }
/// ```
///
/// The handler's body runs only for a caller whose session token verifies and who meets the
/// requirement; everyone else gets a JSON 401 / 403 / 503 answer in the handler's own return
/// type.
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
/// | `on_reject = path::to::function` | a `fn(wacht::Rejection) -> R` building the answer for a rejected request (`R` is the handler's return type) |
/// | `crate = "path"` | where the `wacht` crate is, if renamed or re-exported |
///
/// At most one of `permission`, `any` and `all`. Permissions are checked against the session's
/// organization and workspace permissions together. Values are literals, read at compile time;
/// mistakes (unknown or repeated arguments, empty values, conflicts) are compile errors,
/// all reported at once.
///
/// # Handler contract
///
/// - An `async fn` (free function or method). Its first parameter (after `self`) is the request,
///   `http::Request<B>` for any body type `B` (aliases named `Request`, such as
///   `lambda_http::Request`, work too).
/// - It returns `http::Response<B2>` with `B2: From<String>`, or `Result<T, E>` where `T` is such
///   a response (a rejection is returned as `Ok`). `impl Trait` return types cannot carry a
///   rejection; name the type, or give `on_reject`.
/// - The verified [`Auth`](https://docs.rs/wacht/latest/wacht/struct.Auth.html) is stored in the
///   request's extensions. A parameter of type `wacht::Auth` (anywhere after the request)
///   receives it directly; such parameters are removed from the function's signature, so
///   callers pass only the request and the other parameters.
/// - Everything else (attributes, visibility, generics, `where` clauses, other parameters, the
///   body) is kept as written; `return`, `?` and shadowing in the body mean what they meant.
///
/// # Expansion
///
/// Roughly, for the example above:
///
/// ```ignore
/// async fn list_users(__wacht_request: http::Request<Body>) -> Result<http::Response<Body>, Error> {
///     static __WACHT_REQUIREMENT: LazyLock<Requirement> = /* built once from the arguments */;
///     let mut __wacht_request = __wacht_request;
///     let __wacht_auth = match wacht::__private::protect(&__wacht_request, &__WACHT_REQUIREMENT).await {
///         Ok(auth) => auth,
///         Err(rejection) => return <Result<http::Response<Body>, Error> as RejectionResponse>::from_rejection(rejection),
///     };
///     wacht::__private::insert_auth(&mut __wacht_request, &__wacht_auth);
///     let req: http::Request<Body> = __wacht_request;
///     let auth: wacht::Auth = __wacht_auth;
///     { /* the body, unchanged */ }
/// }
/// ```
#[proc_macro_attribute]
pub fn protect(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::protect(args.into(), item.into()).into()
}
