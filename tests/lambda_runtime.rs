//! The guide's two Netlify functions run as real Lambda functions: each is a child process
//! (this test binary again, running the deployed function's own serving, `wacht::netlify::run`,
//! with `AWS_LAMBDA_RUNTIME_API` set and no system certificate roots), polling a Lambda
//! Runtime API server that lives in this test, against the local Wacht. Events come in the
//! shapes functions receive: the one Netlify's CLI sends (netlify-cli 26.2.0), API Gateway
//! REST (payload 1.0), HTTP API (2.0) and Function URL. Also: the 1970 deadline `cargo lambda
//! watch` sends, and the function log at TRACE.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../examples/netlify_admin_users.rs"]
#[allow(dead_code)]
mod admin;
#[path = "../examples/netlify_machine_users.rs"]
#[allow(dead_code)]
mod machine;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use wacht::testing::{
    ApiKeySpec, GatewayFault, JwksFault, LocalWacht, RateLimitRule, TestServer, serve,
};

const CHILD: &str = "WACHT_LAMBDA_CHILD";

/// In the child process: the example's own `main`, as Lambda runs it.
#[test]
fn child_function() {
    match std::env::var(CHILD).as_deref() {
        Ok("admin") => admin::main().unwrap(),
        Ok("machine") => machine::main().unwrap(),
        _ => {}
    }
}

// ----- a Lambda Runtime API -----

struct Invocation {
    id: String,
    event: Value,
    deadline_ms: u64,
}

/// What the function posted for an invocation.
struct Outcome {
    /// `response` or `error`.
    kind: &'static str,
    body: Value,
    /// When it arrived, in milliseconds since the epoch.
    at_ms: u64,
}

struct RuntimeApi {
    server: TestServer,
    events: mpsc::UnboundedSender<Invocation>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>>,
    next_id: AtomicU64,
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

impl RuntimeApi {
    /// Serves `GET /2018-06-01/runtime/invocation/next` (blocking until an event is queued,
    /// with the `Lambda-Runtime-*` headers) and `POST …/{id}/response` / `…/{id}/error`.
    async fn start() -> Self {
        let (events, queue) = mpsc::unbounded_channel::<Invocation>();
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>> = Arc::default();
        let posted = waiting.clone();
        let server = serve(move |req: http::Request<String>| {
            let (queue, posted) = (queue.clone(), posted.clone());
            async move {
                let path = req.uri().path().to_owned();
                if path == "/2018-06-01/runtime/invocation/next" {
                    let Some(invocation) = queue.lock().await.recv().await else {
                        return http::Response::builder()
                            .status(500)
                            .body(String::new())
                            .unwrap();
                    };
                    return http::Response::builder()
                        .header("lambda-runtime-aws-request-id", &invocation.id)
                        .header(
                            "lambda-runtime-deadline-ms",
                            invocation.deadline_ms.to_string(),
                        )
                        .header(
                            "lambda-runtime-invoked-function-arn",
                            "arn:aws:lambda:us-east-1:000000000000:function:test",
                        )
                        .header("lambda-runtime-trace-id", "Root=1-test")
                        .header("content-type", "application/json")
                        .body(invocation.event.to_string())
                        .unwrap();
                }
                let parts: Vec<&str> = path.split('/').collect();
                if let ["", "2018-06-01", "runtime", "invocation", id, kind] = parts.as_slice() {
                    let kind = if *kind == "response" {
                        "response"
                    } else {
                        "error"
                    };
                    let outcome = Outcome {
                        kind,
                        body: serde_json::from_str(req.body()).unwrap_or(Value::Null),
                        at_ms: now_ms(),
                    };
                    if let Some(sender) = posted.lock().unwrap().remove(*id) {
                        let _ = sender.send(outcome);
                    }
                }
                http::Response::builder()
                    .status(202)
                    .body(String::new())
                    .unwrap()
            }
        })
        .await
        .unwrap();
        RuntimeApi {
            server,
            events,
            waiting,
            next_id: AtomicU64::new(1),
        }
    }

    fn address(&self) -> String {
        self.server.addr().to_string()
    }

    /// Queues `event` with a deadline `deadline` from now and waits for the function's answer.
    async fn invoke(&self, event: Value, deadline: Duration) -> (Outcome, u64) {
        let deadline_ms = now_ms() + u64::try_from(deadline.as_millis()).unwrap();
        (self.invoke_until(event, deadline_ms).await, deadline_ms)
    }

