//! `BackendClient` as the transport of the backend API's operations
//! (`wacht::backend_api::Call`), against a scripted server on 127.0.0.1 that records every
//! request: the request's shape for each method and body, retries of idempotent calls on
//! 429/503 within the timeout, redirects never followed, the API key kept out of every error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body as AxumBody;
use axum::extract::State;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use wacht::backend_api::types::UsersListQuery;
use wacht::backend_api::{Call, File, Form, Page, form_body, json_body, segment};
use wacht::{BackendClient, BackendError};

const KEY: &str = "sk_test_TRANSPORTkeyNEVERshown";

/// Held by every test of this file: they run one at a time (timings, captured logs).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }
}

/// One scripted answer. `{key}` in the body is replaced by the bearer key the request sent.
#[derive(Debug, Clone)]
struct Scripted {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

impl Scripted {
    fn status(status: u16) -> Self {
        Scripted {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: json!({"message": format!("HTTP {status}"), "code": status}).to_string(),
            delay: Duration::ZERO,
        }
    }

    fn json(status: u16, body: &Value) -> Self {
        Scripted {
            body: body.to_string(),
            ..Scripted::status(status)
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// The scripted server: answers in order, the last one repeated; records every request.
#[derive(Clone)]
struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start(replies: impl IntoIterator<Item = Scripted>) -> Self {
        let replies = Arc::new(Mutex::new(replies.into_iter().collect::<VecDeque<_>>()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = (replies, seen.clone());
        let app = axum::Router::new().fallback(answer).with_state(state);
        let url = common::serve_axum(app).await;
        Server { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    fn client(&self) -> BackendClient {
        BackendClient::new(&self.url, KEY).unwrap()
    }
}

type ServerState = (Arc<Mutex<VecDeque<Scripted>>>, Arc<Mutex<Vec<Seen>>>);

async fn answer(
    State((replies, seen)): State<ServerState>,
    req: Request<AxumBody>,
) -> Response<AxumBody> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec();
    let key = parts
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    seen.lock().unwrap().push(Seen {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    });
    let scripted = {
        let mut replies = replies.lock().unwrap();
        if replies.len() > 1 {
            replies.pop_front().unwrap()
        } else {
            replies.front().cloned().expect("a scripted answer")
        }
    };
    tokio::time::sleep(scripted.delay).await;
    let mut response = Response::builder().status(scripted.status);
    for (name, value) in &scripted.headers {
        response = response.header(*name, value);
    }
    response
        .body(AxumBody::from(scripted.body.replace("{key}", &key)))
        .unwrap()
}

fn get(path: &str) -> Call {
    Call::new("getThing", Method::GET, path.to_owned())
}

fn post(path: &str, body: &Value) -> Call {
    let mut call = Call::new("createThing", Method::POST, path.to_owned());
    call.body = json_body(body).unwrap();
    call
}

/// The parts of a `multipart/form-data` body: (headers, content) each.
fn multipart_parts(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delimiter = format!("--{boundary}").into_bytes();
    let close = format!("--{boundary}--\r\n").into_bytes();
    assert!(body.starts_with(&delimiter), "starts with the boundary");
    assert!(body.ends_with(&close), "ends with the closing boundary");
    let mut parts = Vec::new();
    let mut rest = &body[delimiter.len()..];
    while rest.starts_with(b"\r\n") {
        rest = &rest[2..];
        let end = find(rest, &[b"\r\n".as_slice(), &delimiter].concat()).expect("a next boundary");
        let part = &rest[..end];
        let split = find(part, b"\r\n\r\n").expect("headers, then content");
        let headers = String::from_utf8(part[..split].to_vec()).unwrap();
        parts.push((headers, part[split + 4..].to_vec()));
        rest = &rest[end + 2 + delimiter.len()..];
    }
    assert_eq!(rest, b"--\r\n", "nothing after the closing boundary");
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

// ----- the request's shape -----

#[tokio::test]
async fn get_sends_the_path_query_key_and_accept_and_no_body() {
    let _serial = SERIAL.lock().await;
    let server = Server::start([Scripted::json(200, &json!({"id": "1"}))]).await;
    let client = server.client();
    let mut call = get(&format!("/users/{}/notes", segment("a/b c")));
    call.query = vec![
        ("limit", "2".to_owned()),
        ("search", "ada l&x=1".to_owned()),
    ];
    let value: Value = client.send(call).await.unwrap();
    assert_eq!(value, json!({"id": "1"}));
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.path, "/users/a%2Fb%20c/notes");
    assert_eq!(
        request.query.as_deref(),
        Some("limit=2&search=ada+l%26x%3D1")
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.header("content-type"), None);
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn post_sends_json_with_its_content_type() {
    let _serial = SERIAL.lock().await;
    let server = Server::start([Scripted::json(201, &json!({"id": "42"}))]).await;
    let document = json!({"name": "Acme", "tags": ["a", "b"], "nested": {"n": 1}});
    let value: Value = server
        .client()
        .send(post("/organizations", &document))
        .await
        .unwrap();
    assert_eq!(value["id"], "42");
    let request = &server.seen()[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/organizations");
    assert_eq!(request.query, None);
    assert_eq!(request.header("content-type"), Some("application/json"));
    let sent: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(sent, document);
}

#[tokio::test]
async fn patch_sends_a_multipart_form_with_a_random_boundary() {
    let _serial = SERIAL.lock().await;
    let server = Server::start([Scripted::json(200, &json!({"ok": true}))]).await;
    let client = server.client();
    let png = b"\x89PNG\r\n\x1a\n--not-a-boundary\r\n\0binary".to_vec();
    let call = || {
        let mut form = Form::new();
        form.text("first_name", "Ada");
        form.text("note", "line one\r\nline two");
        form.file(
            "profile_image",
            File::new(png.clone(), "ada.png", "image/png"),
        );
        let mut call = Call::new("updateUser", Method::PATCH, "/users/1".to_owned());
        call.body = form_body(form);
        call
    };
    let _: Value = client.send(call()).await.unwrap();
    let _: Value = client.send(call()).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let mut boundaries = Vec::new();
    for request in &seen {
        assert_eq!(request.method, Method::PATCH);
        assert_eq!(request.path, "/users/1");
        let content_type = request.header("content-type").unwrap();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap_or_else(|| panic!("{content_type}"));
        assert_eq!(boundary.len(), 32, "{boundary}");
        assert!(
            boundary.bytes().all(|b| b.is_ascii_hexdigit()),
            "{boundary}"
        );
        let parts = multipart_parts(&request.body, boundary);
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0].0,
            "Content-Disposition: form-data; name=\"first_name\""
        );
        assert_eq!(parts[0].1, b"Ada");
        assert_eq!(parts[1].1, b"line one\r\nline two");
        assert_eq!(
            parts[2].0,
            "Content-Disposition: form-data; name=\"profile_image\"; filename=\"ada.png\"\r\n\
             Content-Type: image/png"
        );
        assert_eq!(parts[2].1, png);
        boundaries.push(boundary.to_owned());
    }
    assert_ne!(boundaries[0], boundaries[1], "a new boundary per call");
}

#[tokio::test]
async fn delete_sends_no_body_and_an_empty_answer_reads_as_null() {
    let _serial = SERIAL.lock().await;
    let server = Server::start([Scripted {
        body: String::new(),
        ..Scripted::status(204)
    }])
    .await;
    let call = Call::new("deleteUser", Method::DELETE, "/users/318".to_owned());
    let value: Value = server.client().send(call).await.unwrap();
    assert_eq!(value, Value::Null);
    let request = &server.seen()[0];
    assert_eq!(request.method, Method::DELETE);
    assert_eq!(request.path, "/users/318");
    assert!(request.body.is_empty());
    assert_eq!(request.header("content-type"), None);
}

#[tokio::test]
async fn a_dot_segment_is_refused_before_anything_is_sent() {
    let _serial = SERIAL.lock().await;
    let server = Server::start([Scripted::status(200)]).await;
    // URL parsers resolve `..` and `%2E%2E` alike: `/users/%2E%2E/organizations` would be a
    // call on `/organizations`.
    for id in ["..", "."] {
        let path = format!("/users/{}/organizations", segment(id));
        let call = Call::new("deleteUser", Method::DELETE, path);
        let error = server.client().send::<Value>(call).await.unwrap_err();
        assert!(
            matches!(error, BackendError::InvalidRequest(_)),
            "{error:?}"
        );
    }
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn without_a_key_nothing_is_sent() {
    let _serial = SERIAL.lock().await;
    let server = Server::start([Scripted::status(200)]).await;
    let client = BackendClient::new(&server.url, "").unwrap();
    let error = client.send::<Value>(get("/users")).await.unwrap_err();
    assert_eq!(error, BackendError::MissingApiKey);
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn the_users_list_goes_over_the_transport() {
    let _serial = SERIAL.lock().await;
    let server = Server::start([Scripted::json(
        200,
        &json!({"data": [{"id": "7", "created_at": "2024-01-01T00:00:00Z",
                          "updated_at": "2024-01-01T00:00:00Z", "first_name": "Ada",
                          "last_name": "Lovelace", "profile_picture_url": ""}],
                "has_more": true, "limit": 1, "offset": 3}),
    )])
    .await;
    let page: Page<wacht::backend_api::types::UserWithIdentifiers> = server
        .client()
        .users()
        .list(UsersListQuery::new().limit(1).offset(3).search("ada"))
        .await
        .unwrap();
    assert_eq!(page.data[0].first_name, "Ada");
    assert!(page.has_more);
    let request = &server.seen()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/users")
    );
    assert_eq!(
        request.query.as_deref(),
        Some("offset=3&limit=1&search=ada")
    );
}

// ----- retries -----

#[tokio::test(flavor = "current_thread")]
async fn an_idempotent_call_is_retried_on_503_and_logged_without_the_key() {
    let _serial = SERIAL.lock().await;
    let (captured, _default) = common::capture_logs();
    let server = Server::start([
        Scripted::json(503, &json!({"message": "busy {key}"})),
        Scripted::status(503),
        Scripted::json(200, &json!({"id": "1"})),
    ])
    .await;
    let started = Instant::now();
    let value: Value = server.client().send(get("/users/1")).await.unwrap();
    assert_eq!(value["id"], "1");
    assert_eq!(server.hits(), 3);
    // Two back-offs: about 200 ms then 400 ms, less up to half.
    assert!(started.elapsed() >= Duration::from_millis(300));
    let logs = captured.text();
    assert_eq!(logs.matches("retrying").count(), 2, "{logs}");
    assert!(logs.contains("operation=\"getThing\"") || logs.contains("operation=getThing"));
    assert!(logs.contains("status=503"), "{logs}");
    assert!(!logs.contains("TRANSPORTkey"), "{logs}");
    assert!(!logs.contains("busy"), "no body is logged: {logs}");
}

#[tokio::test]
async fn at_most_three_attempts_then_the_503_is_returned() {
    let _serial = SERIAL.lock().await;
    let server = Server::start([Scripted::status(503)]).await;
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        server.seen.lock().unwrap().clear();
        let call = Call::new("thing", method.clone(), "/things/1".to_owned());
        let error = server.client().send::<Value>(call).await.unwrap_err();
        assert_eq!(
            error.status(),
            Some(StatusCode::SERVICE_UNAVAILABLE),
            "{method}"
        );
        assert_eq!(error.body().unwrap().message(), "HTTP 503");
        assert_eq!(server.hits(), 3, "{method}");
    }
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let _serial = SERIAL.lock().await;
    let server = Server::start([
        Scripted::status(429).header("retry-after", "1"),
        Scripted::json(200, &json!({"id": "1"})),
    ])
    .await;
    let started = Instant::now();
    let value: Value = server.client().send(get("/users/1")).await.unwrap();
    assert_eq!(value["id"], "1");
    assert_eq!(server.hits(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_past_the_timeout_is_returned_at_once() {
    let _serial = SERIAL.lock().await;
    let server = Server::start([
        Scripted::status(429).header("retry-after", "100"),
        Scripted::json(200, &json!({"id": "1"})),
    ])
    .await;
    let client = server.client().timeout(Duration::from_secs(2));
    let started = Instant::now();
    let error = client.send::<Value>(get("/users/1")).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn post_and_patch_are_never_sent_twice() {
    let _serial = SERIAL.lock().await;
    for status in [503, 429] {
        // Sent again, a call would meet a second answer of the same kind (hits would show it).
        let server = Server::start([Scripted::status(status).header("retry-after", "0")]).await;
        let error = server
            .client()
            .send::<Value>(post("/users", &json!({"first_name": "Ada"})))
            .await
            .unwrap_err();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.hits(), 1);
        let mut patch = Call::new("updateUser", Method::PATCH, "/users/1".to_owned());
        patch.body = json_body(&json!({"first_name": "Ada"})).unwrap();
        let error = server.client().send::<Value>(patch).await.unwrap_err();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.hits(), 2);
    }
}

#[tokio::test]
async fn a_503_once_the_budget_is_spent_is_returned_within_the_timeout() {
    let _serial = SERIAL.lock().await;
    // Each answer takes 700 ms: the first retry fits in 2 s, a second one would not.
    let server = Server::start([Scripted::status(503).after(Duration::from_millis(700))]).await;
    let client = server.client().timeout(Duration::from_secs(2));
    let started = Instant::now();
    let error = client.send::<Value>(get("/users/1")).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        error.status(),
        Some(StatusCode::SERVICE_UNAVAILABLE),
        "{error}"
    );
    assert_eq!(server.hits(), 2);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn other_errors_are_not_retried() {
    let _serial = SERIAL.lock().await;
    for status in [500, 502, 504, 404] {
        let server = Server::start([Scripted::status(status)]).await;
        let error = server
            .client()
            .send::<Value>(get("/users/1"))
            .await
            .unwrap_err();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.hits(), 1, "{status}");
    }
}

// ----- redirects and the key -----

#[tokio::test]
async fn redirects_are_never_followed() {
    let _serial = SERIAL.lock().await;
    for status in [301, 302, 307, 308] {
        let server =
            Server::start([Scripted::status(status).header("location", "/elsewhere")]).await;
        for call in [get("/users/1"), post("/users", &json!({}))] {
            let error = server.client().send::<Value>(call).await.unwrap_err();
            assert_eq!(
                error,
                BackendError::Redirect {
                    status: StatusCode::from_u16(status).ok()
                }
            );
        }
        let seen = server.seen();
        assert_eq!(seen.len(), 2, "{status}");
        assert!(seen.iter().all(|request| request.path != "/elsewhere"));
    }
}

#[tokio::test]
async fn an_echoed_key_never_reaches_an_error() {
    let _serial = SERIAL.lock().await;
    let cases = [
        Scripted::json(
            401,
            &json!({"errors": [{"message": "bad key {key}", "code": "{key}"}]}),
        ),
        Scripted::json(
            400,
            &json!({"message": "bad {key}", "code": "{key}", "details": {"{key}": ["{key}"]}}),
        ),
        Scripted {
            body: "upstream saw Bearer {key}".to_owned(),
            ..Scripted::status(503)
        },
        Scripted::json(200, &json!({"data": "{key}", "has_more": "{key}"})),
    ];
    for scripted in cases {
        let server = Server::start([scripted.clone()]).await;
        let error = server
            .client()
            .send::<Page<wacht::backend_api::types::UserWithIdentifiers>>(get("/users"))
            .await
            .unwrap_err();
        let shown = format!(
            "{error} {error:?} {}",
            error
                .body()
                .map(|b| format!("{b} {b:?} {:?}", b.details()))
                .unwrap_or_default()
        );
        assert!(
            server
                .seen()
                .iter()
                .all(|r| r.header("authorization") == Some(&format!("Bearer {KEY}"))),
            "the key was sent"
        );
        assert!(!shown.contains("TRANSPORTkey"), "{scripted:?}: {shown}");
        assert!(shown.contains("***") || scripted.status == 200, "{shown}");
    }
}
