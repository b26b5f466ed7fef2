//! The runtimes users deploy on, each with the handler shape it requires: lambda_http
//! (Netlify Functions, AWS Lambda), axum 0.8, hyper 1 `service_fn`, vercel_runtime 2.
//!
//! Every handler below is written exactly as in the README's runtime sections. Each test puts
//! a real local Wacht (JWKS and gateway on 127.0.0.1) behind it, sends real tokens and API
//! keys, and checks a 200 for a caller that passed, a 401 for one that did not, and that the
//! handler's body ran only for the first. The servers (axum, hyper, vercel_runtime's service)
//! are real HTTP servers on 127.0.0.1; lambda_http is driven as the Lambda runtime drives it:
//! an API Gateway event turned into a `lambda_http::Request` and sent through
//! `lambda_http::service_fn`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, counting, get, rejected};

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use wacht::testing::{ApiKeySpec, LocalWacht};
use wacht::{Auth, MachineAuth, Wacht};

/// A local Wacht, a context pointing at it, and the two credentials every test uses.
struct Local {
    local: LocalWacht,
    wacht: Wacht,
    /// A session token holding `user:read`, for `user_42`.
    token: String,
    /// An API key holding `user:read`.
    api_key: String,
}

fn local() -> Local {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let token = local
        .token()
        .subject("user_42")
        .organization_permissions(["user:read"])
        .sign();
    let api_key = local
        .create_api_key(ApiKeySpec::new().permissions(["user:read"]))
        .secret()
        .to_owned();
    Local {
        local,
        wacht,
        token,
        api_key,
    }
}

mod lambda {
    //! lambda_http: Netlify Functions and AWS Lambda.

    use super::*;
    use lambda_http::tower::ServiceExt as _;
    use lambda_http::{Body, Error, Request, Response, service_fn};

    pub static USERS_RUNS: AtomicUsize = AtomicUsize::new(0);
    pub static MACHINE_RUNS: AtomicUsize = AtomicUsize::new(0);

    #[wacht::protect(permission = "user:read")]
    pub async fn users(_req: Request, auth: Auth) -> Result<Response<Body>, Error> {
        USERS_RUNS.fetch_add(1, Ordering::SeqCst);
        let body = json!({ "user": auth.user_id() }).to_string();
        Ok(Response::builder()
            .header("content-type", "application/json")
            .body(body.into())?)
    }

    #[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
    pub async fn machine_users(_req: Request, auth: MachineAuth) -> Result<Response<Body>, Error> {
        MACHINE_RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(Response::new(
            json!({ "key": auth.key_id() }).to_string().into(),
        ))
    }

    /// The deployment line of the README, type-checked: `lambda_http::run` accepts the
    /// handlers as they are. (The future is never polled: it would poll AWS's runtime API.)
    pub fn deployable() {
        drop(lambda_http::run(service_fn(users)));
        drop(lambda_http::run(service_fn(machine_users)));
    }

