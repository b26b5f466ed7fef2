//! Browser sessions, end to end: a browser-like client (reqwest with a cookie jar, redirects
//! not followed so each hop is seen) against a server-rendered axum app whose handlers use
//! the attribute, the layer and the extractor, and the local Wacht playing the frontend API
//! (`/session/token`, `/sign-in`) on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Answer;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::routing::{get, post};
use http::{Response, StatusCode};
use reqwest::cookie::{CookieStore as _, Jar};
use wacht::testing::{FrontendFault, FrontendMode, LocalWacht, SessionUser};
use wacht::{Auth, Requirement, Wacht};

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Held by the tests that count body runs.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn runs() -> usize {
    RUNS.load(Ordering::SeqCst)
}

fn html(text: String) -> Response<Body> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Response::builder()
        .header("content-type", "text/html")
        .body(Body::from(text))
        .unwrap()
}

#[wacht::protect]
async fn page(req: axum::extract::Request, auth: Auth) -> Response<Body> {
    let _ = req;
    html(format!("<p>hello {}</p>", auth.user_id()))
}

#[wacht::protect(permission = "user:read")]
async fn admin(
    req: axum::extract::Request,
    auth: Auth,
) -> Result<Response<Body>, std::convert::Infallible> {
    let _ = req;
    Ok(html(format!("<p>admin for {}</p>", auth.user_id())))
}

#[wacht::protect(optional)]
async fn home(req: axum::extract::Request, auth: Option<Auth>) -> Response<Body> {
    let _ = req;
    html(match auth {
        Some(auth) => format!("<p>welcome back {}</p>", auth.user_id()),
        None => "<p>welcome, stranger</p>".to_owned(),
    })
}

#[wacht::protect]
async fn write(req: axum::extract::Request, auth: Auth) -> Response<Body> {
    let _ = req;
    html(format!("written by {}", auth.user_id()))
}

async fn api_me(auth: Auth) -> Response<Body> {
    html(format!("api {}", auth.user_id()))
}

#[wacht::protect]
async fn socket(req: axum::extract::Request, auth: Auth) -> Response<Body> {
    let _ = req;
    RUNS.fetch_add(1, Ordering::SeqCst);
    // The handshake answer; the subprotocol is left for the check to echo.
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "upgrade")
        .header("x-user", auth.user_id())
        .body(Body::empty())
        .unwrap()
}

async fn maybe(auth: Option<Auth>) -> Response<Body> {
    html(format!("maybe {:?}", auth.map(|a| a.user_id().to_owned())))
}

async fn caller(caller: wacht::Caller) -> Response<Body> {
    html(match caller {
        wacht::Caller::Session(auth) => format!("person {}", auth.user_id()),
        wacht::Caller::Machine(_) => "machine".to_owned(),
    })
}

struct App {
    local: LocalWacht,
    url: String,
}

const READER: &str = "user_reader";
const PLAIN: &str = "user_plain";

async fn app(
    configure: impl FnOnce(wacht::WachtConfigBuilder) -> wacht::WachtConfigBuilder,
) -> App {
    let local = LocalWacht::start().unwrap();
    local.add_session_user(SessionUser::new(READER).organization("org_1", ["user:read"]));
    local.add_session_user(SessionUser::new(PLAIN));
    let wacht = Wacht::new(
        configure(local.config_builder().browser_sessions(true))
            .build()
            .unwrap(),
    )
    .unwrap();
    let router = axum::Router::new()
        .route("/page", get(page))
        .route("/admin", get(admin))
        .route("/home", get(home))
        .route("/write", post(write))
        .route("/socket", get(socket))
        .route(
            "/api/me",
            get(api_me).route_layer(wacht::layer::protect(Requirement::new())),
        )
        .route("/api/extractor", get(api_me))
        .route("/api/maybe", get(maybe))
        .route(
            "/layer/optional",
            get(maybe).route_layer(wacht::layer::optional()),
        )
        .route(
            "/layer/either",
            get(caller).route_layer(wacht::layer::either(
                Requirement::new(),
                wacht::MachineRequirement::new(),
            )),
        )
        .layer(axum::Extension(wacht));
    let url = common::serve_axum(router).await;
    App { local, url }
}

