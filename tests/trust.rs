//! Trust, second round: the edges the layers, extractors and several runtimes opened. Each
//! test is one fault and the answer it must get, served over real HTTP (or driven through
//! the public API) against the local Wacht on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, rejected};

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::get;
use http::{HeaderMap, Response};
use wacht::testing::{ApiKeySpec, JwksFault, KeyAlgorithm, LocalWacht, OAuthTokenSpec};
use wacht::{
    AcceptedPrincipal, Auth, ClientIp, MachineAuth, MachineRequirement, PermissionRule,
    Requirement, Wacht, WachtConfig,
};

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Held by the tests that count body runs.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn runs() -> usize {
    RUNS.load(Ordering::SeqCst)
}

fn ok(text: String) -> Response<Body> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new(Body::from(text))
}

async fn get_with(url: &str, headers: &[(&str, &str)]) -> Answer {
    common::get(url, headers).await
}

fn reader(local: &LocalWacht) -> String {
    local
        .token()
        .subject("user_reader")
        .organization_permissions(["user:read"])
        .sign()
}

// ----- 1. key fetches from several runtimes -----

/// Two current-thread runtimes (thread-per-core) share one `Wacht` and take turns, each
/// staying inside `block_on` (its driver running) while it waits for its turn.
#[test]
fn two_runtimes_taking_turns_both_install_keys_and_see_a_removed_key_go() {
    let local = Arc::new(LocalWacht::start().unwrap());
    let removable = local.add_key(KeyAlgorithm::Es256);
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
    local.set_jwks_fault(JwksFault::Slow(Duration::from_millis(200)));
    // Signed with the key that will be removed; `iat` well before any fetch.
    let doomed = local
        .token()
        .key(&removable)
        .subject("user_doomed")
        .issued_at(1)
        .sign();
    let (turns_a, rx_a) = tokio::sync::mpsc::unbounded_channel::<u32>();
    let (turns_b, rx_b) = tokio::sync::mpsc::unbounded_channel::<u32>();
    #[derive(Default, Debug)]
    struct Seen {
        allowed: u32,
        unavailable: u32,
    }
    let removed_at: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
    let refused_after: Arc<std::sync::Mutex<Option<Duration>>> = Arc::default();
    let worker = |name: &'static str,
                  mut own: tokio::sync::mpsc::UnboundedReceiver<u32>,
                  other: tokio::sync::mpsc::UnboundedSender<u32>| {
        let wacht = wacht.clone();
        let local = local.clone();
        let doomed = doomed.clone();
        let removed_at = removed_at.clone();
        let refused_after = refused_after.clone();
        let removable = removable.kid().to_owned();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut seen = Seen::default();
                let started = Instant::now();
                while let Some(turn) = own.recv().await {
                    if turn == u32::MAX {
                        let _ = other.send(u32::MAX);
                        break;
                    }
                    if started.elapsed() < Duration::from_secs(2) {
                        // Phase 1: a new token each turn (no cache hit hides the keys).
                        let token = local.token().subject(format!("{name}_{turn}")).sign();
                        match wacht.verify_token(&token).await {
                            Ok(_) => seen.allowed += 1,
                            Err(error) => {
                                assert_eq!(error.reason(), "keys_timeout", "{name}: {error}");
                                seen.unavailable += 1;
                            }
                        }
                    } else {
                        // Phase 2: the removable key goes; the token it signed must stop
                        // verifying within two TTLs while the turns go on.
                        let first = removed_at.lock().unwrap().is_none();
                        if first {
                            assert!(wacht.verify_token(&doomed).await.is_ok());
                            assert!(local.remove_key(&removable));
                            *removed_at.lock().unwrap() = Some(Instant::now());
                        }
                        let since = removed_at.lock().unwrap().map(|at| at.elapsed()).unwrap();
                        if wacht.verify_token(&doomed).await.is_err() {
                            refused_after.lock().unwrap().get_or_insert(since);
                            let _ = other.send(u32::MAX);
                            break;
                        }
                        assert!(since < 3 * ttl, "{name}: still verifying after {since:?}");
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    let _ = other.send(turn + 1);
                }
                seen
            })
        })
    };
    let a = worker("a", rx_a, turns_b.clone());
    let b = worker("b", rx_b, turns_a.clone());
    turns_a.send(0).unwrap();
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert!(a.allowed >= 1 && b.allowed >= 1, "a: {a:?}, b: {b:?}");
    let fetches = local.jwks_fetches();
    // Measured: 5 (the first fetch, a refresh per runtime at the TTL, the refresh after
    // the removal, the unknown-kid refresh). One fetch per turn would be over 20.
    assert!(fetches <= 6, "{fetches} JWKS fetches");
    let refused_after = refused_after.lock().unwrap().expect("the removed key went");
    assert!(
        refused_after <= 2 * ttl + Duration::from_millis(500),
        "refused {refused_after:?} after the removal"
    );
}

