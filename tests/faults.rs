//! Hostile and broken peers: the JWKS endpoint, the gateway and the backend API played by
//! small loopback servers of this file (redirects to another port, 50 MiB answers,
//! reflected credentials, odd statuses) and by the local emulator (empty or unusable key
//! sets, outages, slow refreshes, removed keys). Every answer is defined and bounded, and the
//! handler body never runs unless the caller is allowed.
//!
//! The tests take one lock, so they run one at a time: the memory test reads the process's
//! peak RSS, which other tests running beside it would disturb.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, rejected, send};

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Request, Response};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wacht::backend_api::types::UsersListQuery;
use wacht::testing::{ApiKeySpec, JwksFault, KeyAlgorithm, LocalWacht, TestServer, serve_with};
use wacht::{BackendClient, BackendError, MachineAuth, Wacht};

/// Held by every test of this file: they run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

static SESSION_RUNS: AtomicUsize = AtomicUsize::new(0);
static MACHINE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[wacht::protect(permission = "user:read")]
async fn session_handler(_req: Request<String>) -> Response<String> {
    SESSION_RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new("session ok".to_owned())
}

#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn machine_handler(_req: Request<String>, auth: MachineAuth) -> Response<String> {
    MACHINE_RUNS.fetch_add(1, Ordering::SeqCst);
    let remaining: Vec<u64> = auth.rate_limits().iter().map(|r| r.remaining).collect();
    Response::new(json!({ "remaining": remaining }).to_string())
}

// ----- a tiny HTTP/1.1 server whose every answer is chosen by the test -----

/// A request as the fault server saw it.
struct Seen {
    method: String,
    path: String,
    /// The request line and headers.
    head: String,
    body: Vec<u8>,
}

impl Seen {
    /// The value of header `name`, if present.
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (header, value) = line.split_once(':')?;
            header
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

/// What the fault server answers.
#[derive(Clone)]
enum Reply {
    /// A whole answer.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// `200` with this many bytes of JSON white space, generated while writing (the server
    /// never holds them), chunked or with a `Content-Length`.
    Huge { bytes: usize, content_length: bool },
}

impl Reply {
    fn json(status: u16, body: &Value) -> Self {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    fn text(status: u16, body: &str) -> Self {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn redirect(status: u16, location: &str) -> Self {
        Reply::Full {
            status,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
        }
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A loopback server on its own thread; it counts the requests it receives.
struct FaultServer {
    url: String,
    hits: Arc<AtomicUsize>,
}

impl FaultServer {
    fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let handler: Handler = Arc::new(handler);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                while let Ok((stream, _)) = listener.accept().await {
                    let (handler, counter) = (handler.clone(), counter.clone());
                    tokio::spawn(async move {
                        let _ = serve_one(stream, &handler, &counter).await;
                    });
                }
            });
        });
        FaultServer { url, hits }
    }

    /// Always this answer.
    fn always(reply: Reply) -> Self {
        Self::start(move |_| reply.clone())
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Reads one request (head and `Content-Length` body), answers it, closes the connection.
async fn serve_one(
    mut stream: tokio::net::TcpStream,
    handler: &Handler,
    counter: &AtomicUsize,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let mut request_line = head.lines().next().unwrap_or("").split(' ');
    let seen = Seen {
        method: request_line.next().unwrap_or("").to_owned(),
        path: request_line.next().unwrap_or("").to_owned(),
        head: head.clone(),
        body: buffer[head_end..].to_vec(),
    };
    counter.fetch_add(1, Ordering::SeqCst);
    match handler(&seen) {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut out = format!("HTTP/1.1 {status} X\r\nconnection: close\r\n");
            for (name, value) in headers {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
            out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
            stream.write_all(out.as_bytes()).await?;
            stream.write_all(&body).await?;
        }
        Reply::Huge {
            bytes,
            content_length,
        } => {
            let chunk = vec![b' '; 64 * 1024];
            let framing = if content_length {
                format!("content-length: {bytes}")
            } else {
                "transfer-encoding: chunked".to_owned()
            };
            stream
                .write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{framing}\r\n\r\n"
                    )
                    .as_bytes(),
                )
                .await?;
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk.len());
                if content_length {
                    stream.write_all(&chunk[..n]).await?;
                } else {
                    stream.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                    stream.write_all(&chunk[..n]).await?;
                    stream.write_all(b"\r\n").await?;
                }
                left -= n;
            }
            if !content_length {
                stream.write_all(b"0\r\n\r\n").await?;
            }
        }
    }
    stream.shutdown().await
}