/// A browser: a cookie jar, no redirect followed (each hop is checked).
fn browser() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (client, jar)
}

async fn navigate(client: &reqwest::Client, url: &str) -> Answer {
    common::send(
        client
            .get(url)
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
    )
    .await
}

/// The cookies the jar would send to `url`, as one `Cookie` header value.
fn cookies(jar: &Jar, url: &str) -> String {
    jar.cookies(&url.parse().unwrap())
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn cookie_value(jar: &Jar, url: &str, name: &str) -> Option<String> {
    cookies(jar, url)
        .split("; ")
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_owned))
}

/// `__auth_<scope>` for this emulator.
fn auth_cookie_name(local: &LocalWacht) -> String {
    let host = local.url().trim_start_matches("http://");
    let scope: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("__auth_{scope}")
}

/// Signs `user` in through the emulator's sign-in page, as a browser does.
async fn sign_in(client: &reqwest::Client, app: &App, user: &str, back: &str) -> Answer {
    let answer = navigate(
        client,
        &format!(
            "{}?user={user}&redirect_uri={}",
            app.local.sign_in_url(),
            urlencode(back)
        ),
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.text);
    assert_eq!(answer.headers["location"], back);
    answer
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn signed_out_pages_redirect_to_sign_in_and_apis_get_json() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b).await;
    let (client, _) = browser();
    let before = runs();
    let answer = navigate(&client, &format!("{}/page?tab=2", app.url)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    let location = answer.headers["location"].to_str().unwrap();
    let expected = format!(
        "{}?redirect_uri={}",
        app.local.sign_in_url(),
        urlencode(&format!("{}/page?tab=2", app.url))
    );
    assert_eq!(location, expected);
    assert_eq!(answer.body["error"], "redirect");
    assert_eq!(answer.body["reason"], "sign_in_required");
    // An API call (JSON) gets the 401; so does a page route asked for JSON.
    let api = common::send(client.get(format!("{}/api/me", app.url))).await;
    assert_eq!(
        common::rejected(&api, 401, "unauthenticated"),
        "missing_token"
    );
    let json = common::send(
        client
            .get(format!("{}/page", app.url))
            .header("accept", "application/json"),
    )
    .await;
    assert_eq!(json.status, 401);
    assert_eq!(runs(), before);
    assert_eq!(app.local.session_exchanges(), 0, "no cookie, no exchange");
}

#[tokio::test]
async fn the_session_cookie_is_exchanged_once_then_the_cache_cookie_serves() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b).await;
    let (client, jar) = browser();
    let page_url = format!("{}/page", app.url);
    // Signed out: to sign-in, which signs in and sends the browser back.
    let answer = navigate(&client, &page_url).await;
    assert_eq!(answer.status, 303);
    sign_in(&client, &app, READER, &page_url).await;
    assert!(
        cookie_value(&jar, &app.url, "__session").is_some(),
        "{}",
        cookies(&jar, &app.url)
    );
    // Back on the page: one exchange, the page, and the cache cookie set.
    let answer = navigate(&client, &page_url).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, format!("<p>hello {READER}</p>"));
    assert_eq!(app.local.session_exchanges(), 1);
    let set_cookie: Vec<_> = answer
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let name = auth_cookie_name(&app.local);
    let auth = set_cookie
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{set_cookie:?}"));
    for attribute in ["Path=/", "Secure", "SameSite=Lax", "HttpOnly", "Max-Age="] {
        assert!(auth.contains(attribute), "{auth}");
    }
    let max_age: i64 = auth.split("Max-Age=").nth(1).unwrap().parse().unwrap();
    assert!((25..=33).contains(&max_age), "{auth}");
    // The next requests use the cache: no exchange.
    for path in ["/page", "/admin", "/home", "/api/me", "/api/extractor"] {
        let answer = navigate(&client, &format!("{}{path}", app.url)).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
    }
    assert_eq!(app.local.session_exchanges(), 1, "the cache cookie served");
    // A signed-in caller without the permission gets 403, never a redirect loop.
    let (plain, _) = browser();
    let admin_url = format!("{}/admin", app.url);
    sign_in(&plain, &app, PLAIN, &admin_url).await;
    let answer = navigate(&plain, &admin_url).await;
    assert_eq!(
        common::rejected(&answer, 403, "forbidden"),
        "missing_permission"
    );
}

