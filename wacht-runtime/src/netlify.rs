//! Netlify Functions in Rust (feature `netlify`): [`run`] instead of `lambda_http::run`.
//!
//! A Rust function on Netlify is a Lambda function: it polls the Lambda Runtime API, and
//! `lambda_http` turns each event into an `http::Request`. Netlify's own local tooling
//! (`netlify functions:serve` / `netlify dev` with the CLI's Rust runtime, measured with
//! netlify-cli 26.2.0) sends events that `lambda_http` 1.x refuses whole: for a site that is
//! not linked, `multiValueHeaders` holds `"x-nf-account-id": [null]`, and a header value that
//! is not a string makes the event match none of the shapes `lambda_http` knows. The
//! function then answers nothing, and the CLI shows the caller a 500 "Your function response
//! must have a numerical statusCode".
//!
//! [`run`] is `lambda_http::run` with one layer in front ([`EventLayer`]) that, before
//! `lambda_http` reads an event:
//!
//! - drops `null` values from `headers`, `multiValueHeaders`, `queryStringParameters`,
//!   `multiValueQueryStringParameters`, `pathParameters` and `stageVariables` (a name whose
//!   list is left empty is dropped too): a `null` is no value, so the request simply does not
//!   carry that header or parameter;
//! - clears `isBase64Encoded` when there is no body (the CLI sends `isBase64Encoded: true`
//!   and no `body` for a GET without a content type).
//!
//! Nothing is added, and no other field is touched: an event that still fits no known
//! shape is refused by `lambda_http` as before (the invocation fails; no handler runs), and
//! an event that is not a JSON object is passed on unchanged. Every other event reaches
//! `lambda_http` byte for byte as it came, so the same binary serves AWS Lambda (API Gateway
//! REST and HTTP APIs, function URLs) exactly as `lambda_http::run` does.
//!
//! The answer is `lambda_http`'s for the event's shape. For Netlify's (API Gateway REST,
//! payload 1.0) that is `{"statusCode": <number>, "headers": {}, "multiValueHeaders":
//! {...}, "body": "<text>", "isBase64Encoded": <bool>}`, binary bodies in base64: the shape
//! Netlify reads.
//!
//! What is known about Netlify's production events: they are documented as this payload 1.0
//! shape, but could not be observed here; the tolerance above applies to them too. The
//! synthetic `requestContext` the CLI adds (`identity`, `user` and `custom` decoded, unverified,
//! from a JWT in `Authorization`) is never read by `wacht`: checks read the request's headers.
//!
//! ```no_run
//! use lambda_http::{Body, Error, Request, Response, service_fn};
//!
//! // With the `wacht` facade: `#[wacht::protect(permission = "user:read")]` on it.
//! async fn handler(_req: Request) -> Result<Response<Body>, Error> {
//!     Ok(Response::new("hello".into()))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     // `wacht::netlify::run` through the facade.
//!     wacht_runtime::netlify::run(service_fn(handler)).await
//! }
//! ```

use std::task::{Context, Poll};

use lambda_http::lambda_runtime::tower::{Layer, Service};
use lambda_http::lambda_runtime::{Diagnostic, LambdaInvocation};
use lambda_http::{IntoResponse, Request};
use serde_json::{Map, Value};

/// Serves `handler` as a Lambda function, as `lambda_http::run` does, reading Netlify's
/// events too (see the [module](self) documentation): call it from `main` instead of
/// `lambda_http::run`.
///
/// Runs until the Lambda Runtime API stops answering. Like `lambda_http::run`, it needs the
/// Lambda environment (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`, …), which
/// Netlify, AWS Lambda, `netlify functions:serve` and `cargo lambda watch` set.
///
/// # Errors
///
/// The Runtime API could not be reached, or the runtime stopped.
pub async fn run<R, S, E>(handler: S) -> Result<(), lambda_http::Error>
where
    S: Service<Request, Response = R, Error = E> + Send + 'static,
    S::Future: Send + 'static,
    R: IntoResponse + Send + Sync + 'static,
    E: std::fmt::Debug + Into<Diagnostic> + Send + 'static,
{
    lambda_http::runtime(handler).layer(EventLayer).run().await
}

/// Turns one event, as the Lambda Runtime API delivers it, into the request [`run`] hands
/// the handler (without the invocation's Lambda context): the same tolerance, then
/// `lambda_http`'s reading. For tests of a handler with recorded events.
///
/// ```
/// let event = br#"{"path": "/.netlify/functions/users", "httpMethod": "GET",
///     "headers": {"x-api-key": "wk_test_123"},
///     "multiValueHeaders": {"x-api-key": ["wk_test_123"], "x-nf-account-id": [null]},
///     "queryStringParameters": {}, "multiValueQueryStringParameters": {},
///     "isBase64Encoded": true, "requestContext": {"httpMethod": "GET", "requestTimeEpoch": 0}}"#;
/// let request = wacht_runtime::netlify::request_from_event(event).unwrap();
/// assert_eq!(request.uri().path(), "/.netlify/functions/users");
/// assert!(request.headers().get("x-nf-account-id").is_none());
/// ```
///
/// # Errors
///
/// The event is not JSON or fits none of the shapes `lambda_http` reads (API Gateway REST
/// and HTTP APIs, function URLs).
pub fn request_from_event(event: &[u8]) -> Result<Request, serde_json::Error> {
    let tolerated = tolerate(event);
    let text = tolerated.as_deref().unwrap_or(event);
    lambda_http::request::from_str(std::str::from_utf8(text).map_err(|_| {
        <serde_json::Error as serde::de::Error>::custom("the event is not UTF-8 text")
    })?)
}

