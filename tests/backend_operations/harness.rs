//! The checks of the generated rows: a recording server on 127.0.0.1, the request it saw, the
//! answer decoded and encoded back.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use futures_util::future::BoxFuture;
use serde_json::Value;
use wacht::backend_api::{Backend, Error};

/// The API key the rows' client sends.
const KEY: &str = "sk_test_operations_key";

/// What a row's operation must send.
pub enum Sent {
    /// No body.
    Empty,
    /// This JSON document.
    Json(&'static str),
    /// These form fields, in order: name, text (a file's bytes), whether it is a file.
    Form(&'static [(&'static str, &'static str, bool)]),
}

/// One operation: what it must send and what it is answered.
pub struct Row {
    pub id: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub query: &'static [(&'static str, &'static str)],
    pub sent: Sent,
    /// The answer (JSON), which must decode and encode back to itself.
    pub answer: &'static str,
    pub call: for<'a> fn(&'a Backend) -> BoxFuture<'a, Result<Value, Error>>,
}

/// A decoded answer as JSON.
pub fn json<T: serde::Serialize>(value: T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::InvalidResponse(e.to_string()))
}

/// A row's body, decoded from its sample.
pub fn body<T: serde::de::DeserializeOwned>(sample: &str) -> Result<T, Error> {
    serde_json::from_str(sample).map_err(|e| Error::InvalidRequest(format!("sample body: {e}")))
}

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Default)]
struct Recorder {
    answer: String,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<Recorder>>;

async fn record(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ([(&'static str, &'static str); 1], String) {
    let mut recorder = state.lock().expect("recorder lock");
    recorder.seen.push(Seen {
        method,
        uri,
        headers,
        body,
    });
    (
        [("content-type", "application/json")],
        recorder.answer.clone(),
    )
}

/// Runs every row against one recording server; panics listing every row that failed.
pub async fn check(rows: &[Row]) {
    let state: Shared = Arc::default();
    let app = axum::Router::new()
        .fallback(record)
        .with_state(Arc::clone(&state));
    let url = crate::common::serve_axum(app).await;
    let client = wacht_runtime::BackendClient::new(&url, KEY).expect("client");
    let mut failures = Vec::new();
    for row in rows {
        {
            let mut recorder = state.lock().expect("recorder lock");
            recorder.answer = row.answer.to_owned();
            recorder.seen.clear();
        }
        let decoded = (row.call)(&client).await;
        let seen = state.lock().expect("recorder lock").seen.clone();
        if let Err(why) = compare(row, decoded, &seen) {
            failures.push(format!("{}: {why}", row.id));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} operations failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

fn compare(row: &Row, decoded: Result<Value, Error>, seen: &[Seen]) -> Result<(), String> {
    let [seen] = seen else {
        return Err(format!("{} requests seen, expected 1", seen.len()));
    };
    if seen.method.as_str() != row.method {
        return Err(format!("method {} (expected {})", seen.method, row.method));
    }
    if seen.uri.path() != row.path {
        return Err(format!("path {} (expected {})", seen.uri.path(), row.path));
    }
    let query: Vec<(String, String)> = match seen.uri.query() {
        Some(q) => reqwest::Url::parse(&format!("http://x/?{q}"))
            .map_err(|e| e.to_string())?
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        None => Vec::new(),
    };
    let expected: Vec<(String, String)> = row
        .query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if query != expected {
        return Err(format!("query {query:?} (expected {expected:?})"));
    }
    let header = |name: &str| {
        seen.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    if header("authorization") != format!("Bearer {KEY}") {
        return Err("no bearer key".into());
    }
    match &row.sent {
        Sent::Empty => {
            if !seen.body.is_empty() {
                return Err(format!(
                    "a body of {} bytes, expected none",
                    seen.body.len()
                ));
            }
        }
        Sent::Json(sample) => {
            if header("content-type") != "application/json" {
                return Err(format!("content-type {}", header("content-type")));
            }
            let sent: Value = serde_json::from_slice(&seen.body).map_err(|e| e.to_string())?;
            let sample: Value = serde_json::from_str(sample).map_err(|e| e.to_string())?;
            if sent != sample {
                return Err(format!("body {sent} (expected {sample})"));
            }
        }
        Sent::Form(fields) => {
            let content_type = header("content-type");
            let boundary = content_type
                .strip_prefix("multipart/form-data; boundary=")
                .ok_or_else(|| format!("content-type {content_type}"))?;
            let parts = parse_form(&seen.body, boundary)?;
            let expected: Vec<(String, String, bool)> = fields
                .iter()
                .map(|(n, t, f)| ((*n).to_owned(), (*t).to_owned(), *f))
                .collect();
            if parts != expected {
                return Err(format!("form {parts:?} (expected {expected:?})"));
            }
        }
    }
    let decoded = decoded.map_err(|e| format!("call failed: {e}"))?;
    let answer: Value = serde_json::from_str(row.answer).map_err(|e| e.to_string())?;
    if decoded != answer {
        return Err(format!("decoded {decoded} (answered {answer})"));
    }
    Ok(())
}

/// The parts of a `multipart/form-data` body: name, text, whether it had a file name.
fn parse_form(body: &[u8], boundary: &str) -> Result<Vec<(String, String, bool)>, String> {
    let text = String::from_utf8(body.to_vec()).map_err(|e| e.to_string())?;
    let delimiter = format!("--{boundary}");
    let closing = format!("{delimiter}--\r\n");
    let inner = text.strip_suffix(&closing).ok_or("no closing delimiter")?;
    let mut parts = Vec::new();
    for chunk in inner.split(&format!("{delimiter}\r\n")).skip(1) {
        let chunk = chunk.strip_suffix("\r\n").ok_or("a part without CRLF")?;
        let (head, value) = chunk
            .split_once("\r\n\r\n")
            .ok_or("a part without headers")?;
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or("a part without a name")?;
        parts.push((
            name.to_owned(),
            value.to_owned(),
            head.contains("filename="),
        ));
    }
    Ok(parts)
}

/// Checks every minimal answer decodes.
pub fn check_minimal(rows: &[(&str, &str, fn(&str) -> Result<(), serde_json::Error>)]) {
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(id, text, decode)| decode(text).err().map(|e| format!("{id}: {e}: {text}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} minimal answers did not decode:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