// ----- 2. the default machine resource inside a nested router -----

#[wacht::machine(principal = "oauth_access_token")]
async fn attribute_users(req: axum::extract::Request) -> Response<Body> {
    ok(format!("attribute {}", req.uri().path()))
}

async fn plain_users(req: axum::extract::Request) -> Response<Body> {
    ok(format!("layer {}", req.uri().path()))
}

async fn extractor_users(auth: MachineAuth) -> Response<Body> {
    ok(format!("extractor {}", auth.resource()))
}

#[tokio::test]
async fn a_grant_for_users_does_not_pass_admin_users_in_any_form() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let oauth = MachineRequirement::new().principal(AcceptedPrincipal::OauthAccessToken);
    let inner = axum::Router::new()
        .route("/attribute/users", get(attribute_users))
        .route(
            "/layer/users",
            get(plain_users).route_layer(wacht::layer::machine(oauth.clone())),
        )
        .route(
            "/extractor/users",
            get(extractor_users).route_layer(axum::Extension(oauth)),
        );
    // The same handlers at the top level, where the path the client called is `/…/users`.
    let app = axum::Router::new()
        .nest("/admin", inner.clone())
        .merge(inner)
        .layer(axum::Extension(wacht));
    let url = common::serve_axum(app).await;
    for form in ["attribute", "layer", "extractor"] {
        let granted = local.create_oauth_token(
            OAuthTokenSpec::new()
                .permissions(["user:read"])
                .resource(format!("/{form}/users")),
        );
        let bearer = format!("Bearer {}", granted.token());
        let before = (runs(), local.gateway_checks());
        let answer = get_with(
            &format!("{url}/admin/{form}/users"),
            &[("authorization", &bearer)],
        )
        .await;
        assert_eq!(
            rejected(&answer, 403, "forbidden"),
            "permission_denied",
            "{form}"
        );
        assert_eq!(runs(), before.0, "{form}: the body ran");
        let sent = local.gateway_requests().pop().unwrap();
        assert_eq!(sent["resource"], format!("/admin/{form}/users"), "{form}");
        assert_eq!(local.gateway_checks(), before.1 + 1);
        // Where it was granted, it passes.
        let answer = get_with(
            &format!("{url}/{form}/users"),
            &[("authorization", &bearer)],
        )
        .await;
        assert_eq!(answer.status, 200, "{form}: {}", answer.text);
    }
}