/// The layer [`run`] puts in front of `lambda_http`'s runtime, for functions that build
/// their own (`lambda_http::runtime(handler).layer(wacht::netlify::EventLayer)`, e.g. to
/// add SnapStart resources). Rewrites an invocation's event as the [module](self)
/// documentation says, before it is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventLayer;

impl<S> Layer<S> for EventLayer {
    type Service = EventService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EventService { inner }
    }
}

/// The service of [`EventLayer`]: the inner runtime service, called with the tolerated event.
#[derive(Debug, Clone)]
pub struct EventService<S> {
    inner: S,
}

impl<S> Service<LambdaInvocation> for EventService<S>
where
    S: Service<LambdaInvocation>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        match tolerate(&invocation.body) {
            Some(body) => invocation.body = body.into(),
            None => tracing::trace!(
                target: "wacht",
                bytes = invocation.body.len(),
                "event passed to lambda_http as it came"
            ),
        }
        self.inner.call(invocation)
    }
}

/// The maps of an event whose values are header or parameter values.
const VALUE_MAPS: [&str; 6] = [
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
];

/// The event with `null` values dropped and `isBase64Encoded` cleared when there is no body;
/// `None` when nothing needed changing (or the event is not a JSON object: passed on as it
/// is, for `lambda_http` to refuse). Logs the names of what was dropped, never a value.
fn tolerate(event: &[u8]) -> Option<Vec<u8>> {
    let Ok(Value::Object(mut event)) = serde_json::from_slice::<Value>(event) else {
        return None;
    };
    let mut dropped: Vec<String> = Vec::new();
    for map in VALUE_MAPS {
        if let Some(Value::Object(values)) = event.get_mut(map) {
            drop_nulls(map, values, &mut dropped);
        }
    }
    let no_body = matches!(event.get("body"), None | Some(Value::Null));
    let cleared_base64 = no_body && event.get("isBase64Encoded") == Some(&Value::Bool(true));
    if cleared_base64 {
        event.insert("isBase64Encoded".to_owned(), Value::Bool(false));
    }
    if dropped.is_empty() && !cleared_base64 {
        return None;
    }
    tracing::debug!(
        target: "wacht",
        dropped = ?dropped,
        cleared_base64,
        "event made readable: null values dropped, isBase64Encoded cleared without a body"
    );
    serde_json::to_vec(&Value::Object(event)).ok()
}