    /// Queues `event` with `Lambda-Runtime-Deadline-Ms: deadline_ms` and waits for the
    /// function's answer.
    async fn invoke_until(&self, event: Value, deadline_ms: u64) -> Outcome {
        let id = format!("inv-{}", self.next_id.fetch_add(1, Ordering::SeqCst));
        let (sender, outcome) = oneshot::channel();
        self.waiting.lock().unwrap().insert(id.clone(), sender);
        self.events
            .send(Invocation {
                id,
                event,
                deadline_ms,
            })
            .unwrap();
        tokio::time::timeout(Duration::from_secs(20), outcome)
            .await
            .expect("the function answered")
            .unwrap()
    }
}

// ----- the function, as a child process -----

/// Starts `which` (`admin` or `machine`) as a Lambda function of `api`, configured for
/// `local`, with no system certificate roots.
fn start_function(which: &str, api: &RuntimeApi, local: &LocalWacht) -> Child {
    start_function_with(which, api, local, &[])
}

/// [`start_function`] with more environment variables.
fn start_function_with(
    which: &str,
    api: &RuntimeApi,
    local: &LocalWacht,
    env: &[(&str, &str)],
) -> Child {
    let no_roots =
        std::env::temp_dir().join(format!("wacht-lambda-no-roots-{}", std::process::id()));
    std::fs::create_dir_all(&no_roots).unwrap();
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_function",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, which)
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", format!("{which}-users"))
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
        .env("WACHT_PUBLISHABLE_KEY", local.publishable_key())
        .env("WACHT_GATEWAY_URL", local.url())
        .env("WACHT_BACKEND_API_URL", local.url())
        .env("WACHT_API_KEY", local.backend_api_key())
        .env("SSL_CERT_FILE", no_roots.join("none.pem"))
        .env("SSL_CERT_DIR", &no_roots)
        .env_remove("RUST_LOG")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Stops the function and returns everything it wrote.
fn stop_function(mut child: Child) -> String {
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

// ----- events in the three shapes -----

#[derive(Clone, Copy, Debug)]
enum Shape {
    /// What `netlify functions:serve` (netlify-cli 26.2.0) sends for a site that is not
    /// linked: `x-nf-account-id: [null]`, `isBase64Encoded: true` and no body, a synthetic
    /// `requestContext` (lambda_http alone refuses it).
    NetlifyCli,
    RestV1,
    HttpV2,
    FunctionUrl,
}

const SHAPES: [Shape; 4] = [
    Shape::NetlifyCli,
    Shape::RestV1,
    Shape::HttpV2,
    Shape::FunctionUrl,
];

fn event(shape: Shape, path: &str, headers: &[(&str, &str)]) -> Value {
    let mut header_map = json!({"host": "fn.example", "user-agent": "lambda-test"});
    for (name, value) in headers {
        header_map[*name] = json!(value);
    }
    match shape {
        Shape::NetlifyCli => {
            let mut multi = serde_json::Map::new();
            for (name, value) in header_map.as_object().unwrap() {
                multi.insert(name.clone(), json!([value]));
            }
            multi.insert("x-nf-account-id".to_owned(), json!([null]));
            multi.insert("x-nf-site-id".to_owned(), json!(["unlinked"]));
            header_map["x-nf-account-id"] = json!("");
            header_map["x-nf-site-id"] = json!("unlinked");
            json!({
                "resource": "", "path": path, "httpMethod": "GET",
                "queryStringParameters": {}, "multiValueQueryStringParameters": {},
                "headers": header_map, "multiValueHeaders": multi,
                "isBase64Encoded": true, "rawUrl": format!("http://localhost:9999{path}"),
                "rawQuery": "", "blobs": "e30=",
                "requestContext": {"httpMethod": "GET", "requestTimeEpoch": 0},
            })
        }
        Shape::RestV1 => json!({
            "resource": path, "path": path, "httpMethod": "GET",
            "headers": header_map, "multiValueHeaders": {},
            "queryStringParameters": null, "multiValueQueryStringParameters": null,
            "pathParameters": null, "stageVariables": null, "body": null, "isBase64Encoded": false,
            "requestContext": {"accountId": "000000000000", "resourceId": "r", "stage": "prod",
                "requestId": "req", "identity": {"sourceIp": "203.0.113.7"},
                "resourcePath": path, "httpMethod": "GET", "apiId": "api"},
        }),
        Shape::HttpV2 | Shape::FunctionUrl => {
            let domain = match shape {
                Shape::FunctionUrl => "abcdefgh.lambda-url.us-east-1.on.aws",
                _ => "api.execute-api.us-east-1.amazonaws.com",
            };
            json!({
                "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
                "headers": header_map, "isBase64Encoded": false,
                "requestContext": {"accountId": "000000000000", "apiId": "abcdefgh",
                    "domainName": domain, "domainPrefix": "abcdefgh",
                    "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                             "sourceIp": "203.0.113.7", "userAgent": "lambda-test"},
                    "requestId": "req", "routeKey": "$default", "stage": "$default",
                    "time": "29/Nov/2026:16:00:00 +0000", "timeEpoch": 1_796_000_000_000_u64},
            })
        }
    }
}

/// The status and JSON body of a function response (API Gateway / Function URL format).
fn answer(outcome: &Outcome) -> (u16, Value, Value) {
    assert_eq!(outcome.kind, "response", "{}", outcome.body);
    let status = u16::try_from(outcome.body["statusCode"].as_u64().unwrap()).unwrap();
    let body = outcome.body["body"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    // Payload 1.0 answers carry headers in `multiValueHeaders`, 2.0 in `headers`.
    let mut headers = outcome.body["headers"].clone();
    if let Some(multi) = outcome.body["multiValueHeaders"].as_object() {
        for (name, values) in multi {
            headers[name] = values[0].clone();
        }
    }
    (status, body, headers)
}

// ----- the tests -----

#[tokio::test]
async fn the_admin_function_gives_the_quickstart_outcomes_in_every_event_shape() {
    let local = LocalWacht::start().unwrap();
    let api = RuntimeApi::start().await;
    let function = start_function("admin", &api, &local);
    let now = wacht::Clock::system().now();
    let expired = local.token().expires_at(now - 60).sign();
    let no_permission = local.token().subject("user_bob").sign();
    let reader = local
        .token()
        .subject("user_carol")
        .organization_permissions(["user:read"])
        .sign();
    let path = "/.netlify/functions/admin-users";
    for shape in SHAPES {
        for (name, token, status, reason) in [
            ("no token", None, 401, Some("missing_token")),
            ("expired", Some(&expired), 401, Some("token_expired")),
            (
                "no permission",
                Some(&no_permission),
                403,
                Some("missing_permission"),
            ),
            ("allowed", Some(&reader), 200, None),
        ] {
            let bearer = token.map(|t| format!("Bearer {t}"));
            let headers: Vec<(&str, &str)> = bearer
                .as_deref()
                .map(|b| ("authorization", b))
                .into_iter()
                .collect();
            let (outcome, _) = api
                .invoke(event(shape, path, &headers), Duration::from_secs(30))
                .await;
            let (got, body, _) = answer(&outcome);
            assert_eq!(got, status, "{shape:?} {name}: {body}");
            match reason {
                Some(reason) => assert_eq!(body["reason"], reason, "{shape:?} {name}"),
                None => {
                    assert_eq!(body["requested_by"], "user_carol");
                    assert_eq!(body["users"].as_array().unwrap().len(), 20);
                }
            }
        }
    }
    let log = stop_function(function);
    // No system roots: the warning says why, in words.
    assert!(
        log.contains(
            "certificate roots are unusable (No CA certificates were loaded from the system;"
        ),
        "{log}"
    );
    // The refusals reached the function's log as `wacht.check` events; no token did.
    assert!(log.contains("wacht.check"), "{log}");
    assert!(
        log.contains("request refused") && log.contains("token_expired"),
        "{log}"
    );
    for secret in [&expired, &no_permission, &reader, &local.backend_api_key()] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret is in the log:\n{log}"
        );
    }
}

#[tokio::test]
async fn the_machine_function_gives_the_quickstart_outcomes_in_every_event_shape() {
    let local = LocalWacht::start().unwrap();
    let api = RuntimeApi::start().await;
    let function = start_function("machine", &api, &local);
    let reader = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let writer = local.create_api_key(ApiKeySpec::new().permissions(["billing:write"]));
    let unknown = format!("wk_test_{}", "x".repeat(43));
    let path = "/.netlify/functions/machine-users";
    for shape in SHAPES {
        for (name, key, status, reason) in [
            ("no key", None, 401, Some("missing_credential")),
            (
                "unknown key",
                Some(unknown.as_str()),
                401,
                Some("invalid_credential"),
            ),
            (
                "no permission",
                Some(writer.secret()),
                403,
                Some("permission_denied"),
            ),
            ("allowed", Some(reader.secret()), 200, None),
        ] {
            let headers: Vec<(&str, &str)> = key.map(|k| ("x-api-key", k)).into_iter().collect();
            let (outcome, _) = api
                .invoke(event(shape, path, &headers), Duration::from_secs(30))
                .await;
            let (got, body, _) = answer(&outcome);
            assert_eq!(got, status, "{shape:?} {name}: {body}");
            match reason {
                Some(reason) => assert_eq!(body["reason"], reason, "{shape:?} {name}"),
                None => assert_eq!(body["users"].as_array().unwrap().len(), 20),
            }
        }
    }
    // A key past its rate limit: 429 with Retry-After.
    let limited = local.create_api_key(
        ApiKeySpec::new()
            .permissions(["user:read"])
            .rate_limit(RateLimitRule::per_key("once", 1, Duration::from_secs(3600))),
    );
    let limited_event = event(Shape::RestV1, path, &[("x-api-key", limited.secret())]);
    let (first, _) = api
        .invoke(limited_event.clone(), Duration::from_secs(30))
        .await;
    assert_eq!(answer(&first).0, 200);
    let (second, _) = api.invoke(limited_event, Duration::from_secs(30)).await;
    let (status, body, headers) = answer(&second);
    assert_eq!(
        (status, body["reason"].as_str()),
        (429, Some("rate_limited"))
    );
    assert!(headers["retry-after"].as_str().is_some(), "{headers}");

    let log = stop_function(function);
    assert!(
        log.contains("wacht.check") && log.contains("permission_denied"),
        "{log}"
    );
    for secret in [
        reader.secret(),
        writer.secret(),
        limited.secret(),
        unknown.as_str(),
    ] {
        assert!(!log.contains(secret), "a key is in the log:\n{log}");
    }
}

#[tokio::test]
async fn a_hung_wacht_still_gets_the_typed_503_out_before_the_deadline() {
    // The session function with a JWKS that never answers in time.
    let local = LocalWacht::start().unwrap();
    local.set_jwks_fault(JwksFault::Slow(Duration::from_secs(20)));
    let api = RuntimeApi::start().await;
    let function = start_function("admin", &api, &local);
    let token = local.token().organization_permissions(["user:read"]).sign();
    let bearer = format!("Bearer {token}");
    let (outcome, deadline_ms) = api
        .invoke(
            event(Shape::RestV1, "/admin", &[("authorization", &bearer)]),
            Duration::from_secs(3),
        )
        .await;
    let (status, body, _) = answer(&outcome);
    assert_eq!(
        (status, body["reason"].as_str()),
        (503, Some("keys_timeout"))
    );
    assert!(
        outcome.at_ms < deadline_ms,
        "the answer came {} ms after the deadline",
        outcome.at_ms - deadline_ms
    );
    stop_function(function);

    // The machine function with a gateway that never answers in time.
    let local = LocalWacht::start().unwrap();
    local.set_gateway_fault(GatewayFault::Slow(Duration::from_secs(20)));
    // A runtime API of its own: the stopped function's last poll may still hold the first.
    let api = RuntimeApi::start().await;
    let function = start_function("machine", &api, &local);
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let (outcome, deadline_ms) = api
        .invoke(
            event(Shape::HttpV2, "/machine", &[("x-api-key", key.secret())]),
            Duration::from_secs(3),
        )
        .await;
    let (status, body, _) = answer(&outcome);
    assert_eq!(
        (status, body["reason"].as_str()),
        (503, Some("gateway_timeout"))
    );
    assert!(
        outcome.at_ms < deadline_ms,
        "the answer came {} ms after the deadline",
        outcome.at_ms - deadline_ms
    );
    let log = stop_function(function);
    assert!(log.contains("gateway_timeout"), "{log}");
}

#[tokio::test]
async fn a_deadline_already_past_is_ignored_with_one_warning_and_the_function_answers() {
    // `cargo lambda watch` sends `Lambda-Runtime-Deadline-Ms: 600000` (1970) whatever
    // `--timeout` says. Taken as a deadline, every check would end at once with a 503.
    const CARGO_LAMBDA_DEADLINE_MS: u64 = 600_000;
    let local = LocalWacht::start().unwrap();
    let reader = local.token().organization_permissions(["user:read"]).sign();
    let bearer = format!("Bearer {reader}");
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    for (which, path, header) in [
        (
            "admin",
            "/.netlify/functions/admin-users",
            ("authorization", bearer.as_str()),
        ),
        (
            "machine",
            "/.netlify/functions/machine-users",
            ("x-api-key", key.secret()),
        ),
    ] {
        let api = RuntimeApi::start().await;
        let function = start_function(which, &api, &local);
        for shape in [Shape::NetlifyCli, Shape::FunctionUrl, Shape::RestV1] {
            let outcome = api
                .invoke_until(event(shape, path, &[header]), CARGO_LAMBDA_DEADLINE_MS)
                .await;
            let (status, body, _) = answer(&outcome);
            assert_eq!(status, 200, "{which} {shape:?}: {body}");
            assert_eq!(body["users"].as_array().unwrap().len(), 20);
        }
        let log = stop_function(function);
        let warnings = log.matches("had already passed").count();
        assert_eq!(warnings, 1, "{which}: one warning per process:\n{log}");
        assert!(log.contains("deadline_unix_ms=600000"), "{log}");
    }
}

#[tokio::test]
async fn at_trace_the_function_log_holds_no_token_or_key() {
    // With `AWS_LAMBDA_LOG_LEVEL=TRACE`, lambda_runtime logs every raw event at TRACE; the
    // function's log set-up caps every crate but the function's own and wacht at DEBUG.
    let local = LocalWacht::start().unwrap();
    let now = wacht::Clock::system().now();
    let reader = local.token().organization_permissions(["user:read"]).sign();
    let no_permission = local.token().subject("user_bob").sign();
    let expired = local.token().expires_at(now - 60).sign();
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let writer = local.create_api_key(ApiKeySpec::new().permissions(["billing:write"]));
    let backend_key = local.backend_api_key();
    let trace = [("AWS_LAMBDA_LOG_LEVEL", "TRACE")];

    let mut log = String::new();
    let api = RuntimeApi::start().await;
    let function = start_function_with("admin", &api, &local, &trace);
    let path = "/.netlify/functions/admin-users";
    for (token, status) in [(&reader, 200), (&no_permission, 403), (&expired, 401)] {
        let bearer = format!("Bearer {token}");
        for shape in [Shape::NetlifyCli, Shape::HttpV2] {
            let (outcome, _) = api
                .invoke(
                    event(shape, path, &[("authorization", &bearer)]),
                    Duration::from_secs(30),
                )
                .await;
            assert_eq!(answer(&outcome).0, status, "{shape:?}");
        }
    }
    log.push_str(&stop_function(function));

    let api = RuntimeApi::start().await;
    let function = start_function_with("machine", &api, &local, &trace);
    let path = "/.netlify/functions/machine-users";
    for (key, status) in [(key.secret(), 200), (writer.secret(), 403)] {
        for shape in [Shape::NetlifyCli, Shape::RestV1] {
            let (outcome, _) = api
                .invoke(
                    event(shape, path, &[("x-api-key", key)]),
                    Duration::from_secs(30),
                )
                .await;
            assert_eq!(answer(&outcome).0, status, "{shape:?}");
        }
    }
    log.push_str(&stop_function(function));

    // The level took effect: wacht's TRACE events are in, the other crates' DEBUG ones too.
    assert!(
        log.lines()
            .any(|line| line.starts_with("TRACE") && line.contains("wacht")),
        "no TRACE line of wacht:\n{log}"
    );
    assert!(
        log.lines()
            .any(|line| line.contains("DEBUG") && line.contains("hyper_util")),
        "no DEBUG line of hyper_util:\n{log}"
    );
    // No token, no key, not even their secret parts.
    for token in [&reader, &no_permission, &expired] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!log.contains(signature), "a token is in the log:\n{log}");
    }
    for secret in [key.secret(), writer.secret(), backend_key.as_str()] {
        let tail = &secret[secret.len() - 20..];
        assert!(!log.contains(tail), "a key is in the log:\n{log}");
    }
}