    /// An API Gateway HTTP API (payload 2.0) / Lambda function URL event.
    fn http_api_event(path: &str, headers: Value) -> String {
        json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": "",
            "headers": headers,
            "isBase64Encoded": false,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api",
                "domainName": "api.example.com",
                "domainPrefix": "api",
                "http": {
                    "method": "GET",
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "203.0.113.7",
                    "userAgent": "runtimes-test"
                },
                "requestId": "req-1",
                "routeKey": "$default",
                "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000",
                "timeEpoch": 1_767_225_600_000_u64
            }
        })
        .to_string()
    }

    /// An API Gateway REST (payload 1.0) event, the shape Netlify Functions receive.
    fn rest_event(path: &str, headers: Value) -> String {
        json!({
            "path": path,
            "httpMethod": "GET",
            "headers": headers,
            "multiValueHeaders": {},
            "queryStringParameters": null,
            "multiValueQueryStringParameters": null,
            "body": null,
            "isBase64Encoded": false,
            "requestContext": {
                "accountId": "123456789012",
                "resourceId": "r",
                "stage": "prod",
                "requestId": "req-1",
                "identity": { "sourceIp": "203.0.113.7", "userAgent": "runtimes-test" },
                "resourcePath": path,
                "httpMethod": "GET",
                "apiId": "api"
            },
            "resource": path
        })
        .to_string()
    }

    /// The event → `lambda_http::Request` → `service_fn(handler)` path of `lambda_http::run`,
    /// with this test's Wacht in the request's extensions.
    async fn invoke<F, Fut>(wacht: &Wacht, handler: F, event: &str) -> Answer
    where
        F: Fn(Request) -> Fut,
        Fut: Future<Output = Result<Response<Body>, Error>>,
    {
        let mut request = lambda_http::request::from_str(event).unwrap();
        request.extensions_mut().insert(wacht.clone());
        let (parts, body) = service_fn(handler)
            .oneshot(request)
            .await
            .unwrap()
            .into_parts();
        let text = match body {
            Body::Text(text) => text,
            Body::Binary(bytes) => String::from_utf8(bytes).unwrap(),
            Body::Empty => String::new(),
            _ => panic!("unexpected body"),
        };
        Answer::from_parts(parts.status, parts.headers, text)
    }

    #[tokio::test]
    async fn protect_on_http_api_and_rest_events() {
        deployable();
        let l = local();
        let bearer = format!("Bearer {}", l.token);
        for event in [http_api_event, rest_event] {
            let (answer, runs) = counting(
                &USERS_RUNS,
                invoke(&l.wacht, users, &event("/admin/users", json!({}))),
            )
            .await;
            assert_eq!(rejected(&answer, 401, "unauthenticated"), "missing_token");
            assert_eq!(runs, 0, "the handler ran for a caller without a token");

            let headers = json!({ "authorization": bearer });
            let (answer, runs) = counting(
                &USERS_RUNS,
                invoke(&l.wacht, users, &event("/admin/users", headers)),
            )
            .await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            assert_eq!(answer.body["user"], "user_42");
            assert_eq!(runs, 1);
        }
    }

    #[tokio::test]
    async fn machine_on_http_api_and_rest_events() {
        let l = local();
        for event in [http_api_event, rest_event] {
            let (answer, runs) = counting(
                &MACHINE_RUNS,
                invoke(&l.wacht, machine_users, &event("/machine/users", json!({}))),
            )
            .await;
            assert_eq!(
                rejected(&answer, 401, "unauthenticated"),
                "missing_credential"
            );
            assert_eq!(runs, 0);

            let headers = json!({ "x-api-key": l.api_key });
            let (answer, runs) = counting(
                &MACHINE_RUNS,
                invoke(&l.wacht, machine_users, &event("/machine/users", headers)),
            )
            .await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            assert_eq!(runs, 1);
        }
    }
}

mod axum_router {
    //! axum 0.8: a handler taking `State` and the whole `Request` (which axum requires last),
    //! mounted on a `Router`.

    use super::*;
    use axum::extract::{Request, State};
    use axum::response::Response;
    use axum::routing::get as route_get;
    use axum::{Extension, Router};

    pub static USERS_RUNS: AtomicUsize = AtomicUsize::new(0);
    pub static MACHINE_RUNS: AtomicUsize = AtomicUsize::new(0);

    #[derive(Clone)]
    pub struct AppState {
        pub greeting: &'static str,
    }

    // The identity may stand anywhere: it leaves the signature, and axum sees
    // `(State<AppState>, Request)`.
    #[wacht::protect(permission = "user:read")]
    pub async fn users(State(state): State<AppState>, auth: Auth, req: Request) -> Response {
        USERS_RUNS.fetch_add(1, Ordering::SeqCst);
        let body =
            json!({ "greeting": state.greeting, "user": auth.user_id(), "path": req.uri().path() });
        Response::new(body.to_string().into())
    }

    #[wacht::machine(permission = "user:read")]
    pub async fn machine_users(
        State(state): State<AppState>,
        req: Request,
        auth: MachineAuth,
    ) -> Response {
        MACHINE_RUNS.fetch_add(1, Ordering::SeqCst);
        let body =
            json!({ "greeting": state.greeting, "key": auth.key_id(), "path": req.uri().path() });
        Response::new(body.to_string().into())
    }

