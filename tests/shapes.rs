//! The handler shapes users write beyond the simplest one, served over real HTTP on
//! 127.0.0.1 against a real local Wacht: methods with `&self`, generic handlers with `where`
//! clauses, `Result<Response<String>, MyError>`, several extra parameters, the identity and the
//! request in any position, `on_reject` with a custom response, and the `crate = "…"`
//! override through a renamed dependency.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// `wacht` under another name, as `wacht_renamed = { package = "wacht", … }` in a user's
// Cargo.toml would give it: a crate-root `extern crate … as` puts the new name in the extern
// prelude, exactly where a renamed dependency lands. (Cargo ignores a dev-dependency of a
// package on itself, so the rename cannot be spelled in this package's own Cargo.toml.)
extern crate wacht as wacht_renamed;

mod common;

use common::{Answer, counting, rejected, send};

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::{Request, Response};
use serde_json::json;
use wacht::testing::{ApiKeySpec, LocalWacht, ServedResponse, serve_with};
use wacht::{Auth, MachineAuth, Rejection, Wacht};

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Serializes the tests of this file: they share one body-run counter.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Api {
    greeting: String,
}

impl Api {
    #[wacht::protect(permission = "user:read")]
    async fn get(&self, req: Request<String>, auth: Auth) -> Response<String> {
        RUNS.fetch_add(1, Ordering::SeqCst);
        let body =
            json!({ "greeting": self.greeting, "user": auth.user_id(), "path": req.uri().path() });
        Response::new(body.to_string())
    }
}

#[derive(Debug)]
struct MyError(&'static str);

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl From<std::num::ParseIntError> for MyError {
    fn from(_: std::num::ParseIntError) -> Self {
        MyError("not a number")
    }
}

/// Generic over the body and a state type, bounds in a `where` clause; `?` in the body is
/// the handler's own error.
#[wacht::protect(all = ["user:read", "user:write"])]
async fn generic<B, S>(req: Request<B>, state: S) -> Result<Response<String>, MyError>
where
    B: AsRef<str>,
    S: AsRef<str>,
{
    RUNS.fetch_add(1, Ordering::SeqCst);
    let n: u32 = req.body().as_ref().trim().parse()?;
    Ok(Response::new(format!("{} {}", state.as_ref(), n * 2)))
}

/// Several extra parameters, the identity in the middle and the request after them.
#[wacht::protect]
async fn many(
    tenant: &'static str,
    first: Auth,
    limit: u32,
    req: Request<String>,
    (a, b): (u8, u8),
    second: Auth,
) -> Response<String> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    let body = json!({
        "tenant": tenant,
        "limit": limit,
        "sum": a + b,
        "same": first.user_id() == second.user_id(),
        "stored": req.extensions().get::<Auth>().map(Auth::user_id),
    });
    Response::new(body.to_string())
}

/// A custom answer for every rejection: the status is kept, the body is the caller's format.
fn teapot_page(rejection: Rejection) -> Response<String> {
    let mut response = Response::new(format!("custom: {}", rejection.reason()));
    *response.status_mut() = rejection.status();
    response
        .headers_mut()
        .insert("x-rejected-by", http::HeaderValue::from_static("my-app"));
    response
}

mod answers {
    /// A rejection as the handler's own error (served as a 500 by the test server).
    pub fn as_error(rejection: wacht::Rejection) -> Result<http::Response<String>, super::MyError> {
        match rejection.status().as_u16() {
            401 => Err(super::MyError("who are you")),
            _ => Err(super::MyError("not you")),
        }
    }
}

#[wacht::protect(permission = "user:read", on_reject = teapot_page)]
async fn custom_page(_req: Request<String>) -> Response<String> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new("ok".to_owned())
}

#[wacht::machine(permission = "user:read", on_reject = answers::as_error)]
async fn machine_first(
    auth: MachineAuth,
    req: Request<String>,
) -> Result<Response<String>, MyError> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(Response::new(format!(
        "{} {}",
        auth.key_id().unwrap_or("?"),
        req.uri().path()
    )))
}

/// Through the renamed dependency: `wacht` under the name `wacht_renamed`.
#[wacht_renamed::protect(crate = "wacht_renamed", permission = "user:read")]
async fn renamed(_req: Request<String>, auth: Auth) -> Response<String> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new(auth.user_id().to_owned())
}

#[wacht_renamed::machine(crate = "wacht_renamed", resource = "/renamed")]
async fn renamed_machine(_req: Request<String>) -> Response<String> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new("ok".to_owned())
}

struct Setup {
    local: LocalWacht,
    wacht: Wacht,
    http: reqwest::Client,
    _guard: tokio::sync::MutexGuard<'static, ()>,
}

async fn setup() -> Setup {
    let guard = ONE_AT_A_TIME.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    Setup {
        local,
        wacht,
        http: reqwest::Client::new(),
        _guard: guard,
    }
}

/// An answer, and the handler-body runs while it was made.
type Sent = (Answer, usize);

impl Setup {
    fn token(&self, permissions: &[&str]) -> String {
        self.local
            .token()
            .subject("user_42")
            .organization_permissions(permissions.iter().copied())
            .sign()
    }