#[tokio::test]
async fn an_expired_cache_cookie_is_cleared_and_one_exchange_decides() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b).await;
    let (client, jar) = browser();
    let page_url = format!("{}/page", app.url);
    sign_in(&client, &app, READER, &page_url).await;
    // A cache cookie holding an expired token (the browser kept it; the server must not).
    let expired = app.local.token().subject(READER).expires_at(1).sign();
    let name = auth_cookie_name(&app.local);
    jar.add_cookie_str(
        &format!("{name}={expired}; Path=/"),
        &app.url.parse().unwrap(),
    );
    let answer = navigate(&client, &page_url).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(app.local.session_exchanges(), 1);
    let fresh = cookie_value(&jar, &app.url, &name).unwrap();
    assert_ne!(fresh, expired, "replaced by the exchanged token");
    // A cache cookie that is garbage: cleared, the session decides; never an error.
    jar.add_cookie_str(
        &format!("{name}=not.a.token; Path=/"),
        &app.url.parse().unwrap(),
    );
    let answer = navigate(&client, &page_url).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(app.local.session_exchanges(), 2);
}

#[tokio::test]
async fn a_rotated_session_cookie_reaches_the_jar() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b).await;
    let (client, jar) = browser();
    let page_url = format!("{}/page", app.url);
    sign_in(&client, &app, READER, &page_url).await;
    let first = cookie_value(&jar, &app.url, "__session").unwrap();
    app.local.expire_session_transports();
    let answer = navigate(&client, &page_url).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let rotated = cookie_value(&jar, &app.url, "__session").unwrap();
    assert_ne!(rotated, first, "the rotated __session was passed on");
    // The old transport is refused by the frontend API now; the rotated one works.
    let (other, other_jar) = browser();
    other_jar.add_cookie_str(
        &format!("__session={first}; Path=/"),
        &app.url.parse().unwrap(),
    );
    let answer = navigate(&other, &page_url).await;
    assert_eq!(
        answer.status, 303,
        "the old session is signed out: {}",
        answer.text
    );
}

#[tokio::test]
async fn a_bearer_token_decides_alone_and_the_transport_token_is_no_session_token() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b).await;
    let (client, jar) = browser();
    let page_url = format!("{}/page", app.url);
    sign_in(&client, &app, READER, &page_url).await;
    assert_eq!(navigate(&client, &page_url).await.status, 200);
    let before = runs();
    // Valid cookies, an invalid Bearer: 401, never the cookies.
    let answer = common::send(
        client
            .get(&page_url)
            .header("authorization", "Bearer not-a-token"),
    )
    .await;
    assert_eq!(
        common::rejected(&answer, 401, "unauthenticated"),
        "malformed_token"
    );
    let expired = app.local.token().subject(READER).expires_at(1).sign();
    let answer = common::send(client.get(&page_url).bearer_auth(expired)).await;
    assert_eq!(
        common::rejected(&answer, 401, "unauthenticated"),
        "token_expired"
    );
    // The `__session` transport token (no `sub`) as a Bearer token, or as the cache cookie.
    let transport = cookie_value(&jar, &app.url, "__session").unwrap();
    let answer = common::send(
        reqwest::Client::new()
            .get(&page_url)
            .bearer_auth(&transport),
    )
    .await;
    assert_eq!(
        common::rejected(&answer, 401, "unauthenticated"),
        "missing_subject"
    );
    let (fresh, fresh_jar) = browser();
    let name = auth_cookie_name(&app.local);
    fresh_jar.add_cookie_str(
        &format!("{name}={transport}; Path=/"),
        &app.url.parse().unwrap(),
    );
    let answer = navigate(&fresh, &page_url).await;
    assert_eq!(
        answer.status, 303,
        "the transport token is no session: {}",
        answer.text
    );
    assert_eq!(runs(), before);
}