    /// The router of the README, with this test's Wacht as an extension layer.
    pub fn app(wacht: Wacht) -> Router {
        Router::new()
            .route("/admin/users", route_get(users))
            .route("/machine/users", route_get(machine_users))
            .with_state(AppState { greeting: "hello" })
            .layer(Extension(wacht))
    }

    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test]
    async fn protect_and_machine_on_a_router() {
        let l = local();
        let url = serve(app(l.wacht.clone())).await;

        let (answer, runs) = counting(&USERS_RUNS, get(&format!("{url}/admin/users"), &[])).await;
        assert_eq!(rejected(&answer, 401, "unauthenticated"), "missing_token");
        assert_eq!(runs, 0);
        let bearer = format!("Bearer {}", l.token);
        let (answer, runs) = counting(
            &USERS_RUNS,
            get(&format!("{url}/admin/users"), &[("authorization", &bearer)]),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(
            answer.body,
            json!({ "greeting": "hello", "user": "user_42", "path": "/admin/users" })
        );
        assert_eq!(runs, 1);

        let (answer, runs) = counting(
            &MACHINE_RUNS,
            get(
                &format!("{url}/machine/users"),
                &[("x-api-key", "wk_test_unknown")],
            ),
        )
        .await;
        assert_eq!(
            rejected(&answer, 401, "unauthenticated"),
            "invalid_credential"
        );
        assert_eq!(runs, 0);
        let (answer, runs) = counting(
            &MACHINE_RUNS,
            get(
                &format!("{url}/machine/users"),
                &[("x-api-key", &l.api_key)],
            ),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(runs, 1);
    }
}

mod hyper_service {
    //! hyper 1: `hyper::service::service_fn` on a connection served by hand.

    use super::*;
    use http_body_util::Full;
    use hyper::body::{Bytes, Incoming};
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper::{Request, Response};
    use hyper_util::rt::TokioIo;
    use std::convert::Infallible;

    pub static USERS_RUNS: AtomicUsize = AtomicUsize::new(0);
    pub static MACHINE_RUNS: AtomicUsize = AtomicUsize::new(0);

    #[wacht::protect(permission = "user:read")]
    pub async fn users(
        req: Request<Incoming>,
        auth: Auth,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        USERS_RUNS.fetch_add(1, Ordering::SeqCst);
        let body = json!({ "user": auth.user_id(), "path": req.uri().path() });
        Ok(Response::new(Full::new(Bytes::from(body.to_string()))))
    }

    #[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
    pub async fn machine_users(
        _req: Request<Incoming>,
        auth: MachineAuth,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        MACHINE_RUNS.fetch_add(1, Ordering::SeqCst);
        let body = json!({ "key": auth.key_id() });
        Ok(Response::new(Full::new(Bytes::from(body.to_string()))))
    }

    /// Serves each connection with `service_fn`, routing by path; this test's Wacht goes
    /// into each request's extensions.
    async fn serve(wacht: Wacht) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let wacht = wacht.clone();
                let service = service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(wacht.clone());
                    async move {
                        if req.uri().path() == "/machine/users" {
                            machine_users(req).await
                        } else {
                            users(req).await
                        }
                    }
                });
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn protect_and_machine_behind_service_fn() {
        let l = local();
        let url = serve(l.wacht.clone()).await;

        let expired = l
            .local
            .token()
            .organization_permissions(["user:read"])
            .expires_at(wacht::Clock::system().now() - 60)
            .sign();
        let bad = format!("Bearer {expired}");
        let (answer, runs) = counting(
            &USERS_RUNS,
            get(&format!("{url}/admin/users"), &[("authorization", &bad)]),
        )
        .await;
        assert_eq!(rejected(&answer, 401, "unauthenticated"), "token_expired");
        assert_eq!(runs, 0);
        let bearer = format!("Bearer {}", l.token);
        let (answer, runs) = counting(
            &USERS_RUNS,
            get(&format!("{url}/admin/users"), &[("authorization", &bearer)]),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body["user"], "user_42");
        assert_eq!(runs, 1);

        let (answer, runs) =
            counting(&MACHINE_RUNS, get(&format!("{url}/machine/users"), &[])).await;
        assert_eq!(
            rejected(&answer, 401, "unauthenticated"),
            "missing_credential"
        );
        assert_eq!(runs, 0);
        let (answer, runs) = counting(
            &MACHINE_RUNS,
            get(
                &format!("{url}/machine/users"),
                &[("x-api-key", &l.api_key)],
            ),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(runs, 1);
    }
}