    /// Serves `handler` and `POST`s one request with `headers` and `body`.
    async fn post<H, Fut, R>(&self, handler: H, headers: &[(&str, &str)], body: &str) -> Sent
    where
        H: Fn(Request<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: ServedResponse,
    {
        let server = serve_with(self.wacht.clone(), handler).await.unwrap();
        let mut request = self
            .http
            .post(format!("{}/shapes", server.url()))
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        counting(&RUNS, send(request)).await
    }

    async fn bearer<H, Fut, R>(&self, handler: H, token: Option<&str>, body: &str) -> Sent
    where
        H: Fn(Request<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: ServedResponse,
    {
        match token {
            Some(token) => {
                let value = format!("Bearer {token}");
                self.post(handler, &[("authorization", &value)], body).await
            }
            None => self.post(handler, &[], body).await,
        }
    }
}

/// Asserts a refusal in the one rejection shape with this `reason`, and that no handler body
/// ran.
fn assert_refused((answer, runs): &Sent, status: u16, reason: &str) {
    let error = match status {
        401 => "unauthenticated",
        403 => "forbidden",
        _ => panic!("no refusal of these handlers answers {status}"),
    };
    assert_eq!(rejected(answer, status, error), reason, "{}", answer.text);
    assert_eq!(*runs, 0, "the handler ran for a refused caller");
}

#[tokio::test]
async fn a_method_with_self() {
    let s = setup().await;
    let api = Arc::new(Api {
        greeting: "hello".to_owned(),
    });
    let handler = move |req| {
        let api = Arc::clone(&api);
        async move { api.get(req).await }
    };
    assert_refused(
        &s.bearer(handler.clone(), None, "").await,
        401,
        "missing_token",
    );
    let sent = s.bearer(handler.clone(), Some(&s.token(&[])), "").await;
    assert_refused(&sent, 403, "missing_permission");
    let (answer, runs) = s.bearer(handler, Some(&s.token(&["user:read"])), "").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body,
        json!({ "greeting": "hello", "user": "user_42", "path": "/shapes" })
    );
    assert_eq!(runs, 1);
}

#[tokio::test]
async fn a_generic_handler_returning_its_own_error() {
    let s = setup().await;
    let handler = |req| generic(req, "twice:");
    let both = s.token(&["user:read", "user:write"]);

    let sent = s
        .bearer(handler, Some(&s.token(&["user:read"])), "21")
        .await;
    assert_refused(&sent, 403, "missing_permission");
    let (answer, _) = s.bearer(handler, Some(&both), "21").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, "twice: 42");
    // `?` in the body still means the handler's own error.
    let (answer, runs) = s.bearer(handler, Some(&both), "abc").await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.text, "handler error: not a number");
    assert_eq!(runs, 1);
}

#[tokio::test]
async fn several_extra_parameters_with_the_identity_and_request_anywhere() {
    let s = setup().await;
    let handler = |req| many("acme", 10, req, (2, 3));
    assert_refused(&s.bearer(handler, None, "").await, 401, "missing_token");
    let (answer, runs) = s.bearer(handler, Some(&s.token(&[])), "").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body,
        json!({ "tenant": "acme", "limit": 10, "sum": 5, "same": true, "stored": "user_42" })
    );
    assert_eq!(runs, 1);
}

#[tokio::test]
async fn on_reject_builds_a_custom_response() {
    let s = setup().await;
    let (answer, runs) = s.bearer(custom_page, None, "").await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.text, "custom: missing_token");
    assert_eq!(answer.headers["x-rejected-by"], "my-app");
    assert_eq!(runs, 0);
    let (answer, runs) = s
        .bearer(custom_page, Some(&s.token(&["user:write"])), "")
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.text, "custom: missing_permission");
    assert_eq!(runs, 0);
    let (answer, runs) = s
        .bearer(custom_page, Some(&s.token(&["user:read"])), "")
        .await;
    assert_eq!((answer.status.as_u16(), answer.text.as_str()), (200, "ok"));
    assert_eq!(runs, 1);
}

#[tokio::test]
async fn machine_identity_before_the_request_and_on_reject_as_an_error() {
    let s = setup().await;
    let key = s
        .local
        .create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let writer = s
        .local
        .create_api_key(ApiKeySpec::new().permissions(["user:write"]));

    let (answer, runs) = s.post(machine_first, &[], "").await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.text, "handler error: who are you");
    assert_eq!(runs, 0);
    let (answer, runs) = s
        .post(machine_first, &[("x-api-key", writer.secret())], "")
        .await;
    assert_eq!(answer.text, "handler error: not you");
    assert_eq!(runs, 0);
    let (answer, runs) = s
        .post(machine_first, &[("x-api-key", key.secret())], "")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, format!("{} /shapes", key.key_id()));
    assert_eq!(runs, 1);
}

#[tokio::test]
async fn the_crate_override_through_a_renamed_dependency() {
    let s = setup().await;
    assert_refused(&s.bearer(renamed, None, "").await, 401, "missing_token");
    let (answer, _) = s.bearer(renamed, Some(&s.token(&["user:read"])), "").await;
    assert_eq!(
        (answer.status.as_u16(), answer.text.as_str()),
        (200, "user_42")
    );

    let key = s.local.create_api_key(ApiKeySpec::new());
    assert_refused(
        &s.post(renamed_machine, &[], "").await,
        401,
        "missing_credential",
    );
    let (answer, runs) = s
        .post(renamed_machine, &[("x-api-key", key.secret())], "")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(runs, 1);
}