#[tokio::test]
async fn dot_segments_in_the_default_resource_are_400_before_the_gateway() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    // hyper serves the path as sent; the attribute and the layer both see it.
    let server = wacht::testing::serve_with(wacht.clone(), |req| async move {
        #[wacht::machine]
        async fn handler(req: http::Request<String>) -> Response<String> {
            RUNS.fetch_add(1, Ordering::SeqCst);
            Response::new(req.uri().path().to_owned())
        }
        handler(req).await
    })
    .await
    .unwrap();
    let before = (runs(), local.gateway_checks());
    for path in [
        "/machine/users/../admin/%2e%2e/x",
        "/machine/users/%2E%2e/admin",
        "/machine/./users",
        "/machine/users/..;/admin",
        "/machine/users%2F..%2Fadmin",
        "/machine/users%5cadmin",
    ] {
        let answer = raw_get(server.addr(), path, &[("x-api-key", key.secret())]).await;
        assert_eq!(
            rejected(&answer, 400, "bad_request"),
            "ambiguous_path",
            "{path}"
        );
    }
    assert_eq!((runs(), local.gateway_checks()), before);
    // Dots inside a segment are a name, not a dot segment.
    let answer = raw_get(
        server.addr(),
        "/machine/v1.2/users..json",
        &[("x-api-key", key.secret())],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        local.gateway_requests().pop().unwrap()["resource"],
        "/machine/v1.2/users..json"
    );
    // With an explicit resource the path is not the resource: no refusal.
    let answer = wacht
        .authorize_machine(
            &http::Request::builder()
                .uri("/machine/users/../admin")
                .header("x-api-key", key.secret())
                .body(())
                .unwrap(),
            &MachineRequirement::new().resource("/machine/users"),
        )
        .await;
    assert!(
        answer.is_ok(),
        "{:?}",
        answer.err().map(|r| r.reason().to_owned())
    );
}

/// A GET of `path` exactly as written (reqwest would normalise it), over a raw socket.
async fn raw_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut map = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        map.append(
            http::HeaderName::try_from(name.trim()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    // The emulator's test server answers with a content-length, never chunked.
    Answer::from_parts(
        http::StatusCode::from_u16(status).unwrap(),
        map,
        body.to_owned(),
    )
}

// ----- 3. run-time requirements that cannot work -----

#[tokio::test]
async fn run_time_requirements_that_cannot_work_are_500_before_any_call() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let machines = [
        MachineRequirement::new().all(Vec::<String>::new()),
        MachineRequirement::new().permission(""),
        MachineRequirement::new().all(["  "]),
        MachineRequirement::new().any(Vec::<String>::new()),
        MachineRequirement::new().resource(""),
        MachineRequirement::new().resource("urn:wacht:"),
        MachineRequirement::new().method("FETCH"),
    ];
    let sessions = [
        Requirement::new().permission(""),
        Requirement::new().all(Vec::<String>::new()),
        Requirement::new().any(["user read"]),
        Requirement::new().organization(" "),
        Requirement::new().workspace(""),
    ];
    let mut app = axum::Router::new();
    for (i, requirement) in machines.iter().enumerate() {
        app = app.route(
            &format!("/machine/{i}"),
            get(plain_users).route_layer(wacht::layer::machine(requirement.clone())),
        );
    }
    for (i, requirement) in sessions.iter().enumerate() {
        app = app.route(
            &format!("/session/{i}"),
            get(plain_users).route_layer(wacht::layer::protect(requirement.clone())),
        );
    }
    let url = common::serve_axum(app.layer(axum::Extension(wacht.clone()))).await;
    let before = runs();
    for i in 0..machines.len() {
        let answer = get_with(
            &format!("{url}/machine/{i}"),
            &[("x-api-key", key.secret())],
        )
        .await;
        assert_eq!(
            rejected(&answer, 500, "auth_misconfigured"),
            "invalid_requirement",
            "{i}"
        );
    }
    let bearer = format!("Bearer {}", reader(&local));
    for i in 0..sessions.len() {
        let answer = get_with(&format!("{url}/session/{i}"), &[("authorization", &bearer)]).await;
        assert_eq!(
            rejected(&answer, 500, "auth_misconfigured"),
            "invalid_requirement",
            "{i}"
        );
    }
    assert_eq!(runs(), before);
    assert_eq!(local.gateway_checks(), 0, "no gateway call");
    assert_eq!(local.jwks_fetches(), 0, "no key fetch");
    // The extractor's check answers the same for a rule that cannot work.
    let auth = wacht
        .authorize_machine(
            &http::Request::builder()
                .uri("/machine/users")
                .header("x-api-key", key.secret())
                .body(())
                .unwrap(),
            &MachineRequirement::new(),
        )
        .await
        .unwrap();
    let refused = auth
        .check(&PermissionRule::any(Vec::<String>::new()))
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.reason()),
        (
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "invalid_requirement"
        )
    );
}