#[tokio::test]
async fn a_frontend_api_that_misbehaves_is_503_never_signed_out() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b.http_timeout(Duration::from_millis(800))).await;
    let (client, _) = browser();
    let page_url = format!("{}/page", app.url);
    let home_url = format!("{}/home", app.url);
    sign_in(&client, &app, READER, &page_url).await;
    let before = runs();
    for (fault, reason) in [
        (FrontendFault::Down, "session_exchange_unavailable"),
        (
            FrontendFault::Slow(Duration::from_secs(3)),
            "session_exchange_timeout",
        ),
        (FrontendFault::Redirect, "session_exchange_unavailable"),
        (FrontendFault::Huge, "session_exchange_unavailable"),
        (FrontendFault::InvalidJson, "session_exchange_unavailable"),
        (FrontendFault::Status(500), "session_exchange_unavailable"),
        (FrontendFault::Status(403), "session_exchange_unavailable"),
    ] {
        app.local.set_frontend_fault(fault);
        let started = std::time::Instant::now();
        for url in [&page_url, &home_url] {
            let answer = navigate(&client, url).await;
            assert_eq!(
                common::rejected(&answer, 503, "auth_unavailable"),
                reason,
                "{fault:?} {url}"
            );
            assert!(answer.headers.contains_key("retry-after"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{fault:?}: {:?}",
            started.elapsed()
        );
    }
    assert_eq!(runs(), before, "neither the page nor the optional page ran");
    // Its rate limit: 503 with its retry time.
    app.local.set_frontend_fault(FrontendFault::None);
    app.local
        .set_session_token_rate_limit(Some((0, Duration::from_secs(60))));
    let answer = navigate(&client, &page_url).await;
    assert_eq!(
        common::rejected(&answer, 503, "auth_unavailable"),
        "session_exchange_rate_limited"
    );
    let retry: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // "No active sign in" is signed out: the page redirects, the optional page runs.
    app.local.set_session_token_rate_limit(None);
    app.local.sign_out_everyone();
    assert_eq!(navigate(&client, &page_url).await.status, 303);
    let answer = navigate(&client, &home_url).await;
    assert_eq!(answer.text, "<p>welcome, stranger</p>");
}

#[tokio::test]
async fn cookie_authenticated_writes_must_come_from_this_site() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b.allowed_origins(["https://admin.example.com"])).await;
    let (client, _) = browser();
    let write_url = format!("{}/write", app.url);
    sign_in(&client, &app, READER, &format!("{}/page", app.url)).await;
    let before = (runs(), app.local.session_exchanges());
    for origin in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        let answer = common::send(client.post(&write_url).header("origin", origin)).await;
        assert_eq!(
            common::rejected(&answer, 403, "forbidden"),
            "cross_site_request",
            "{origin}"
        );
    }
    let answer = common::send(client.post(&write_url)).await;
    assert_eq!(
        common::rejected(&answer, 403, "forbidden"),
        "cross_site_request",
        "no Origin"
    );
    let answer = common::send(
        client
            .post(&write_url)
            .header("sec-fetch-site", "cross-site"),
    )
    .await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        (runs(), app.local.session_exchanges()),
        before,
        "refused before any exchange"
    );
    // The same origin, an allowed one, or same-origin fetch metadata: written.
    for (name, value) in [
        ("origin", app.url.as_str()),
        ("origin", "https://admin.example.com"),
        ("sec-fetch-site", "same-origin"),
    ] {
        let answer = common::send(client.post(&write_url).header(name, value)).await;
        assert_eq!(answer.status, 200, "{name}: {value}: {}", answer.text);
    }
    // A Bearer-authenticated write is not affected.
    let token = app.local.token().subject(READER).sign();
    let answer = common::send(
        reqwest::Client::new()
            .post(&write_url)
            .bearer_auth(token)
            .header("origin", "https://evil.example"),
    )
    .await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn a_development_session_in_the_query_is_stored_and_removed_by_a_redirect() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b).await;
    app.local.set_frontend_mode(FrontendMode::Development);
    let (client, jar) = browser();
    let page_url = format!("{}/page?tab=2", app.url);
    // The sign-in page sends development deployments back with `?__dev_session__=`.
    let answer = navigate(
        &client,
        &format!(
            "{}?user={READER}&redirect_uri={}",
            app.local.sign_in_url(),
            urlencode(&page_url)
        ),
    )
    .await;
    assert_eq!(answer.status, 303);
    let back = answer.headers["location"].to_str().unwrap().to_owned();
    assert!(back.contains("__dev_session__="), "{back}");
    let answer = navigate(&client, &back).await;
    assert_eq!(answer.status, 303, "{}", answer.text);
    assert_eq!(answer.headers["location"], "/page?tab=2");
    let name = auth_cookie_name(&app.local);
    assert!(
        cookie_value(&jar, &app.url, &name).is_some(),
        "{}",
        cookies(&jar, &app.url)
    );
    let dev = name.replace("__auth_", "__dev_session___");
    assert!(
        cookie_value(&jar, &app.url, &dev).is_some(),
        "{}",
        cookies(&jar, &app.url)
    );
    let answer = navigate(&client, &page_url).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // When the cache expires, the development session cookie is exchanged.
    jar.add_cookie_str(&format!("{name}=; Path=/"), &app.url.parse().unwrap());
    let exchanges = app.local.session_exchanges();
    assert_eq!(navigate(&client, &page_url).await.status, 200);
    assert_eq!(app.local.session_exchanges(), exchanges + 1);
}