// ----- set-up helpers -----

/// A context whose tokens come from `local` but whose JWKS is fetched from `jwks_url`.
fn wacht_with_jwks(local: &LocalWacht, jwks_url: &str) -> Wacht {
    Wacht::new(
        local
            .config_builder()
            .jwks_url(jwks_url)
            .http_timeout(Duration::from_secs(3))
            .build()
            .unwrap(),
    )
    .unwrap()
}

/// A context whose gateway is `gateway_url`.
fn wacht_with_gateway(local: &LocalWacht, gateway_url: &str) -> Wacht {
    Wacht::new(
        local
            .config_builder()
            .gateway_url(gateway_url)
            .http_timeout(Duration::from_secs(3))
            .build()
            .unwrap(),
    )
    .unwrap()
}

async fn bearer(server: &TestServer, token: &str) -> Answer {
    send(
        reqwest::Client::new()
            .get(format!("{}/admin/users", server.url()))
            .bearer_auth(token),
    )
    .await
}

async fn with_key(server: &TestServer, key: &str) -> Answer {
    send(
        reqwest::Client::new()
            .get(format!("{}/machine/users", server.url()))
            .header("x-api-key", key),
    )
    .await
}

fn good_token(local: &LocalWacht) -> String {
    local.token().organization_permissions(["user:read"]).sign()
}

/// A well-formed API key nobody issued (the fault gateways reflect it).
const REFLECTED_KEY: &str = "wk_live_REFLECTEDsecretREFLECTEDsecretREFLECTEDsec";

// ----- redirects -----

#[tokio::test]
async fn redirects_are_never_followed() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let jwks = local.published_jwks();
    // The other side of every redirect: it would hand out keys and allow everything.
    let elsewhere = FaultServer::start(move |seen| {
        if seen.path.contains("jwks") {
            Reply::json(200, &jwks)
        } else if seen.path.contains("users") {
            Reply::json(200, &json!({"data": [], "has_more": false}))
        } else {
            Reply::json(
                200,
                &json!({"request_id": "req_elsewhere", "allowed": true}),
            )
        }
    });
    for status in [301, 302, 303, 307, 308] {
        // JWKS: no keys from another origin; with none held, 503.
        let jwks_redirect = FaultServer::always(Reply::redirect(
            status,
            &format!("{}/.well-known/jwks.json", elsewhere.url),
        ));
        let wacht = wacht_with_jwks(&local, &format!("{}/jwks", jwks_redirect.url));
        let server = serve_with(wacht, session_handler).await.unwrap();
        let runs = SESSION_RUNS.load(Ordering::SeqCst);
        let answer = bearer(&server, &good_token(&local)).await;
        assert_eq!(
            rejected(&answer, 503, "auth_unavailable"),
            "keys_unavailable",
            "JWKS {status}"
        );
        assert_eq!(jwks_redirect.hits(), 1);
        assert_eq!(SESSION_RUNS.load(Ordering::SeqCst), runs, "JWKS {status}");

        // Gateway: the key is not re-posted elsewhere, and no GET turns into `allowed`.
        let gateway_redirect = FaultServer::always(Reply::redirect(
            status,
            &format!("{}/v1/authz/check", elsewhere.url),
        ));
        let wacht = wacht_with_gateway(&local, &gateway_redirect.url);
        let server = serve_with(wacht, machine_handler).await.unwrap();
        let runs = MACHINE_RUNS.load(Ordering::SeqCst);
        let answer = with_key(&server, REFLECTED_KEY).await;
        assert_eq!(
            rejected(&answer, 503, "auth_unavailable"),
            "gateway_error",
            "gateway {status}"
        );
        assert_eq!(gateway_redirect.hits(), 1);
        assert_eq!(
            MACHINE_RUNS.load(Ordering::SeqCst),
            runs,
            "gateway {status}"
        );

        // Backend: a typed error with the status; the key never goes elsewhere.
        let backend_redirect =
            FaultServer::always(Reply::redirect(status, &format!("{}/users", elsewhere.url)));
        let backend = BackendClient::new(&backend_redirect.url, "sk_backend_key").unwrap();
        let error = backend
            .users()
            .list(UsersListQuery::new())
            .await
            .unwrap_err();
        assert!(
            matches!(error, BackendError::Redirect { status: Some(s) } if s.as_u16() == status),
            "{error:?}"
        );
        assert_eq!(error.reason(), "backend_redirect");
    }
    assert_eq!(elsewhere.hits(), 0, "no redirect was ever followed");
}