// ----- 4. the header bridge cannot be forged through a protected handler -----

#[wacht::protect]
async fn bridge_attribute_session(req: axum::extract::Request) -> Response<Body> {
    ok(bridge_seen(req.headers()))
}

#[wacht::machine]
async fn bridge_attribute_machine(req: axum::extract::Request) -> Response<Body> {
    ok(bridge_seen(req.headers()))
}

#[wacht::protect(optional)]
async fn bridge_attribute_optional(
    req: axum::extract::Request,
    auth: Option<Auth>,
) -> Response<Body> {
    let _ = auth;
    ok(bridge_seen(req.headers()))
}

async fn bridge_plain(headers: HeaderMap) -> Response<Body> {
    ok(bridge_seen(&headers))
}

async fn bridge_extractor(auth: Auth, headers: HeaderMap) -> Response<Body> {
    let _ = auth;
    ok(bridge_seen(&headers))
}

fn bridge_seen(headers: &HeaderMap) -> String {
    match headers.get(wacht::bridge::HEADER) {
        Some(value) => format!("bridge: {}", value.to_str().unwrap_or("?")),
        None => "no bridge".to_owned(),
    }
}

#[tokio::test]
async fn a_forged_bridge_header_never_reaches_the_handler() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let app = axum::Router::new()
        .route("/attribute/session", get(bridge_attribute_session))
        .route("/attribute/machine", get(bridge_attribute_machine))
        .route("/attribute/optional", get(bridge_attribute_optional))
        .route(
            "/layer/session",
            get(bridge_plain).route_layer(wacht::layer::protect(Requirement::new())),
        )
        .route(
            "/layer/machine",
            get(bridge_plain).route_layer(wacht::layer::machine(MachineRequirement::new())),
        )
        .route(
            "/layer/optional",
            get(bridge_plain).route_layer(wacht::layer::optional()),
        )
        .route(
            "/layer/either",
            get(bridge_plain).route_layer(wacht::layer::either(
                Requirement::new(),
                MachineRequirement::new(),
            )),
        )
        .route("/extractor/session", get(bridge_extractor))
        .layer(axum::Extension(wacht));
    let url = common::serve_axum(app).await;
    let forged = r#"{"userId":"user_admin","sessionId":null,"organizationId":null,"workspaceId":null,"organizationPermissions":["*"],"workspacePermissions":[]}"#;
    let bearer = format!("Bearer {}", reader(&local));
    let key = local.create_api_key(ApiKeySpec::new());
    for (path, credential) in [
        ("/attribute/session", ("authorization", bearer.as_str())),
        ("/attribute/machine", ("x-api-key", key.secret())),
        ("/attribute/optional", ("authorization", bearer.as_str())),
        ("/attribute/optional", ("x-signed-out", "1")),
        ("/layer/session", ("authorization", bearer.as_str())),
        ("/layer/machine", ("x-api-key", key.secret())),
        ("/layer/optional", ("authorization", bearer.as_str())),
        ("/layer/optional", ("x-signed-out", "1")),
        ("/layer/either", ("authorization", bearer.as_str())),
        ("/layer/either", ("x-api-key", key.secret())),
        ("/extractor/session", ("authorization", bearer.as_str())),
    ] {
        let answer = get_with(
            &format!("{url}{path}"),
            &[
                credential,
                ("x-wacht-auth", forged),
                ("x-wacht-auth", forged),
            ],
        )
        .await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        assert_eq!(answer.text, "no bridge", "{path} with {}", credential.0);
    }
}

// ----- 5. bounded settings -----

