//! `#[wacht::webhook]`, `wacht::layer::webhook` and the `wacht::WebhookEvent` extractor, served
//! over real HTTP on 127.0.0.1 and fed by the local Wacht's `deliver`, which signs as Wacht's
//! platform does (with aws-lc-rs; the verifier uses RustCrypto). Forms: the attribute under
//! axum, under lambda_http (an HTTP request turned into the API Gateway event Lambda sends,
//! through `lambda_http::service_fn`) and under hyper's `service_fn` with a read-only
//! `Incoming` body (vercel_runtime's shape); the layer; the extractor alone.
//!
//! Every check is also run where a user would notice it: the answer's status, JSON and
//! headers, and whether the handler's body ran.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, counting, send, serve_axum};

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use wacht::testing::{LocalWacht, OutgoingEvent, sign_webhook};
use wacht::webhook::{MemoryDeliveryLog, WachtEvent, Webhook, WebhookSecrets};
use wacht::{Clock, Wacht, WachtConfig, WebhookEvent};

/// The fixed "now" of every served test.
const NOW: i64 = 1_767_225_600;

/// Held by every test here: the log test's thread-local subscriber must not race another
/// test's first use of the same callsites (a callsite first met on another thread while the
/// subscriber is being set up caches "never" and the event is lost).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A context whose clock reads [`NOW`]: handlers take the time from it.
fn context() -> Wacht {
    Wacht::new(
        WachtConfig::builder()
            .clock(Clock::fixed(NOW))
            .build_scoped(),
    )
    .unwrap()
}

fn user(first_name: &str) -> Value {
    json!({ "entity_id": 12345, "entity_type": "user", "id": "12345", "first_name": first_name })
}

fn created(first_name: &str) -> OutgoingEvent {
    OutgoingEvent::new("user.created", user(first_name)).timestamp(NOW)
}

/// Asserts a refusal's shape (JSON, `no-store`, no `WWW-Authenticate`: a webhook has no HTTP
/// authentication scheme; nothing of the secret or a decoder's text) and returns its reason.
fn refused(answer: &Answer, status: u16, error: &str) -> String {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.text);
    assert_eq!(answer.headers["content-type"], "application/json");
    assert_eq!(answer.headers["cache-control"], "no-store");
    assert!(!answer.headers.contains_key("www-authenticate"));
    assert_eq!(answer.body["error"], error, "{}", answer.text);
    assert!(
        answer.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    for leak in [
        "whsec_", "serde", "line 1", "column", "Error(", "base64", "hmac",
    ] {
        assert!(
            !answer.text.contains(leak),
            "leaks {leak:?}: {}",
            answer.text
        );
    }
    answer.body["reason"].as_str().unwrap().to_owned()
}

/// Delivers `event` to `url` and reads the answer.
async fn deliver(local: &LocalWacht, url: &str, event: &OutgoingEvent) -> Answer {
    let delivered = local.deliver(url, event).await.unwrap();
    Answer::from_parts(delivered.status, delivered.headers, delivered.body)
}

/// A POST of `body` with these headers.
async fn post(url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
    let mut request = reqwest::Client::new().post(url).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    send(request).await
}

mod axum_attribute {
    //! The attribute on an axum handler taking the whole request.

    use super::*;
    use axum::Router;
    use axum::extract::Request;
    use axum::response::Response;
    use axum::routing::post;

    pub static RUNS: AtomicUsize = AtomicUsize::new(0);
    pub static ONCE_RUNS: AtomicUsize = AtomicUsize::new(0);
    pub static FLAKY_RUNS: AtomicUsize = AtomicUsize::new(0);

    /// Echoes what it got: the event and the request's body, read again.
    #[wacht::webhook(events = ["user.created", "user.updated"], max_body_bytes = 4096)]
    async fn users(req: Request, event: WebhookEvent) -> Response {
        RUNS.fetch_add(1, Ordering::SeqCst);
        let agent = req.headers()["user-agent"].to_str().unwrap().to_owned();
        let body = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .unwrap();
        let echo = json!({
            "id": event.id(),
            "type": event.event_type(),
            "timestamp": event.timestamp(),
            "first_name": event.data()["first_name"],
            "body_is_the_signed_one": body.as_ref() == event.raw(),
            "user_agent": agent,
        });
        Response::new(echo.to_string().into())
    }