#[tokio::test]
async fn a_client_that_follows_redirects_is_still_refused_an_answer_from_elsewhere() {
    let _serial = SERIAL.lock().await;
    let elsewhere = FaultServer::always(Reply::json(
        200,
        &json!({"request_id": "req_elsewhere", "allowed": true}),
    ));
    let redirect = FaultServer::always(Reply::redirect(
        307,
        &format!("{}/v1/authz/check", elsewhere.url),
    ));
    // A user-built client with reqwest's default policy (follow up to 10).
    let gateway = wacht::GatewayClient::with_client(
        reqwest::Client::new(),
        &redirect.url,
        Duration::from_secs(3),
    );
    let request = wacht::AuthzRequest {
        principal: wacht::Principal {
            kind: wacht::PrincipalType::ApiKey,
            value: wacht::Secret::new(REFLECTED_KEY),
        },
        resource: "/machine/users".into(),
        method: "GET".into(),
        client_ip: None,
        user_agent: None,
        required_permissions: vec![],
    };
    let error = gateway.check(&request).await.unwrap_err();
    assert_eq!(error, wacht::GatewayError::Redirect { status: None });
    assert_eq!(error.reason(), "gateway_error");
}

// ----- bounded reads -----

/// `(VmRSS, VmHWM)` of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test]
async fn fifty_mebibyte_answers_are_cut_off_not_buffered() {
    let _serial = SERIAL.lock().await;
    const HUGE: usize = 50 * 1024 * 1024;
    let local = LocalWacht::start().unwrap();
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    // Every server and client exists before the baseline: only the answers are measured.
    let mut cases = Vec::new();
    for content_length in [false, true] {
        let huge = Reply::Huge {
            bytes: HUGE,
            content_length,
        };
        let jwks = FaultServer::always(huge.clone());
        let gateway = FaultServer::always(huge.clone());
        let backend = FaultServer::always(huge);
        let session = serve_with(wacht_with_jwks(&local, &jwks.url), session_handler)
            .await
            .unwrap();
        let machine = serve_with(wacht_with_gateway(&local, &gateway.url), machine_handler)
            .await
            .unwrap();
        let backend_client = BackendClient::new(&backend.url, "sk_backend_key").unwrap();
        cases.push((
            content_length,
            jwks,
            gateway,
            backend,
            session,
            machine,
            backend_client,
        ));
    }
    let token = good_token(&local);
    // Warm the client paths once so lazily allocated state is in the baseline.
    let _ = bearer(&cases[0].4, "not-a-token").await;

    // Reset the peak (Linux: writing 5 to clear_refs resets VmHWM to the current RSS).
    std::fs::File::options()
        .write(true)
        .open("/proc/self/clear_refs")
        .and_then(|mut f| f.write_all(b"5"))
        .expect("the peak RSS can be reset");
    let (rss_before, _) = memory_kib();
    let runs = (
        SESSION_RUNS.load(Ordering::SeqCst),
        MACHINE_RUNS.load(Ordering::SeqCst),
    );
    for (content_length, jwks, gateway, backend, session, machine, backend_client) in &cases {
        let answer = bearer(session, &token).await;
        assert_eq!(
            rejected(&answer, 503, "auth_unavailable"),
            "keys_unavailable",
            "JWKS, content-length {content_length}"
        );
        let answer = with_key(machine, key.secret()).await;
        assert_eq!(
            rejected(&answer, 503, "auth_unavailable"),
            "gateway_invalid_response",
            "gateway, content-length {content_length}"
        );
        let error = backend_client
            .users()
            .list(UsersListQuery::new())
            .await
            .unwrap_err();
        assert_eq!(
            error,
            BackendError::InvalidResponse("larger than 4 MiB".into())
        );
        assert_eq!((jwks.hits(), gateway.hits(), backend.hits()), (1, 1, 1));
    }
    let (_, peak) = memory_kib();
    let growth_mib = peak.saturating_sub(rss_before) / 1024;
    assert!(
        growth_mib < 64,
        "peak RSS grew by {growth_mib} MiB over {rss_before} KiB reading six 50 MiB answers"
    );
    assert_eq!(
        (
            SESSION_RUNS.load(Ordering::SeqCst),
            MACHINE_RUNS.load(Ordering::SeqCst)
        ),
        runs
    );
}

