//! What the behaviour tests share: sending a request, counting handler-body runs, and checking
//! the rejection shape.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::{HeaderMap, StatusCode};
use serde_json::Value;

/// A response, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON (`null` when it is not JSON).
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// An answer from its parts, for responses that did not come over HTTP (a Lambda
    /// function's, for instance).
    pub fn from_parts(status: StatusCode, headers: HeaderMap, text: String) -> Self {
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }
}

/// Sends `request` and reads the whole answer.
pub async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Answer::from_parts(status, headers, text)
}

/// A `GET` of `url` with these headers, on a fresh client.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

/// Runs `call`, returning what it returned and how many times `runs` went up meanwhile.
///
/// Exact only while nothing else bumps `runs` at the same time: a counter shared by tests
/// that run in parallel needs those tests serialized.
pub async fn counting<T>(runs: &AtomicUsize, call: impl Future<Output = T>) -> (T, usize) {
    let before = runs.load(Ordering::SeqCst);
    let value = call.await;
    (value, runs.load(Ordering::SeqCst) - before)
}

/// Asserts the one rejection shape (status, JSON `error`, a message, `no-store`, the RFC 6750
/// challenge on 401s, no decoder or library text) and returns the `reason`.
pub fn rejected(answer: &Answer, status: u16, error: &str) -> String {
    assert_eq!(answer.status.as_u16(), status, "body: {}", answer.text);
    assert_eq!(answer.headers["content-type"], "application/json");
    assert_eq!(answer.headers["cache-control"], "no-store");
    assert_eq!(answer.body["error"], error, "{}", answer.text);
    assert!(
        answer.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    if status == 401 {
        let challenge = answer.headers["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.starts_with("Bearer realm=\"wacht\""),
            "{challenge}"
        );
    } else {
        assert!(!answer.headers.contains_key("www-authenticate"));
    }
    for leak in [
        "base64",
        "Base64",
        "serde",
        "Error(",
        "InvalidByte",
        "ErrorKind",
        "line 1",
        "column",
        "reqwest",
        "hyper",
    ] {
        assert!(
            !answer.text.contains(leak),
            "body leaks {leak:?}: {}",
            answer.text
        );
    }
    answer.body["reason"].as_str().unwrap().to_owned()
}

/// A `tracing` writer into a shared buffer (for `tracing_subscriber::fmt().with_writer`).
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Captures every `tracing` event of this thread (TRACE and up) until the guard drops. Use
/// it on a current-thread runtime, with the test serialized against others sharing callsites.
pub fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

/// Serves an axum app on a free loopback port (a task of the current runtime); its URL.
pub async fn serve_axum(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}