#[tokio::test]
async fn every_out_of_range_setting_is_a_configuration_error_never_a_panic() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let key = local.create_api_key(ApiKeySpec::new());
    let bearer = format!("Bearer {}", reader(&local));
    type Set = fn(wacht::WachtConfigBuilder) -> wacht::WachtConfigBuilder;
    let cases: [(Set, &str, bool); 7] = [
        (|b| b.http_timeout(Duration::MAX), "invalid_timeout", true),
        (|b| b.http_timeout(Duration::ZERO), "invalid_timeout", true),
        (|b| b.jwks_ttl(Duration::MAX), "invalid_jwks_ttl", false),
        (|b| b.jwks_ttl(Duration::ZERO), "invalid_jwks_ttl", false),
        (
            |b| b.jwks_min_refresh_interval(Duration::ZERO),
            "invalid_jwks_min_refresh_interval",
            false,
        ),
        (
            |b| b.jwks_min_refresh_interval(Duration::MAX),
            "invalid_jwks_min_refresh_interval",
            false,
        ),
        (
            |b| b.token_cache_capacity(usize::MAX),
            "invalid_token_cache",
            false,
        ),
    ];
    for (set, reason, every_scope) in cases {
        assert_eq!(
            set(local.config_builder()).build().unwrap_err().reason(),
            reason
        );
        let wacht = Wacht::new(set(local.config_builder()).build_scoped()).unwrap();
        let app = axum::Router::new()
            .route(
                "/session",
                get(plain_users).route_layer(wacht::layer::protect(Requirement::new())),
            )
            .route(
                "/machine",
                get(plain_users).route_layer(wacht::layer::machine(MachineRequirement::new())),
            )
            .layer(axum::Extension(wacht));
        let url = common::serve_axum(app).await;
        let answer = get_with(&format!("{url}/session"), &[("authorization", &bearer)]).await;
        assert_eq!(rejected(&answer, 500, "auth_misconfigured"), reason);
        let answer = get_with(&format!("{url}/machine"), &[("x-api-key", key.secret())]).await;
        if every_scope {
            assert_eq!(rejected(&answer, 500, "auth_misconfigured"), reason);
        } else {
            assert_eq!(answer.status, 200, "{reason}: machine checks keep working");
        }
    }
    for (name, value, reason) in [
        ("WACHT_HTTP_TIMEOUT_MS", "300001", "invalid_timeout"),
        ("WACHT_HTTP_TIMEOUT_MS", "0", "invalid_timeout"),
        ("WACHT_JWKS_TTL_SECONDS", "86401", "invalid_jwks_ttl"),
        (
            "WACHT_JWKS_MIN_REFRESH_INTERVAL_SECONDS",
            "0",
            "invalid_jwks_min_refresh_interval",
        ),
        (
            "WACHT_JWKS_MIN_REFRESH_INTERVAL_SECONDS",
            "3601",
            "invalid_jwks_min_refresh_interval",
        ),
    ] {
        let publishable = local.publishable_key();
        let wacht = Wacht::from_lookup(|asked| match asked {
            "WACHT_PUBLISHABLE_KEY" => Some(publishable.clone()),
            _ if asked == name => Some(value.to_owned()),
            _ => None,
        })
        .unwrap();
        let refused = wacht.verify_token(&reader(&local)).await.unwrap_err();
        assert_eq!(refused.reason(), reason, "{name}={value}");
    }
}

// ----- 6. optional sign-in with a broken configuration -----