    pub static UNCONFIGURED_RUNS: AtomicUsize = AtomicUsize::new(0);

    #[wacht::webhook(secret_env = "WACHT_TEST_WEBHOOK_SECRET_NEVER_SET")]
    async fn unconfigured(_req: Request) -> Response {
        UNCONFIGURED_RUNS.fetch_add(1, Ordering::SeqCst);
        Response::new("ran".into())
    }

    /// Every event, counted nowhere.
    #[wacht::webhook]
    async fn plain(_req: Request, event: WebhookEvent) -> Response {
        Response::new(event.id().to_owned().into())
    }

    /// With the in-memory delivery log.
    #[wacht::webhook(dedup)]
    async fn once(_req: Request, event: WebhookEvent) -> Response {
        ONCE_RUNS.fetch_add(1, Ordering::SeqCst);
        Response::new(event.id().to_owned().into())
    }

    /// Fails on "fail" (a 500: Wacht retries), succeeds otherwise; with a log.
    #[wacht::webhook(dedup)]
    async fn flaky(
        _req: Request,
        event: WebhookEvent,
    ) -> Result<Response, std::convert::Infallible> {
        FLAKY_RUNS.fetch_add(1, Ordering::SeqCst);
        let mut answer = Response::new(axum::body::Body::empty());
        if event.data()["first_name"] == "fail" {
            *answer.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        }
        Ok(answer)
    }

    /// The routes, with `secrets` in every request's extensions (when given) and a
    /// context whose clock reads [`NOW`].
    pub async fn serve(secrets: Option<WebhookSecrets>) -> String {
        let mut app = Router::new()
            .route("/users", post(users))
            .route("/unconfigured", post(unconfigured))
            .route("/plain", post(plain))
            .route("/once", post(once))
            .route("/flaky", post(flaky));
        if let Some(secrets) = secrets {
            app = app.layer(axum::Extension(secrets));
        }
        serve_axum(app.layer(axum::Extension(context()))).await
    }
}