// ----- key sets -----

#[tokio::test]
async fn empty_and_unusable_key_sets_never_replace_the_keys_held() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(
        local
            .config_builder()
            .jwks_ttl(Duration::from_secs(1))
            .jwks_min_refresh_interval(Duration::from_secs(1))
            .build()
            .unwrap(),
    )
    .unwrap();
    let server = serve_with(wacht, session_handler).await.unwrap();
    let cached = good_token(&local);
    assert_eq!(bearer(&server, &cached).await.status, 200);
    let mut enc_only = local.current_key().public_jwk();
    enc_only["use"] = "enc".into();
    let documents = [
        json!({"keys": []}),
        json!({"keys": [enc_only]}),
        json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]}),
        json!({"keys": [{"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}]}),
    ];
    for document in documents {
        local.publish_document(document.clone());
        let fetches = local.jwks_fetches();
        tokio::time::sleep(Duration::from_millis(1050)).await; // past the TTL
        // The cached token and a token never seen both verify with the held keys.
        let answer = bearer(&server, &cached).await;
        assert_eq!(answer.status, 200, "{document}: {}", answer.text);
        let fresh = local
            .token()
            .subject("user_new")
            .organization_permissions(["user:read"])
            .sign();
        assert_eq!(bearer(&server, &fresh).await.status, 200, "{document}");
        assert!(
            local.jwks_fetches() > fetches,
            "a refresh was tried: {document}"
        );
        // Let the back-off (1 s) pass so the next document is fetched.
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}

#[tokio::test]
async fn a_jwks_failing_from_the_start_is_not_hammered() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    local.set_jwks_fault(JwksFault::Status(500));
    let wacht = Wacht::new(local.config()).unwrap();
    let server = serve_with(wacht, session_handler).await.unwrap();
    let token = good_token(&local);
    let started = Instant::now();
    let mut answers = Vec::new();
    // 10 one after the other, then 10 at once.
    for _ in 0..10 {
        answers.push(bearer(&server, &token).await);
    }
    let at_once: Vec<_> = (0..10)
        .map(|_| {
            let request = reqwest::Client::new()
                .get(format!("{}/admin/users", server.url()))
                .bearer_auth(&token);
            tokio::spawn(send(request))
        })
        .collect();
    for handle in at_once {
        answers.push(handle.await.unwrap());
    }
    for answer in &answers {
        assert_eq!(
            rejected(answer, 503, "auth_unavailable"),
            "keys_unavailable"
        );
        let retry: u64 = answer.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&retry), "Retry-After {retry}");
    }
    assert!(
        local.jwks_fetches() <= 2,
        "{} fetches for 20 requests",
        local.jwks_fetches()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_slow_refresh_does_not_stall_requests_while_keys_are_held() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(
        local
            .config_builder()
            .jwks_ttl(Duration::from_secs(1))
            .build()
            .unwrap(),
    )
    .unwrap();
    let server = serve_with(wacht, session_handler).await.unwrap();
    assert_eq!(bearer(&server, &good_token(&local)).await.status, 200);
    local.set_jwks_fault(JwksFault::Slow(Duration::from_secs(2)));
    tokio::time::sleep(Duration::from_millis(1050)).await; // past the TTL
    let mut slowest = Duration::ZERO;
    let deadline = Instant::now() + Duration::from_millis(2500);
    let mut requests = 0;
    while Instant::now() < deadline {
        // A new token each time: no verified-token cache hit hides the key lookup.
        let token = local
            .token()
            .subject(format!("user_{requests}"))
            .organization_permissions(["user:read"])
            .sign();
        let started = Instant::now();
        let answer = bearer(&server, &token).await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(answer.status, 200, "{}", answer.text);
        requests += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        slowest < Duration::from_millis(250),
        "slowest of {requests} requests during a 2 s refresh: {slowest:?}"
    );
    // One refresh per TTL, each finished by the requests that polled it (the 2 s refresh
    // ends inside the loop, and a TTL later the next one may start): never one per request.
    let fetches = local.jwks_fetches();
    assert!(
        (2..=3).contains(&fetches),
        "{fetches} fetches for {requests} requests"
    );
}

#[tokio::test]
async fn a_cached_token_goes_with_its_removed_key() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let ttl = Duration::from_secs(1);
    let wacht = Wacht::new(
        local
            .config_builder()
            .jwks_ttl(ttl)
            .jwks_min_refresh_interval(Duration::from_secs(1))
            .build()
            .unwrap(),
    )
    .unwrap();
    let server = serve_with(wacht, session_handler).await.unwrap();
    let token = good_token(&local);
    assert_eq!(bearer(&server, &token).await.status, 200);
    assert_eq!(bearer(&server, &token).await.status, 200); // cached
    let removed_at = Instant::now();
    local.rotate(KeyAlgorithm::Es256); // the signing key is no longer published
    let refused_after = loop {
        let answer = bearer(&server, &token).await;
        if answer.status == 401 {
            assert_eq!(rejected(&answer, 401, "unauthenticated"), "unknown_key");
            break removed_at.elapsed();
        }
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(removed_at.elapsed() < 3 * ttl, "still accepted");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(
        refused_after <= 2 * ttl,
        "refused {refused_after:?} after removal (TTL {ttl:?})"
    );
}

// ----- what the gateway sends back -----

/// The credential of the check request the gateway received.
fn credential_of(seen: &Seen) -> String {
    assert_eq!(seen.method, "POST");
    serde_json::from_slice::<Value>(&seen.body).unwrap()["principal"]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "current_thread")]