/// Drops `null` values, and lists left empty by that, from one map, noting `map.name` for
/// each name touched.
fn drop_nulls(map: &str, values: &mut Map<String, Value>, dropped: &mut Vec<String>) {
    values.retain(|name, value| {
        let keep = match value {
            Value::Null => false,
            Value::Array(items) if items.iter().any(Value::is_null) => {
                items.retain(|item| !item.is_null());
                !items.is_empty()
            }
            _ => return true,
        };
        dropped.push(format!("{map}.{name}"));
        keep
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use lambda_http::Body;
    use lambda_http::request::RequestContext;
    use lambda_http::{RequestExt, RequestPayloadExt};

    // Events netlify-cli 26.2.0 posted (`netlify functions:serve --offline`, site not
    // linked) to a function that recorded them, byte for byte. The bearer token is a
    // made-up one (the CLI decodes it into `requestContext.user`).
    const GET_BEARER: &[u8] = include_bytes!("testdata/netlify/get-bearer.json");
    const GET_API_KEY: &[u8] = include_bytes!("testdata/netlify/get-api-key.json");
    const POST_JSON: &[u8] = include_bytes!("testdata/netlify/post-json.json");
    const POST_EMPTY_BINARY: &[u8] = include_bytes!("testdata/netlify/post-empty-binary.json");

    const CAPTURED: [(&str, &[u8]); 4] = [
        ("get-bearer", GET_BEARER),
        ("get-api-key", GET_API_KEY),
        ("post-json", POST_JSON),
        ("post-empty-binary", POST_EMPTY_BINARY),
    ];

    #[test]
    fn lambda_http_alone_refuses_every_captured_event() {
        // The reason this module exists: if lambda_http ever reads them, it can go.
        for (name, event) in CAPTURED {
            let text = std::str::from_utf8(event).unwrap();
            assert!(lambda_http::request::from_str(text).is_err(), "{name}");
        }
    }

    #[test]
    fn every_captured_event_reads_as_api_gateway_rest() {
        for (name, event) in CAPTURED {
            let request = request_from_event(event).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                matches!(
                    request.request_context_ref(),
                    Some(RequestContext::ApiGatewayV1(_))
                ),
                "{name}"
            );
            assert_eq!(
                request.uri().path(),
                "/.netlify/functions/capture",
                "{name}"
            );
            // The null is gone from `multiValueHeaders`; what the CLI put in `headers` for it
            // (an empty string) is kept, as are the headers around it.
            let account: Vec<_> = request
                .headers()
                .get_all("x-nf-account-id")
                .iter()
                .collect();
            assert_eq!(account, [""], "{name}");
            assert_eq!(request.headers()["x-nf-site-id"], "unlinked", "{name}");
            assert_eq!(
                request.headers()["x-nf-client-connection-ip"],
                "127.0.0.1",
                "{name}"
            );
        }
    }

    #[test]
    fn credentials_method_query_and_body_come_through() {
        let get = request_from_event(GET_BEARER).unwrap();
        assert_eq!(get.method(), http::Method::GET);
        let authorization = get.headers().get_all("authorization");
        assert_eq!(authorization.iter().count(), 1);
        assert!(
            get.headers()["authorization"]
                .to_str()
                .unwrap()
                .starts_with("Bearer eyJhbGciOiJFUzI1NiI")
        );
        let query = get.query_string_parameters();
        assert_eq!(query.all("a"), Some(vec!["1", "2"]));
        assert_eq!(query.first("flag"), Some(""));
        // No body, isBase64Encoded cleared: empty, not a decoding error.
        assert!(matches!(get.body(), Body::Empty));

        let key = request_from_event(GET_API_KEY).unwrap();
        assert_eq!(key.headers()["x-api-key"], "wk_test_xyz");
        assert!(key.headers().get("authorization").is_none());

        let post = request_from_event(POST_JSON).unwrap();
        assert_eq!(post.method(), http::Method::POST);
        let json: Value = post.payload().unwrap().unwrap();
        assert_eq!(json, serde_json::json!({"x": 1}));

        // `isBase64Encoded: true` with an empty body: kept, decodes to nothing.
        let binary = request_from_event(POST_EMPTY_BINARY).unwrap();
        assert_eq!(binary.body().as_ref(), b"");
    }

    #[test]
    fn nulls_are_dropped_and_nothing_is_invented() {
        let event = br#"{"path": "/f", "httpMethod": "GET",
            "headers": {"a": null, "b": "1"},
            "multiValueHeaders": {"a": [null], "b": ["1"], "c": [null, "2"], "d": []},
            "queryStringParameters": {"q": null}, "multiValueQueryStringParameters": {"q": [null]},
            "isBase64Encoded": false, "requestContext": {"httpMethod": "GET"}}"#;
        let tolerated: Value = serde_json::from_slice(&tolerate(event).unwrap()).unwrap();
        assert_eq!(tolerated["headers"], serde_json::json!({"b": "1"}));
        assert_eq!(
            tolerated["multiValueHeaders"],
            serde_json::json!({"b": ["1"], "c": ["2"], "d": []})
        );
        assert_eq!(tolerated["queryStringParameters"], serde_json::json!({}));
        assert_eq!(
            tolerated["multiValueQueryStringParameters"],
            serde_json::json!({})
        );
        let request = request_from_event(event).unwrap();
        assert!(request.headers().get("a").is_none());
        assert_eq!(request.headers()["c"], "2");
    }

    #[test]
    fn events_that_need_nothing_pass_unchanged() {
        // AWS's own shapes, and anything that is not a JSON object, reach lambda_http as
        // they came.
        let rest = br#"{"path": "/f", "httpMethod": "GET", "headers": {"x-api-key": "k"},
            "multiValueHeaders": {"x-api-key": ["k"]}, "body": null, "isBase64Encoded": false,
            "requestContext": {"httpMethod": "GET"}}"#;
        assert!(tolerate(rest).is_none());
        let with_body = br#"{"path": "/f", "httpMethod": "POST", "body": "aGk=",
            "isBase64Encoded": true, "requestContext": {"httpMethod": "POST"}}"#;
        assert!(tolerate(with_body).is_none());
        assert_eq!(
            request_from_event(with_body).unwrap().body().as_ref(),
            b"hi"
        );
        for not_an_object in [&b"[1]"[..], b"\"event\"", b"{not json", b""] {
            assert!(tolerate(not_an_object).is_none());
            assert!(request_from_event(not_an_object).is_err());
        }
    }

    #[test]
    fn an_event_that_still_fits_no_shape_is_refused() {
        // A header value that is neither a string nor null is not guessed at.
        let event = br#"{"path": "/f", "httpMethod": "GET", "headers": {},
            "multiValueHeaders": {"x-api-key": [42]}, "isBase64Encoded": false,
            "requestContext": {"httpMethod": "GET"}}"#;
        assert!(request_from_event(event).is_err());
        // No method: not an HTTP event.
        let event = br#"{"path": "/f", "multiValueHeaders": {"a": [null]}}"#;
        assert!(request_from_event(event).is_err());
    }
}