#[tokio::test]
async fn attribute_under_axum_every_answer() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let base = axum_attribute::serve(Some(local.webhook_secrets())).await;
    let url = format!("{base}/users");
    let runs = &axum_attribute::RUNS;

    // Valid: the handler runs once, with the event and its body.
    let event = created("Ava").id("msg_1");
    let (answer, ran) = counting(runs, deliver(&local, &url, &event)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(ran, 1);
    assert_eq!(answer.body["id"], "msg_1");
    assert_eq!(answer.body["type"], "user.created");
    assert_eq!(answer.body["timestamp"], NOW);
    assert_eq!(answer.body["first_name"], "Ava");
    assert_eq!(answer.body["body_is_the_signed_one"], true);
    assert_eq!(answer.body["user_agent"], "Wacht-Webhook/1.0");

    let cases: Vec<(&str, OutgoingEvent, u16, &str, &str)> = vec![
        (
            "forged: another secret",
            created("Eve").signed_with(OTHER_SECRET),
            401,
            "unauthenticated",
            "signature_mismatch",
        ),
        (
            "tampered body",
            created("Ava").tampered_body(
                br#"{"type":"user.created","timestamp":"2026-01-01T00:00:00.000Z","data":{"entity_id":1,"first_name":"Eve"}}"#.to_vec(),
            ),
            401,
            "unauthenticated",
            "signature_mismatch",
        ),
        (
            "tampered id",
            created("Ava").header("webhook-id", "msg_other"),
            401,
            "unauthenticated",
            "signature_mismatch",
        ),
        (
            "stale: 301 s old",
            created("Ava").timestamp(NOW - 301),
            401,
            "unauthenticated",
            "stale_timestamp",
        ),
        (
            "future: 301 s ahead",
            created("Ava").timestamp(NOW + 301),
            401,
            "unauthenticated",
            "future_timestamp",
        ),
        (
            "v1a only",
            created("Ava").signature("v1a,lt5qB51GaMIudizMzHwFXU+geZfdjDS1AFvuaeq/FQo="),
            401,
            "unauthenticated",
            "unsupported_signature_version",
        ),
        (
            "an unknown version only",
            created("Ava").signature("v2,lt5qB51GaMIudizMzHwFXU+geZfdjDS1AFvuaeq/FQo="),
            401,
            "unauthenticated",
            "unsupported_signature_version",
        ),
        (
            "oversize",
            OutgoingEvent::new("user.created", json!({ "bio": "x".repeat(5000) })).timestamp(NOW),
            413,
            "payload_too_large",
            "body_too_large",
        ),
    ];
    for (name, event, status, error, reason) in cases {
        let (answer, ran) = counting(runs, deliver(&local, &url, &event)).await;
        assert_eq!(refused(&answer, status, error), reason, "{name}");
        assert_eq!(ran, 0, "{name}");
    }
    // Within the tolerance, either way.
    for timestamp in [NOW - 300, NOW + 300] {
        let answer = deliver(&local, &url, &created("Ava").timestamp(timestamp)).await;
        assert_eq!(answer.status, 200, "{timestamp}: {}", answer.text);
    }

    // Several signatures, one valid (as a sender in the middle of a rotation signs).
    let (answer, ran) = counting(
        runs,
        deliver(
            &local,
            &url,
            &created("Ava").signed_with_each([OTHER_SECRET.to_owned(), local.webhook_secret()]),
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(ran, 1);

    // Each header empty (malformed), or missing, with a body over the cap too: 400, the
    // body unread.
    for header in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let (answer, ran) = counting(
            runs,
            deliver(&local, &url, &created("Ava").header(header, "")),
        )
        .await;
        assert_eq!(
            refused(&answer, 400, "bad_request"),
            "malformed_webhook_header",
            "{header}"
        );
        assert_eq!(ran, 0);
    }
    let request = local.webhook_request("/users", &created("Ava"));
    for missing in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let headers: Vec<(&str, String)> = request
            .headers()
            .iter()
            .filter(|(name, _)| name.as_str() != missing)
            .map(|(name, value)| (name.as_str(), value.to_str().unwrap().to_owned()))
            .collect();
        let answer = post(&url, &headers, vec![b'x'; 10_000]).await;
        assert_eq!(
            refused(&answer, 400, "bad_request"),
            "missing_webhook_header",
            "{missing}"
        );
        assert!(answer.body["message"].as_str().unwrap().contains(missing));
    }

    // A non-UTF-8 body with a valid signature: authentic, but not Wacht's envelope.
    let raw = b"\xff\xfe{\"type\":\"user.created\"}".to_vec();
    let signature = sign_webhook(&local.webhook_secret(), "msg_3", NOW, &raw);
    let answer = deliver(
        &local,
        &url,
        &created("Ava")
            .id("msg_3")
            .tampered_body(raw)
            .signature(signature),
    )
    .await;
    assert_eq!(refused(&answer, 400, "bad_request"), "malformed_event");

    // A verified event of a type the handler does not take: an empty 204, the body not run.
    let deleted = OutgoingEvent::new("user.deleted", user("Ava")).timestamp(NOW);
    let (answer, ran) = counting(runs, deliver(&local, &url, &deleted)).await;
    assert_eq!(answer.status, 204);
    assert!(answer.text.is_empty());
    assert!(!answer.headers.contains_key("content-type"));
    assert_eq!(ran, 0);
    // A forged event of that type is still a 401: the filter comes after the signature.
    let answer = deliver(&local, &url, &deleted.clone().signed_with(OTHER_SECRET)).await;
    assert_eq!(
        refused(&answer, 401, "unauthenticated"),
        "signature_mismatch"
    );
}