#[tokio::test]
async fn optional_sign_in_with_a_broken_configuration_is_500() {
    let _serial = SERIAL.lock().await;
    async fn maybe(auth: Option<Auth>) -> Response<Body> {
        ok(format!("{:?}", auth.map(|a| a.user_id().to_owned())))
    }
    let broken = Wacht::new(
        WachtConfig::builder()
            .publishable_key("pk_test_!!!")
            .build_scoped(),
    )
    .unwrap();
    let app = axum::Router::new()
        .route("/extractor", get(maybe))
        .route(
            "/layer",
            get(bridge_plain).route_layer(wacht::layer::optional()),
        )
        .route("/attribute", get(bridge_attribute_optional))
        .layer(axum::Extension(broken));
    let url = common::serve_axum(app).await;
    let before = runs();
    for path in ["/extractor", "/layer", "/attribute"] {
        let answer = get_with(&format!("{url}{path}"), &[]).await;
        assert_eq!(
            rejected(&answer, 500, "auth_misconfigured"),
            "invalid_publishable_key",
            "{path} signed out"
        );
    }
    assert_eq!(runs(), before);
}

// ----- 7. the backend client uses the configured HTTP client -----

/// An HTTP proxy on loopback: records each request line it is asked for, and forwards it.
async fn proxy() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let seen: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = seen.clone();
    tokio::spawn(async move {
        let forward = reqwest::Client::builder().no_proxy().build().unwrap();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (log, forward) = (log.clone(), forward.clone());
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (log, forward) = (log.clone(), forward.clone());
                        async move {
                            log.lock()
                                .unwrap()
                                .push(format!("{} {}", req.method(), req.uri()));
                            let mut outgoing =
                                forward.request(req.method().clone(), req.uri().to_string());
                            for (name, value) in req.headers() {
                                outgoing = outgoing.header(name, value);
                            }
                            let answer = outgoing.send().await.unwrap();
                            let status = answer.status();
                            let body = answer.bytes().await.unwrap();
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .status(status)
                                    .body(http_body_util::Full::new(body))
                                    .unwrap(),
                            )
                        }
                    });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn backend_calls_go_through_the_configured_client() {
    let local = LocalWacht::start().unwrap();
    let (proxy_url, seen) = proxy().await;
    let client = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(&proxy_url).unwrap())
        .build()
        .unwrap();
    let config = local.config_builder().http_client(client).build().unwrap();
    let through_context = Wacht::new(config.clone())
        .unwrap()
        .backend()
        .users()
        .list(Default::default())
        .await;
    assert!(through_context.is_ok(), "{:?}", through_context.err());
    let through_config = wacht::BackendClient::from_config(&config)
        .unwrap()
        .users()
        .list(Default::default())
        .await;
    assert!(through_config.is_ok(), "{:?}", through_config.err());
    let seen = seen.lock().unwrap().clone();
    let users = format!("GET {}/users", local.url());
    assert_eq!(
        seen.iter().filter(|line| line.starts_with(&users)).count(),
        2,
        "the proxy saw: {seen:?}"
    );
}

// ----- 9. garbage tokens cost nothing -----