async fn a_gateway_reflecting_the_credential_never_gets_it_logged_or_returned() {
    let _serial = SERIAL.lock().await;
    let (captured, _default) = common::capture_logs();

    type Reflect = fn(&str) -> Reply;
    let every_field = |cred: &str| {
        json!({
            "identity": {"key_id": cred, "deployment_id": cred, "app_slug": cred, "key_name": cred,
                         "owner_user_id": cred, "organization_id": cred, "workspace_id": cred},
            "blocked_rule": cred, "permissions": [cred], "metadata": {"note": cred},
            "message": cred, "error": cred,
        })
    };
    let cases: Vec<(&str, Reflect, u16, &str)> = vec![
        (
            "denied, reason reflected",
            |cred| {
                Reply::json(
                    200,
                    &json!({"request_id": cred, "allowed": false, "reason": cred,
                        "headers": {"X-RateLimit-60s-Limit": cred}}),
                )
            },
            403,
            "access_denied",
        ),
        (
            "rate limited, headers reflected",
            |cred| {
                Reply::json(
                    200,
                    &json!({"request_id": cred, "allowed": false, "reason": "rate_limited",
                        "retry_after": 7,
                        "headers": {"X-RateLimit-60s-Limit": cred, "X-RateLimit-60s-Reset": "7",
                                    format!("X-RateLimit-{cred}"): "5"}}),
                )
            },
            429,
            "rate_limited",
        ),
        (
            "allowed not a boolean",
            |cred| Reply::json(200, &json!({"request_id": "req_1", "allowed": cred})),
            503,
            "gateway_invalid_response",
        ),
        (
            "401 JSON",
            |cred| Reply::json(401, &json!({"request_id": cred, "message": cred})),
            401,
            "invalid_credential",
        ),
        (
            "401 text",
            |cred| Reply::text(401, cred),
            401,
            "invalid_credential",
        ),
        (
            "400",
            |cred| Reply::json(400, &json!({"message": cred, "error": cred})),
            500,
            "gateway_bad_request",
        ),
        (
            "500 text",
            |cred| Reply::text(500, cred),
            503,
            "gateway_error",
        ),
        (
            "204",
            |cred| Reply::json(204, &json!({"request_id": cred, "allowed": true})),
            503,
            "gateway_invalid_response",
        ),
    ];
    let local = LocalWacht::start().unwrap();
    for (name, reflect, status, reason) in cases {
        let gateway = FaultServer::start(move |seen| reflect(&credential_of(seen)));
        let server = serve_with(wacht_with_gateway(&local, &gateway.url), machine_handler)
            .await
            .unwrap();
        let runs = MACHINE_RUNS.load(Ordering::SeqCst);
        let answer = with_key(&server, REFLECTED_KEY).await;
        let error = match status {
            401 => "unauthenticated",
            403 => "forbidden",
            429 => "rate_limited",
            500 => "auth_misconfigured",
            _ => "auth_unavailable",
        };
        assert_eq!(rejected(&answer, status, error), reason, "{name}");
        assert_eq!(MACHINE_RUNS.load(Ordering::SeqCst), runs, "{name}");
        assert!(
            !answer.text.contains("REFLECTED"),
            "{name}: {}",
            answer.text
        );
        for (header, value) in &answer.headers {
            assert!(
                !header.as_str().contains("reflected")
                    && !value.to_str().unwrap_or("").contains("REFLECTED"),
                "{name}: {header}: {value:?}"
            );
        }
        if status == 429 {
            assert_eq!(answer.headers["x-ratelimit-60s-reset"], "7");
            assert!(!answer.headers.contains_key("x-ratelimit-60s-limit"));
        }
    }
    // Allowed, with the credential in every identity field: the handler runs, nothing logs it.
    let allowed = FaultServer::start(move |seen| {
        let cred = credential_of(seen);
        let mut body = json!({"request_id": cred, "allowed": true});
        merge(&mut body, &every_field(&cred));
        Reply::json(200, &body)
    });
    let server = serve_with(wacht_with_gateway(&local, &allowed.url), machine_handler)
        .await
        .unwrap();
    assert_eq!(with_key(&server, REFLECTED_KEY).await.status, 200);

    let logs = captured.text();
    assert!(logs.contains("request refused"), "the refusals were logged");
    assert!(!logs.contains("REFLECTED"), "{logs}");
}