#[tokio::test]
async fn attribute_without_a_secret_is_a_500_and_rotation_takes_either_secret() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    // No `WebhookSecrets` and an unset variable: 500 (Wacht retries 5xx), the body not run.
    let bare = axum_attribute::serve(None).await;
    let (answer, ran) = counting(
        &axum_attribute::UNCONFIGURED_RUNS,
        deliver(&local, &format!("{bare}/unconfigured"), &created("Ava")),
    )
    .await;
    assert_eq!(
        refused(&answer, 500, "auth_misconfigured"),
        "missing_webhook_secret"
    );
    assert_eq!(ran, 0);

    // Two secrets configured (a rotation): a delivery signed with either is taken.
    let rotating =
        WebhookSecrets::parse(&format!("{OTHER_SECRET}, {}", local.webhook_secret())).unwrap();
    let url = format!("{}/plain", axum_attribute::serve(Some(rotating)).await);
    for secret in [OTHER_SECRET.to_owned(), local.webhook_secret()] {
        let answer = deliver(&local, &url, &created("Ava").signed_with(secret)).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let third = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let answer = deliver(&local, &url, &created("Ava").signed_with(third)).await;
    assert_eq!(
        refused(&answer, 401, "unauthenticated"),
        "signature_mismatch"
    );
}