#[tokio::test]
async fn a_websocket_upgrade_takes_its_token_from_the_subprotocol_and_echoes_it() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b).await;
    let token = app.local.token().subject(READER).sign();
    let protocol = format!("bearer.{token}");
    let answer = common::send(
        reqwest::Client::new()
            .get(format!("{}/socket", app.url))
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-protocol", format!("chat, {protocol}")),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::SWITCHING_PROTOCOLS,
        "{}",
        answer.text
    );
    assert_eq!(answer.headers["sec-websocket-protocol"], protocol.as_str());
    assert_eq!(answer.headers["x-user"], READER);
    // Not an upgrade: the subprotocol header is not read.
    let answer = common::send(
        reqwest::Client::new()
            .get(format!("{}/socket", app.url))
            .header("sec-websocket-protocol", &protocol),
    )
    .await;
    assert_eq!(answer.status, 401);
    // A bad token in the subprotocol is refused.
    let answer = common::send(
        reqwest::Client::new()
            .get(format!("{}/socket", app.url))
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("sec-websocket-protocol", "bearer.not-a-token"),
    )
    .await;
    assert_eq!(
        common::rejected(&answer, 401, "unauthenticated"),
        "malformed_token"
    );
    // With the session cookie instead: a handshake from another origin is refused (cross-site
    // WebSocket hijacking), one from the app's own origin is let in.
    let (client, _) = browser();
    sign_in(&client, &app, READER, &format!("{}/page", app.url)).await;
    let handshake = |origin: &str| {
        client
            .get(format!("{}/socket", app.url))
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("origin", origin)
    };
    let answer = common::send(handshake("https://evil.example")).await;
    assert_eq!(
        common::rejected(&answer, 403, "forbidden"),
        "cross_site_request"
    );
    let answer = common::send(handshake(&app.url)).await;
    assert_eq!(
        answer.status,
        StatusCode::SWITCHING_PROTOCOLS,
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn malformed_cookies_never_panic_and_never_let_anyone_in() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b).await;
    let name = auth_cookie_name(&app.local);
    let dev = name.replace("__auth_", "__dev_session___");
    let before = runs();
    for value in [
        "%", "%zz", "%E2%82", "a%", "%00", "\u{7f}", "\"", "==", ";;",
    ] {
        for cookie in [
            format!("{name}={value}"),
            format!("__session={value}"),
            format!("{dev}={value}"),
            format!("{name}={value}; __session={value}; {dev}={value}"),
        ] {
            let Ok(header) = http::HeaderValue::from_str(&cookie) else {
                continue;
            };
            let answer = common::send(
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap()
                    .get(format!("{}/page", app.url))
                    .header("cookie", header)
                    .header("accept", "text/html"),
            )
            .await;
            assert!(
                answer.status == 303 || answer.status == 401 || answer.status == 503,
                "{cookie}: {} {}",
                answer.status,
                answer.text
            );
        }
    }
    assert_eq!(runs(), before);
    assert_eq!(
        app.local.session_exchanges(),
        0,
        "garbage never reaches the frontend API"
    );
}

#[derive(serde::Deserialize, Debug)]
struct Plan {
    plan: String,
    seats: u32,
}