fn merge(into: &mut Value, from: &Value) {
    if let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) {
        into.extend(from.clone());
    }
}

#[tokio::test]
async fn only_a_200_with_the_documented_shape_decides_and_loose_fields_are_tolerated() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    // The real gateway's loose shapes: metadata of any type, signed rate-limit counts.
    let cases = [
        (
            json!({"request_id": "req_1", "allowed": true, "metadata": ["a", 1],
                   "rate_limits": [{"rule": "burst", "remaining": -2, "limit": -1}]}),
            200,
        ),
        (
            json!({"request_id": "req_2", "allowed": false, "reason": "permission_denied",
                   "metadata": "text", "rate_limits": [{"rule": "burst", "remaining": -7, "limit": 10}]}),
            403,
        ),
        (
            json!({"request_id": "req_4", "allowed": false, "reason": "ip_blocked",
                   "blocked_rule": "office_only"}),
            403,
        ),
    ];
    for (body, status) in cases {
        let gateway = FaultServer::always(Reply::json(200, &body));
        let server = serve_with(wacht_with_gateway(&local, &gateway.url), machine_handler)
            .await
            .unwrap();
        let answer = with_key(&server, REFLECTED_KEY).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.text);
        if status == 200 {
            assert_eq!(answer.body["remaining"], json!([0]), "negative reads as 0");
        } else {
            // `permission_denied` is named; any other denial is `access_denied`.
            let expected = match body["reason"].as_str() {
                Some("permission_denied") => "permission_denied",
                _ => "access_denied",
            };
            assert_eq!(rejected(&answer, 403, "forbidden"), expected);
            assert_eq!(answer.body["request_id"], body["request_id"]);
        }
    }
    // A 2xx other than 200, and a POST answered with a GET-style redirect, are no decision.
    for status in [201, 202, 206] {
        let gateway = FaultServer::always(Reply::json(
            status,
            &json!({"request_id": "req_3", "allowed": true}),
        ));
        let server = serve_with(wacht_with_gateway(&local, &gateway.url), machine_handler)
            .await
            .unwrap();
        let runs = MACHINE_RUNS.load(Ordering::SeqCst);
        let answer = with_key(&server, REFLECTED_KEY).await;
        assert_eq!(
            rejected(&answer, 503, "auth_unavailable"),
            "gateway_invalid_response",
            "{status}"
        );
        assert_eq!(MACHINE_RUNS.load(Ordering::SeqCst), runs);
    }
}