#[tokio::test]
async fn garbage_tokens_are_401_at_once_with_the_jwks_down_and_fetch_nothing() {
    let local = LocalWacht::start().unwrap();
    local.set_jwks_fault(JwksFault::Down);
    let wacht = Wacht::new(local.config()).unwrap();
    let signed = reader(&local);
    let (header, rest) = signed.split_once('.').unwrap();
    for garbage in [
        "not-a-jwt".to_owned(),
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        format!("!!!.{rest}"),
        format!("{header}.pay load.sig"),
        format!("{header}.payload.sig+nature/"),
        format!("{}.e30.c2ln", base64url(r#"{"alg":"none"}"#)),
        format!("{}.e30.c2ln", base64url(r#"{"alg":"HS256"}"#)),
        format!("{}.e30.c2ln", base64url(r#"{"kid":"k"}"#)),
        format!("{}.e30.c2ln", base64url(r#"{"alg":"ES256","kid":7}"#)),
        format!(
            "{}.e30.c2ln",
            base64url(r#"{"alg":"ES256","crit":["b64"]}"#)
        ),
        format!("{header}.e30."),
    ] {
        let started = Instant::now();
        let refused = wacht.verify_token(&garbage).await.unwrap_err();
        assert!(
            matches!(
                refused.reason(),
                "malformed_token" | "unsupported_algorithm"
            ),
            "{garbage}: {}",
            refused.reason()
        );
        assert!(started.elapsed() < Duration::from_millis(100), "{garbage}");
    }
    assert_eq!(local.jwks_fetches(), 0);
    // A well-formed token still needs the keys: 503 while the JWKS is down.
    assert_eq!(
        wacht.verify_token(&signed).await.unwrap_err().reason(),
        "keys_unavailable"
    );
    assert_eq!(local.jwks_fetches(), 1);
}

fn base64url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

// ----- 10. the client-IP policy reads only what it trusts -----

#[tokio::test]
async fn a_non_ascii_forwarded_for_prefix_leaves_the_trusted_entry_intact() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(
        local
            .config_builder()
            .client_ip(ClientIp::RightmostForwardedFor(1))
            .build()
            .unwrap(),
    )
    .unwrap();
    let key = local.create_api_key(ApiKeySpec::new());
    let mut req = http::Request::builder()
        .uri("/machine/users")
        .header("x-api-key", key.secret())
        .body(())
        .unwrap();
    req.headers_mut().append(
        "x-forwarded-for",
        http::HeaderValue::from_bytes(b"\xff\xfe caller-written \xe9, 203.0.113.7").unwrap(),
    );
    wacht
        .authorize_machine(&req, &MachineRequirement::new())
        .await
        .unwrap();
    assert_eq!(
        local.gateway_requests().pop().unwrap()["client_ip"],
        "203.0.113.7"
    );
    // A non-ASCII selected entry is no IP: none is sent.
    req.headers_mut().insert(
        "x-forwarded-for",
        http::HeaderValue::from_bytes(b"1.2.3.4, 203.0.113.\xe9").unwrap(),
    );
    wacht
        .authorize_machine(&req, &MachineRequirement::new())
        .await
        .unwrap();
    let sent = local.gateway_requests().pop().unwrap();
    assert_eq!(sent.get("client_ip"), None, "{sent}");
}

// ----- 11. an unknown kid while the refresh is rate-limited -----

#[tokio::test]
async fn an_unknown_kid_while_the_refresh_is_limited_is_503_unless_the_set_is_newer() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(
        local
            .config_builder()
            .jwks_min_refresh_interval(Duration::from_secs(2))
            .build()
            .unwrap(),
    )
    .unwrap();
    assert!(wacht.verify_token(&reader(&local)).await.is_ok());
    // An unknown kid: the first refresh is allowed (and the key is still unknown after it).
    let stranger = wacht::testing::TestKey::generate(KeyAlgorithm::Es256);
    let forged = local.token().key(&stranger).sign();
    assert_eq!(
        wacht.verify_token(&forged).await.unwrap_err().reason(),
        "unknown_key"
    );
    let fetches = local.jwks_fetches();
    // Now a key is rotated in; a token signed with it comes within the minimum interval.
    let rotated = local.add_key(KeyAlgorithm::Es256);
    let fresh = local.token().key(&rotated).subject("user_rotated").sign();
    let refused = wacht.verify_token(&fresh).await.unwrap_err();
    assert_eq!(refused.reason(), "keys_unavailable", "{refused}");
    let rejection = refused.rejection();
    assert_eq!(rejection.status(), 503);
    let retry = rejection.retry_after().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    // A token issued well before the held set was fetched: its key would be in the set.
    let old = local.token().key(&rotated).issued_at(1).sign();
    assert_eq!(
        wacht.verify_token(&old).await.unwrap_err().reason(),
        "unknown_key"
    );
    assert_eq!(
        local.jwks_fetches(),
        fetches,
        "no refresh inside the interval"
    );
    // Once the interval has passed the refresh brings the rotated key in.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert!(wacht.verify_token(&fresh).await.is_ok());
}

// ----- 13. a cold instance recovers fast -----

#[tokio::test]
async fn a_cold_instance_retries_after_about_a_second_not_the_whole_interval() {
    let local = LocalWacht::start().unwrap();
    local.set_jwks_fault(JwksFault::Status(503));
    // The default minimum refresh interval (30 s) applies once keys are held.
    let wacht = Wacht::new(local.config()).unwrap();
    let token = reader(&local);
    let started = Instant::now();
    let refused = wacht.verify_token(&token).await.unwrap_err();
    assert_eq!(refused.reason(), "keys_unavailable");
    assert_eq!(refused.rejection().retry_after(), Some(1));
    local.set_jwks_fault(JwksFault::None);
    let recovered = loop {
        if wacht.verify_token(&token).await.is_ok() {
            break started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(3), "not recovered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(recovered >= Duration::from_millis(700), "{recovered:?}");
    assert_eq!(local.jwks_fetches(), 2, "one failed fetch, one retry");
}

// ----- 14. the machine forms answer alike -----

#[wacht::machine(all = ["user:read", "user:write"])]
async fn parity_attribute_all(req: axum::extract::Request) -> Response<Body> {
    let _ = req;
    ok("attribute".to_owned())
}

#[wacht::machine(any = ["user:write", "user:admin"])]
async fn parity_attribute_any(req: axum::extract::Request) -> Response<Body> {
    let _ = req;
    ok("attribute".to_owned())
}

async fn parity_extractor_all(auth: MachineAuth) -> Result<Response<Body>, wacht::Rejection> {
    auth.check(&PermissionRule::all(["user:read", "user:write"]))?;
    Ok(ok("extractor".to_owned()))
}

async fn parity_extractor_any(auth: MachineAuth) -> Result<Response<Body>, wacht::Rejection> {
    auth.check(&PermissionRule::any(["user:write", "user:admin"]))?;
    Ok(ok("extractor".to_owned()))
}

#[tokio::test]
async fn attribute_layer_and_extractor_answer_machines_alike() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let all = MachineRequirement::new().all(["user:read", "user:write"]);
    let any = MachineRequirement::new().any(["user:write", "user:admin"]);
    let app = axum::Router::new()
        .route("/attribute/all", get(parity_attribute_all))
        .route("/attribute/any", get(parity_attribute_any))
        .route(
            "/layer/all",
            get(plain_users).route_layer(wacht::layer::machine(all)),
        )
        .route(
            "/layer/any",
            get(plain_users).route_layer(wacht::layer::machine(any)),
        )
        .route("/extractor/all", get(parity_extractor_all))
        .route("/extractor/any", get(parity_extractor_any))
        .layer(axum::Extension(wacht));
    let url = common::serve_axum(app).await;
    let reader = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let writer = local.create_api_key(ApiKeySpec::new().permissions(["user:read", "user:write"]));
    for rule in ["all", "any"] {
        let mut answers = Vec::new();
        for form in ["attribute", "layer", "extractor"] {
            let before = runs();
            let answer = get_with(
                &format!("{url}/{form}/{rule}"),
                &[("x-api-key", reader.secret())],
            )
            .await;
            rejected(&answer, 403, "forbidden");
            assert_eq!(runs(), before, "{form} {rule}: the body ran");
            let mut body = answer.body.clone();
            assert!(body["request_id"].is_string(), "{form} {rule}: {body}");
            body.as_object_mut().unwrap().remove("request_id");
            answers.push((form, answer.status, body));
            let allowed = get_with(
                &format!("{url}/{form}/{rule}"),
                &[("x-api-key", writer.secret())],
            )
            .await;
            assert_eq!(allowed.status, 200, "{form} {rule}: {}", allowed.text);
        }
        let (_, status, body) = &answers[0];
        for (form, other_status, other_body) in &answers[1..] {
            assert_eq!((status, body), (other_status, other_body), "{form} {rule}");
        }
        let expected = if rule == "all" {
            "permission_denied"
        } else {
            "missing_permission"
        };
        assert_eq!(body["reason"], expected);
        assert_eq!(body["required"].as_array().map(Vec::len), Some(2));
    }
}