#[derive(serde::Deserialize, Debug)]
struct Claims {
    sub: String,
    organization: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
#[allow(dead_code)]
struct Wrong {
    seats: String,
}

#[tokio::test]
async fn typed_claims_and_metadata_read_the_exchanged_token() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    local.add_session_user(
        SessionUser::new("user_meta")
            .organization("org_9", ["user:read"])
            .metadata(serde_json::json!({"plan": "pro", "seats": 3, "secret_note": "sk_live_x"})),
    );
    let wacht = Wacht::new(
        local
            .config_builder()
            .browser_sessions(true)
            .build()
            .unwrap(),
    )
    .unwrap();
    let transport = local.sign_in("user_meta");
    let req = http::Request::builder()
        .header("cookie", format!("__session={transport}"))
        .body(())
        .unwrap();
    let (auth, headers) = wacht
        .admit(&req, &Requirement::new())
        .await
        .unwrap()
        .into_parts();
    assert_eq!(headers.set_cookies().len(), 1, "the cache cookie");
    let plan: Plan = auth.metadata().unwrap();
    assert_eq!((plan.plan.as_str(), plan.seats), ("pro", 3));
    let claims: Claims = auth.claims_as().unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.organization.as_deref()),
        ("user_meta", Some("org_9"))
    );
    let wrong = auth.metadata::<Wrong>().unwrap_err().to_string();
    assert!(
        wrong.contains("wrong type") && !wrong.contains("sk_live_x") && !wrong.contains('3'),
        "{wrong}"
    );
    let plain = Wacht::new(local.config()).unwrap();
    let token = local.token().subject("u").sign();
    let auth = plain.verify_token(&token).await.unwrap();
    assert!(matches!(
        auth.metadata::<Plan>(),
        Err(wacht::ClaimsError::Missing("metadata"))
    ));
}

#[tokio::test]
async fn layers_and_extractors_take_the_cookie_path_too() {
    let _serial = SERIAL.lock().await;
    let app = app(|b| b).await;
    // The layers set the cookies on the inner service's answer.
    for path in ["/layer/optional", "/layer/either", "/api/me"] {
        let (client, jar) = browser();
        let url = format!("{}{path}", app.url);
        sign_in(&client, &app, READER, &url).await;
        let exchanges = app.local.session_exchanges();
        let answer = navigate(&client, &url).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        assert!(answer.text.contains(READER), "{path}: {}", answer.text);
        assert_eq!(app.local.session_exchanges(), exchanges + 1, "{path}");
        assert!(
            cookie_value(&jar, &app.url, &auth_cookie_name(&app.local)).is_some(),
            "{path}"
        );
        assert_eq!(navigate(&client, &url).await.status, 200);
        assert_eq!(
            app.local.session_exchanges(),
            exchanges + 1,
            "{path}: cached"
        );
    }
    // An extractor alone cannot add cookies to the handler's answer: after an exchange it
    // sends the browser to the same URL (307: method and body kept) with the cookies set.
    for path in ["/api/extractor?x=1", "/api/maybe"] {
        let (client, jar) = browser();
        let url = format!("{}{path}", app.url);
        sign_in(&client, &app, READER, &url).await;
        let before = runs();
        let answer = navigate(&client, &url).await;
        assert_eq!(
            answer.status,
            StatusCode::TEMPORARY_REDIRECT,
            "{path}: {}",
            answer.text
        );
        assert_eq!(answer.headers["location"], path);
        assert_eq!(answer.body["reason"], "session_cookies_set");
        assert_eq!(runs(), before, "{path}: the body waits for the repeat");
        assert!(cookie_value(&jar, &app.url, &auth_cookie_name(&app.local)).is_some());
        let answer = navigate(&client, &url).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        assert!(answer.text.contains(READER), "{path}: {}", answer.text);
    }
    // Signed out, the optional forms let the caller in as `None`; `layer::either` with no
    // credential and no cookie is the session side's signed-out answer.
    let (client, _) = browser();
    for path in ["/layer/optional", "/api/maybe"] {
        let answer = navigate(&client, &format!("{}{path}", app.url)).await;
        assert_eq!(answer.text, "maybe None", "{path}");
    }
    let answer = navigate(&client, &format!("{}/layer/either", app.url)).await;
    assert_eq!(answer.status, 303, "{}", answer.text);
}