// ----- what the backend API sends back -----

#[tokio::test(flavor = "current_thread")]
async fn a_backend_echoing_its_key_never_gets_it_into_an_error_or_a_log() {
    let _serial = SERIAL.lock().await;
    let (captured, _default) = common::capture_logs();
    const KEY: &str = "sk_live_ECHOEDbackendKEYechoedBACKENDkey";
    type Echo = fn(&str) -> Reply;
    let cases: Vec<(&str, Echo)> = vec![
        ("message, code, nested details", |key| {
            Reply::json(
                401,
                &json!({"message": format!("bad key {key}"), "code": key,
                        "details": {"sent": {"authorization": [format!("Bearer {key}")]},
                                    key: "as a member name", "n": 1}}),
            )
        }),
        ("a field of the wrong type", |key| {
            Reply::json(200, &json!({"data": [], "has_more": key}))
        }),
        ("a user id of the wrong type", |key| {
            Reply::json(
                200,
                &json!({"data": [{"id": {"key": key}}], "has_more": false}),
            )
        }),
        ("message of the wrong type", |key| {
            Reply::json(403, &json!({"message": {"key": key}, "code": 7}))
        }),
        ("text across the 8 KiB cut", |key| {
            let mut text = " ".repeat(8 * 1024 - 10);
            text.push_str(key);
            Reply::text(500, &text)
        }),
    ];
    for (name, echo) in cases {
        let backend = FaultServer::start(move |seen| {
            let key = seen
                .header("authorization")
                .and_then(|value| value.strip_prefix("Bearer ").map(str::to_owned))
                .unwrap_or_default();
            assert_eq!(key, KEY, "the key was sent");
            echo(&key)
        });
        let client = BackendClient::new(&backend.url, KEY).unwrap();
        let error = client
            .users()
            .list(UsersListQuery::new())
            .await
            .unwrap_err();
        tracing::warn!(%error, ?error, "backend call failed"); // as an application would
        let shown = format!(
            "{error} {error:?} {}",
            error
                .body()
                .map(|b| format!("{b} {b:?} {:?}", b.details()))
                .unwrap_or_default()
        );
        assert!(!shown.contains("ECHOED"), "{name}: {shown}");
    }
    let logs = captured.text();
    assert!(logs.contains("backend call failed"));
    assert!(!logs.contains("ECHOED"), "{logs}");
}