#[tokio::test]
async fn attribute_with_a_delivery_log() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let base = axum_attribute::serve(Some(local.webhook_secrets())).await;

    // A repeated delivery (a retry after a lost answer, or a replay within the tolerance):
    // the body runs once; the repeat is an empty 204.
    let event = created("Ava").id("msg_once");
    let url = format!("{base}/once");
    let (answer, ran) = counting(&axum_attribute::ONCE_RUNS, deliver(&local, &url, &event)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(ran, 1);
    let (answer, ran) = counting(&axum_attribute::ONCE_RUNS, deliver(&local, &url, &event)).await;
    assert_eq!(answer.status, 204);
    assert!(answer.text.is_empty());
    assert_eq!(ran, 0);
    // Another id runs.
    let (answer, ran) = counting(
        &axum_attribute::ONCE_RUNS,
        deliver(&local, &url, &created("Ava").id("msg_twice")),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(ran, 1);

    // A failed attempt (500) is released: Wacht's retry of the same id runs again, and once it
    // succeeded, a further repeat does not.
    let url = format!("{base}/flaky");
    let failing = created("fail").id("msg_flaky");
    let (answer, ran) =
        counting(&axum_attribute::FLAKY_RUNS, deliver(&local, &url, &failing)).await;
    assert_eq!(answer.status, 500);
    assert_eq!(ran, 1);
    let (answer, ran) =
        counting(&axum_attribute::FLAKY_RUNS, deliver(&local, &url, &failing)).await;
    assert_eq!(answer.status, 500);
    assert_eq!(ran, 1);
    let fixed = created("ok").id("msg_flaky");
    let (answer, ran) = counting(&axum_attribute::FLAKY_RUNS, deliver(&local, &url, &fixed)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(ran, 1);
    let (answer, ran) = counting(&axum_attribute::FLAKY_RUNS, deliver(&local, &url, &fixed)).await;
    assert_eq!(answer.status, 204);
    assert_eq!(ran, 0);
}

/// A second secret, for forged deliveries and rotations.
const OTHER_SECRET: &str = "whsec_ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q=";

mod lambda {
    //! lambda_http (Netlify Functions, AWS Lambda): a real HTTP request is turned into the API
    //! Gateway REST event Netlify sends and run through `lambda_http::service_fn`.

    use super::*;
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper_util::rt::TokioIo;
    use lambda_http::tower::ServiceExt as _;
    use lambda_http::{Body, Error, Request, Response, service_fn};

    pub static RUNS: AtomicUsize = AtomicUsize::new(0);

    /// As in the guide: a Netlify function for `user.created`.
    #[wacht::webhook(event = "user.created")]
    pub async fn user_created(req: Request, event: WebhookEvent) -> Result<Response<Body>, Error> {
        RUNS.fetch_add(1, Ordering::SeqCst);
        // The body comes back as lambda_http gave it: text.
        let text = match req.body() {
            Body::Text(text) => text.clone(),
            _ => String::from("not text"),
        };
        let name = match event.event()? {
            WachtEvent::UserCreated(user) => user.first_name.unwrap_or_default(),
            _ => String::new(),
        };
        let echo = json!({ "same_body": text.as_bytes() == event.raw(), "first_name": name });
        Ok(Response::new(echo.to_string().into()))
    }

    /// Type-checks the deployment line of the guide.
    #[allow(dead_code)]
    pub fn deployable() {
        drop(lambda_http::run(service_fn(user_created)));
    }

    /// The API Gateway REST (payload 1.0) event of an HTTP request, as Netlify sends it.
    fn rest_event(parts: &http::request::Parts, body: &[u8]) -> String {
        let headers: serde_json::Map<String, Value> = parts
            .headers
            .iter()
            .map(|(name, value)| (name.to_string(), Value::from(value.to_str().unwrap())))
            .collect();
        json!({
            "resource": "/",
            "path": parts.uri.path(),
            "httpMethod": parts.method.as_str(),
            "headers": headers,
            "multiValueHeaders": {},
            "queryStringParameters": null,
            "multiValueQueryStringParameters": null,
            "pathParameters": null,
            "stageVariables": null,
            "requestContext": {
                "accountId": "1", "resourceId": "1", "stage": "prod", "requestId": "r",
                "identity": { "sourceIp": "127.0.0.1" }, "resourcePath": "/",
                "httpMethod": parts.method.as_str(), "apiId": "a", "path": parts.uri.path()
            },
            "body": String::from_utf8_lossy(body),
            "isBase64Encoded": false
        })
        .to_string()
    }

    pub async fn serve(secrets: WebhookSecrets) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let secrets = secrets.clone();
                let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                    let secrets = secrets.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        let mut request =
                            lambda_http::request::from_str(&rest_event(&parts, &body)).unwrap();
                        request.extensions_mut().insert(secrets);
                        request.extensions_mut().insert(context());
                        let (parts, body) = service_fn(user_created)
                            .oneshot(request)
                            .await
                            .unwrap()
                            .into_parts();
                        let bytes = match body {
                            Body::Text(text) => Bytes::from(text),
                            Body::Binary(bytes) => Bytes::from(bytes),
                            _ => Bytes::new(),
                        };
                        Ok::<_, std::convert::Infallible>(Response::from_parts(
                            parts,
                            Full::new(bytes),
                        ))
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
}

#[tokio::test]
async fn attribute_under_lambda_http() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let url = format!(
        "{}/.netlify/functions/user-created",
        lambda::serve(local.webhook_secrets()).await
    );
    let (answer, ran) = counting(&lambda::RUNS, deliver(&local, &url, &created("Ava"))).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(ran, 1);
    assert_eq!(
        answer.body,
        json!({ "same_body": true, "first_name": "Ava" })
    );

    let (answer, ran) = counting(
        &lambda::RUNS,
        deliver(&local, &url, &created("Eve").signed_with(OTHER_SECRET)),
    )
    .await;
    assert_eq!(
        refused(&answer, 401, "unauthenticated"),
        "signature_mismatch"
    );
    assert_eq!(ran, 0);
    let (answer, ran) = counting(
        &lambda::RUNS,
        deliver(&local, &url, &created("Ava").timestamp(NOW - 3600)),
    )
    .await;
    assert_eq!(refused(&answer, 401, "unauthenticated"), "stale_timestamp");
    assert_eq!(ran, 0);
    let (answer, ran) = counting(
        &lambda::RUNS,
        deliver(
            &local,
            &url,
            &OutgoingEvent::new("session.created", json!({})).timestamp(NOW),
        ),
    )
    .await;
    assert_eq!(answer.status, 204);
    assert_eq!(ran, 0);
}

mod hyper_incoming {
    //! hyper's `service_fn` with the read-only `Incoming` body (vercel_runtime's `Request` is
    //! the same type): the handler gets the body back as `Full<Bytes>`.

    use super::*;
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper::{Request, Response};
    use hyper_util::rt::TokioIo;
    use std::convert::Infallible;

    pub static RUNS: AtomicUsize = AtomicUsize::new(0);

    #[wacht::webhook]
    pub async fn hook(
        req: Request<Incoming>,
        event: WebhookEvent,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        RUNS.fetch_add(1, Ordering::SeqCst);
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let echo = json!({ "same_body": body.as_ref() == event.raw(), "type": event.event_type() });
        Ok(Response::new(Full::new(Bytes::from(echo.to_string()))))
    }

    pub async fn serve(secrets: WebhookSecrets) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let secrets = secrets.clone();
                let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(secrets.clone());
                    req.extensions_mut().insert(context());
                    hook(req)
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
}

#[tokio::test]
async fn attribute_under_hyper_with_a_read_only_body() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let url = hyper_incoming::serve(local.webhook_secrets()).await;
    let (answer, ran) = counting(
        &hyper_incoming::RUNS,
        deliver(&local, &url, &created("Ava")),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(ran, 1);
    assert_eq!(
        answer.body,
        json!({ "same_body": true, "type": "user.created" })
    );
    let (answer, ran) = counting(
        &hyper_incoming::RUNS,
        deliver(&local, &url, &created("Ava").signed_with(OTHER_SECRET)),
    )
    .await;
    assert_eq!(
        refused(&answer, 401, "unauthenticated"),
        "signature_mismatch"
    );
    assert_eq!(ran, 0);
}

mod layer_and_extractor {
    //! `wacht::layer::webhook` with the `WebhookEvent` extractor behind it, and the extractor
    //! alone.

    use super::*;
    use axum::Router;
    use axum::extract::State;
    use axum::routing::post;
    use std::sync::Arc;

    pub async fn handler(
        State(runs): State<Arc<AtomicUsize>>,
        event: WebhookEvent,
    ) -> (http::StatusCode, String) {
        runs.fetch_add(1, Ordering::SeqCst);
        let status = if event.data()["first_name"] == "fail" {
            http::StatusCode::INTERNAL_SERVER_ERROR
        } else {
            http::StatusCode::OK
        };
        (status, format!("{} {}", event.id(), event.event_type()))
    }

    /// The two routes, and the counter of the handler's runs.
    pub async fn serve(settings: Webhook) -> (String, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let layered = Router::new()
            .route("/layered", post(handler))
            .route_layer(wacht::layer::webhook(settings.clone()));
        let alone = Router::new()
            .route("/alone", post(handler))
            .layer(axum::Extension(settings));
        let app = layered
            .merge(alone)
            .layer(axum::Extension(context()))
            .with_state(Arc::clone(&runs));
        (serve_axum(app).await, runs)
    }
}

#[tokio::test]
async fn layer_and_extractor_answer_as_the_attribute() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let settings = Webhook::builder()
        .secrets_text(&local.webhook_secret())
        .events(["user.created"])
        .max_body_bytes(4096)
        .build()
        .unwrap();
    let (base, runs) = layer_and_extractor::serve(settings).await;
    let runs = &*runs;
    for route in ["layered", "alone"] {
        let url = format!("{base}/{route}");
        let (answer, ran) =
            counting(runs, deliver(&local, &url, &created("Ava").id("msg_9"))).await;
        assert_eq!(answer.status, 200, "{route}: {}", answer.text);
        assert_eq!(answer.text, "msg_9 user.created");
        assert_eq!(ran, 1);
        let cases = [
            (
                created("Eve").signed_with(OTHER_SECRET),
                401,
                "unauthenticated",
                "signature_mismatch",
            ),
            (
                created("Ava").timestamp(NOW + 3600),
                401,
                "unauthenticated",
                "future_timestamp",
            ),
            (
                OutgoingEvent::new("user.created", json!({ "bio": "x".repeat(5000) }))
                    .timestamp(NOW),
                413,
                "payload_too_large",
                "body_too_large",
            ),
            (
                created("Ava").header("webhook-signature", "v1"),
                401,
                "unauthenticated",
                "unsupported_signature_version",
            ),
        ];
        for (event, status, error, reason) in cases {
            let (answer, ran) = counting(runs, deliver(&local, &url, &event)).await;
            assert_eq!(refused(&answer, status, error), reason, "{route}");
            assert_eq!(ran, 0, "{route}");
        }
        let (answer, ran) = counting(
            runs,
            deliver(
                &local,
                &url,
                &OutgoingEvent::new("user.updated", user("Ava")).timestamp(NOW),
            ),
        )
        .await;
        assert_eq!(answer.status, 204, "{route}");
        assert_eq!(ran, 0, "{route}");
    }
}