mod vercel {
    //! vercel_runtime 2: `vercel_runtime::service_fn(handler)`, with and without `AppState`.

    use super::*;
    use lambda_http::tower::ServiceExt as _;
    use vercel_runtime::{
        AppState, Error, LogContext, Request, Response, ResponseBody, service_fn,
    };

    pub static USERS_RUNS: AtomicUsize = AtomicUsize::new(0);
    pub static MACHINE_RUNS: AtomicUsize = AtomicUsize::new(0);

    #[wacht::protect(permission = "user:read")]
    pub async fn users(_req: Request, auth: Auth) -> Result<Response<ResponseBody>, Error> {
        USERS_RUNS.fetch_add(1, Ordering::SeqCst);
        let body = json!({ "user": auth.user_id() }).to_string();
        Ok(Response::builder()
            .header("content-type", "application/json")
            .body(body.into())?)
    }

    // The stateful form: `AppState` passes through untouched.
    #[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
    pub async fn machine_users(
        _req: Request,
        state: AppState,
        auth: MachineAuth,
    ) -> Result<Response<ResponseBody>, Error> {
        MACHINE_RUNS.fetch_add(1, Ordering::SeqCst);
        state.log_context.info("machine call allowed");
        Ok(Response::new(
            json!({ "key": auth.key_id() }).to_string().into(),
        ))
    }

    /// The deployment line of the README, type-checked: `vercel_runtime::run` accepts the
    /// handlers as they are. (The future is never polled: it would bind port 3000.)
    pub fn deployable() {
        drop(vercel_runtime::run(service_fn(users)));
        drop(vercel_runtime::run(service_fn(machine_users)));
    }

    fn app_state() -> AppState {
        #[cfg(unix)]
        let log = LogContext::new(None, None, None);
        #[cfg(not(unix))]
        let log = LogContext::new();
        AppState::new(log)
    }

    /// What `vercel_runtime::run` does for each request, on a free port: a hyper HTTP/1
    /// connection calling the handler's `service_fn` service with an `AppState`.
    async fn serve(wacht: Wacht) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let users = service_fn(users);
        let machine = service_fn(machine_users);
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let (wacht, users, machine) = (wacht.clone(), users.clone(), machine.clone());
                let service = hyper::service::service_fn(move |mut req: Request| {
                    req.extensions_mut().insert(wacht.clone());
                    let (users, machine) = (users.clone(), machine.clone());
                    async move {
                        let answer = if req.uri().path() == "/machine/users" {
                            machine.oneshot((app_state(), req)).await
                        } else {
                            users.oneshot((app_state(), req)).await
                        };
                        // As `vercel_runtime::run`: a handler error is a plain 500.
                        Ok::<_, std::convert::Infallible>(answer.unwrap_or_else(|_| {
                            let mut response = Response::new(ResponseBody::from("error"));
                            *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                            response
                        }))
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn protect_and_machine_behind_vercel_service_fn() {
        deployable();
        let l = local();
        let url = serve(l.wacht.clone()).await;

        let (answer, runs) = counting(&USERS_RUNS, get(&format!("{url}/admin/users"), &[])).await;
        assert_eq!(rejected(&answer, 401, "unauthenticated"), "missing_token");
        assert_eq!(runs, 0);
        let bearer = format!("Bearer {}", l.token);
        let (answer, runs) = counting(
            &USERS_RUNS,
            get(&format!("{url}/admin/users"), &[("authorization", &bearer)]),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body["user"], "user_42");
        assert_eq!(runs, 1);

        let (answer, runs) =
            counting(&MACHINE_RUNS, get(&format!("{url}/machine/users"), &[])).await;
        assert_eq!(
            rejected(&answer, 401, "unauthenticated"),
            "missing_credential"
        );
        assert_eq!(runs, 0);
        let (answer, runs) = counting(
            &MACHINE_RUNS,
            get(
                &format!("{url}/machine/users"),
                &[("x-api-key", &l.api_key)],
            ),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(runs, 1);
    }
}