// ----- your own HTTP client, warm starts -----

#[tokio::test]
async fn a_configured_http_client_is_the_one_used_and_still_never_redirected() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let jwks = local.published_jwks();
    let agents = Arc::new(Mutex::new(Vec::new()));
    let seen = agents.clone();
    let server = FaultServer::start(move |request| {
        seen.lock()
            .unwrap()
            .push(request.header("user-agent").unwrap_or_default());
        Reply::json(200, &jwks)
    });
    let client = reqwest::Client::builder()
        .user_agent("corporate-proxy-client/1.0")
        .build()
        .unwrap();
    let wacht = Wacht::new(
        local
            .config_builder()
            .jwks_url(format!("{}/jwks", server.url))
            .http_client(client.clone())
            .build()
            .unwrap(),
    )
    .unwrap();
    let session = serve_with(wacht, session_handler).await.unwrap();
    assert_eq!(bearer(&session, &good_token(&local)).await.status, 200);
    assert_eq!(*agents.lock().unwrap(), ["corporate-proxy-client/1.0"]);

    // The same client (reqwest's default policy follows redirects) behind a redirecting
    // gateway: the answer from elsewhere is refused.
    let elsewhere = FaultServer::always(Reply::json(
        200,
        &json!({"request_id": "req_elsewhere", "allowed": true}),
    ));
    let redirect = FaultServer::always(Reply::redirect(
        307,
        &format!("{}/v1/authz/check", elsewhere.url),
    ));
    let wacht = Wacht::new(
        local
            .config_builder()
            .gateway_url(&redirect.url)
            .http_client(client)
            .build()
            .unwrap(),
    )
    .unwrap();
    let machine = serve_with(wacht, machine_handler).await.unwrap();
    let runs = MACHINE_RUNS.load(Ordering::SeqCst);
    let answer = with_key(&machine, REFLECTED_KEY).await;
    assert_eq!(rejected(&answer, 503, "auth_unavailable"), "gateway_error");
    assert_eq!(MACHINE_RUNS.load(Ordering::SeqCst), runs);
}

#[tokio::test]
async fn warm_up_fetches_the_keys_and_opens_the_gateway_connection() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    assert_eq!((local.jwks_fetches(), local.connections()), (0, 0));
    wacht.warm_up().await.unwrap();
    assert_eq!(local.jwks_fetches(), 1);
    let opened = local.connections();
    assert!(opened >= 1, "no connection opened");
    // The first requests then fetch nothing and open nothing.
    let session = serve_with(wacht.clone(), session_handler).await.unwrap();
    let machine = serve_with(wacht.clone(), machine_handler).await.unwrap();
    assert_eq!(bearer(&session, &good_token(&local)).await.status, 200);
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    assert_eq!(with_key(&machine, key.secret()).await.status, 200);
    assert_eq!(local.jwks_fetches(), 1);
    assert_eq!(
        local.connections(),
        opened,
        "the warmed connection was reused"
    );
    // A JWKS that cannot be fetched is reported.
    let down = LocalWacht::start().unwrap();
    down.set_jwks_fault(JwksFault::Status(500));
    let error = Wacht::new(down.config())
        .unwrap()
        .warm_up()
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "keys_unavailable");
}