#[tokio::test]
async fn the_layer_with_a_delivery_log_and_the_extractor_refusing_one() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let settings = Webhook::builder()
        .secrets_text(&local.webhook_secret())
        .delivery_log(MemoryDeliveryLog::new())
        .build()
        .unwrap();
    let (base, runs) = layer_and_extractor::serve(settings).await;
    let runs = &*runs;
    let url = format!("{base}/layered");
    let failing = created("fail").id("msg_l1");
    for expected in [500, 500] {
        let (answer, ran) = counting(runs, deliver(&local, &url, &failing)).await;
        assert_eq!(answer.status, expected);
        assert_eq!(ran, 1);
    }
    let fixed = created("ok").id("msg_l1");
    let (answer, ran) = counting(runs, deliver(&local, &url, &fixed)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(ran, 1);
    let (answer, ran) = counting(runs, deliver(&local, &url, &fixed)).await;
    assert_eq!(answer.status, 204);
    assert_eq!(ran, 0);

    // The extractor alone cannot finish a claim: it refuses rather than skip the log.
    let (answer, ran) = counting(runs, deliver(&local, &format!("{base}/alone"), &fixed)).await;
    assert_eq!(
        refused(&answer, 500, "auth_misconfigured"),
        "delivery_log_needs_layer"
    );
    assert_eq!(ran, 0);
}

#[test]
fn the_macros_event_types_are_the_runtimes() {
    let source = include_str!("../wacht-macros/src/webhook.rs");
    let start = source.find("// BEGIN EVENT TYPES").unwrap();
    let end = source.find("// END EVENT TYPES").unwrap();
    let listed: Vec<&str> = source[start..end]
        .lines()
        .filter_map(|line| line.trim().strip_prefix('"'))
        .filter_map(|line| line.strip_suffix("\","))
        .collect();
    assert_eq!(listed, wacht::webhook::EVENT_TYPES);
}

#[test]
fn refusals_are_logged_with_the_id_never_the_secret_or_the_body() {
    let _serial = SERIAL.blocking_lock();
    let local = LocalWacht::start().unwrap();
    let settings = Webhook::builder()
        .secrets_text(&local.webhook_secret())
        .build()
        .unwrap();
    let (logs, guard) = common::capture_logs();
    let marker = "a-personal-detail-7f3a";
    for event in [
        created(marker).id("msg_logged").signed_with(OTHER_SECRET),
        created(marker).id("msg_logged").timestamp(NOW - 3600),
    ] {
        let request = local.webhook_request("/hooks", &event);
        let (parts, body) = request.into_parts();
        assert!(
            settings
                .verify_at(&parts.headers, body.into(), NOW)
                .is_err()
        );
    }
    drop(guard);
    let text = logs.text();
    assert!(text.contains("webhook delivery refused"), "{text}");
    assert!(
        text.contains("msg_logged") && text.contains("signature_mismatch"),
        "{text}"
    );
    assert!(text.contains("stale_timestamp"), "{text}");
    let secret = local.webhook_secret();
    for leak in [marker, &secret["whsec_".len()..], OTHER_SECRET, "whsec_"] {
        assert!(!text.contains(leak), "the log holds {leak:?}: {text}");
    }
    // Debug forms show no body or key either.
    let webhook_debug = format!("{settings:?}");
    assert!(
        !webhook_debug.contains(&secret["whsec_".len()..]),
        "{webhook_debug}"
    );
}
