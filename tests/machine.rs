//! `#[machine]` end to end: the local Wacht's gateway over real HTTP on 127.0.0.1, real API
//! keys and OAuth tokens, the protected handler served over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, rejected, send};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::{Request, Response};
use serde_json::json;
use wacht::testing::{
    ApiKeySpec, GatewayFault, LocalWacht, OAuthTokenSpec, RateLimitRule, TestServer, serve_with,
};
use wacht::{MachineAuth, MachineRequirement, PrincipalType, Wacht};

static USERS_RUNS: AtomicUsize = AtomicUsize::new(0);
static ANY_RUNS: AtomicUsize = AtomicUsize::new(0);
static OAUTH_RUNS: AtomicUsize = AtomicUsize::new(0);

/// The guide's machine function.
#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn machine_users(req: Request<String>, auth: MachineAuth) -> Response<String> {
    USERS_RUNS.fetch_add(1, Ordering::SeqCst);
    assert!(req.extensions().get::<MachineAuth>().is_some());
    let body = json!({
        "request_id": auth.request_id(),
        "key_id": auth.key_id(),
        "app_slug": auth.app_slug(),
        "organization_id": auth.organization_id(),
        "permissions": auth.permissions(),
        "metadata": auth.metadata(),
        "rate_limits": auth.rate_limits().len(),
    });
    Response::new(body.to_string())
}

#[wacht::machine(any = ["user:read", "user:admin"])]
async fn any_handler(_req: Request<String>) -> Result<Response<String>, std::io::Error> {
    ANY_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(Response::new("ok".to_owned()))
}

#[wacht::machine(principal = "oauth_access_token", resource = "/reports")]
async fn oauth_handler(_req: Request<String>, auth: MachineAuth) -> Response<String> {
    OAUTH_RUNS.fetch_add(1, Ordering::SeqCst);
    let grant = auth.oauth().expect("an OAuth caller has a grant");
    Response::new(
        json!({
            "scopes": auth.scopes(),
            "kind": auth.principal_type().as_str(),
            "resource": grant.resource,
            "granted_resource": auth.granted_resource(),
            "expires_at": auth.expires_at(),
            "client_id": auth.oauth_client_id(),
            "owner": auth.owner_user_id(),
        })
        .to_string(),
    )
}

struct Setup {
    local: LocalWacht,
    server: TestServer,
    http: reqwest::Client,
}

/// Which of this file's handlers a set-up serves.
#[derive(Clone, Copy)]
enum Handler {
    /// The guide's machine function.
    Users,
    /// `any = [...]`.
    Any,
    /// OAuth access tokens.
    OAuth,
}

async fn setup_with(local: LocalWacht, wacht: Wacht, which: Handler) -> Setup {
    let server = match which {
        Handler::Users => serve_with(wacht, machine_users).await,
        Handler::Any => serve_with(wacht, any_handler).await,
        Handler::OAuth => serve_with(wacht, oauth_handler).await,
    }
    .unwrap();
    Setup {
        local,
        server,
        http: reqwest::Client::new(),
    }
}

async fn setup(which: Handler) -> Setup {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    setup_with(local, wacht, which).await
}

impl Setup {
    async fn call(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.http.get(format!("{}{path}", self.server.url()));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        send(request).await
    }

    async fn with_key(&self, key: &str) -> Answer {
        self.call("/machine/users", &[("x-api-key", key)]).await
    }
}

fn reader(local: &LocalWacht) -> wacht::testing::ApiKey {
    local.create_api_key(
        ApiKeySpec::new()
            .name("reader")
            .permissions(["user:read"])
            .organization("1001"),
    )
}

#[tokio::test]
async fn a_good_key_runs_the_handler_with_its_identity() {
    let s = setup(Handler::Users).await;
    let key = reader(&s.local);
    let answer = s.with_key(key.secret()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["key_id"], key.key_id());
    assert_eq!(answer.body["organization_id"], "1001");
    assert_eq!(answer.body["permissions"], json!(["user:read"]));
    assert!(
        answer.body["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );
    assert!(!answer.text.contains(key.secret()));
}

#[tokio::test]
async fn every_refusal_maps_to_its_answer_and_never_runs_the_handler() {
    let s = setup(Handler::Users).await;
    let runs = USERS_RUNS.load(Ordering::SeqCst);
    let now = wacht::Clock::system().now();
    let writer = s
        .local
        .create_api_key(ApiKeySpec::new().permissions(["user:write"]));
    let expired = s.local.create_api_key(
        ApiKeySpec::new()
            .permissions(["user:read"])
            .expires_at(now - 10),
    );
    let inactive = s
        .local
        .create_api_key(ApiKeySpec::new().permissions(["user:read"]).inactive());
    let unknown = format!("wk_test_{}", "A".repeat(43));

    // No credential: 401 without asking the gateway.
    let answer = s.call("/machine/users", &[]).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "missing_credential"
    );
    assert_eq!(
        s.local.gateway_checks(),
        0,
        "no gateway call without a credential"
    );

    for (name, key) in [
        ("unknown", unknown.as_str()),
        ("malformed", "not-a-key"),
        ("expired", expired.secret()),
        ("inactive", inactive.secret()),
    ] {
        let answer = s.with_key(key).await;
        assert_eq!(
            rejected(&answer, 401, "unauthenticated"),
            "invalid_credential",
            "{name}"
        );
        assert!(!answer.text.contains(key), "{name}: credential echoed");
    }

    let answer = s.with_key(writer.secret()).await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "permission_denied");
    assert!(
        answer.body["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );
    assert_eq!(answer.body["required"], json!(["user:read"]));
    assert_eq!(
        USERS_RUNS.load(Ordering::SeqCst),
        runs,
        "a refused caller ran the handler"
    );
}

#[tokio::test]
async fn a_burst_past_the_limit_is_429_with_retry_after_and_the_gateway_headers() {
    let s = setup(Handler::Users).await;
    // A fixed gateway clock, 100 s into an hour: the window cannot roll over mid-test.
    s.local
        .set_gateway_clock(wacht::Clock::fixed(1_900_000_000 / 3600 * 3600 + 100));
    let key = s
        .local
        .create_api_key(ApiKeySpec::new().permissions(["user:read"]).rate_limit(
            RateLimitRule::per_key("burst", 3, Duration::from_secs(3600)),
        ));
    for _ in 0..3 {
        assert_eq!(s.with_key(key.secret()).await.status, 200);
    }
    let runs = USERS_RUNS.load(Ordering::SeqCst);
    let answer = s.with_key(key.secret()).await;
    assert_eq!(rejected(&answer, 429, "rate_limited"), "rate_limited");
    let retry_after: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after));
    assert_eq!(answer.body["retry_after"], retry_after);
    assert_eq!(answer.headers["x-ratelimit-3600s-limit"], "3");
    assert_eq!(answer.headers["x-ratelimit-3600s-remaining"], "0");
    assert!(answer.headers.contains_key("x-ratelimit-3600s-reset"));
    assert!(answer.body["request_id"].as_str().is_some());
    assert!(
        !answer
            .headers
            .keys()
            .any(|h| h.as_str().starts_with("x-wacht-")),
        "only X-RateLimit-* are passed on"
    );
    assert_eq!(USERS_RUNS.load(Ordering::SeqCst), runs);
}

#[tokio::test]
async fn any_is_checked_on_the_permissions_the_gateway_returns() {
    let s = setup(Handler::Any).await;
    let runs = ANY_RUNS.load(Ordering::SeqCst);
    let admin = s
        .local
        .create_api_key(ApiKeySpec::new().permissions(["user:admin"]));
    let billing = s
        .local
        .create_api_key(ApiKeySpec::new().permissions(["billing:read"]));
    assert_eq!(
        s.call("/anything", &[("x-api-key", admin.secret())])
            .await
            .status,
        200
    );
    let answer = s
        .call("/anything", &[("x-api-key", billing.secret())])
        .await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "missing_permission");
    assert_eq!(answer.body["required"], json!(["user:read", "user:admin"]));
    assert_eq!(ANY_RUNS.load(Ordering::SeqCst), runs + 1);
    // Defaults: the request's own path and method were checked, no required_permissions sent.
    let sent = s.local.gateway_requests();
    assert_eq!(sent[0]["resource"], "/anything");
    assert_eq!(sent[0]["method"], "GET");
    assert!(sent[0].get("required_permissions").is_none());
}

#[tokio::test]
async fn the_gateway_receives_exactly_the_documented_body() {
    let s = setup(Handler::Users).await;
    let key = reader(&s.local);
    s.call(
        "/machine/users?page=2",
        &[
            ("x-api-key", key.secret()),
            ("user-agent", "billing-cron/1.0"),
            ("x-forwarded-for", "203.0.113.7, 10.0.0.2"),
        ],
    )
    .await;
    // No client IP by default: the caller wrote that header and could have written any.
    assert_eq!(
        s.local.gateway_requests().last().unwrap(),
        &json!({
            "principal": {"type": "api_key", "value": key.secret()},
            "resource": "/machine/users",
            "method": "GET",
            "user_agent": "billing-cron/1.0",
            "required_permissions": ["user:read"],
        })
    );
    // Behind one trusted proxy that appends the address it saw: the rightmost entry.
    let local = LocalWacht::start().unwrap();
    let behind_proxy = Wacht::new(
        local
            .config_builder()
            .client_ip(wacht::ClientIp::RightmostForwardedFor(1))
            .build()
            .unwrap(),
    )
    .unwrap();
    let p = setup_with(local, behind_proxy, Handler::Users).await;
    let key = reader(&p.local);
    p.call(
        "/machine/users",
        &[
            ("x-api-key", key.secret()),
            ("x-forwarded-for", "203.0.113.7, 10.0.0.2"),
        ],
    )
    .await;
    assert_eq!(
        p.local.gateway_requests().last().unwrap()["client_ip"],
        "10.0.0.2"
    );

    let o = setup(Handler::OAuth).await;
    let token = o.local.create_oauth_token(
        OAuthTokenSpec::new()
            .scopes(["reports:read"])
            .resource("/reports")
            .expires_at(4_000_000_000)
            .client_id("777")
            .owner_user("4242"),
    );
    let answer = o
        .call(
            "/somewhere/else",
            &[("authorization", &format!("Bearer {}", token.token()))],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // The grant as the real gateway sends it (in `metadata`, the client id as
    // `identity.key_name`, the expiry as RFC 3339) reaches the handler typed.
    assert_eq!(
        answer.body,
        json!({
            "scopes": ["reports:read"],
            "kind": "oauth_access_token",
            "resource": "/reports",
            "granted_resource": "/reports",
            "expires_at": 4_000_000_000_i64,
            "client_id": "777",
            "owner": "4242",
        })
    );
    assert_eq!(
        o.local.gateway_requests().last().unwrap(),
        &json!({
            "principal": {"type": "oauth_access_token", "value": token.token()},
            "resource": "/reports",
            "method": "GET",
        })
    );
    // An API key is not an OAuth token.
    let answer = o
        .call("/reports", &[("x-api-key", reader(&o.local).secret())])
        .await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "missing_credential"
    );
    assert_eq!(OAUTH_RUNS.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn gateway_failures_are_503_and_plain_text_401_stays_401() {
    let s = setup(Handler::Users).await;
    let key = reader(&s.local);
    let runs = USERS_RUNS.load(Ordering::SeqCst);
    for (fault, status, reason) in [
        (GatewayFault::Status(500), 503, "gateway_error"),
        (GatewayFault::Status(502), 503, "gateway_error"),
        (GatewayFault::EmptyBody(503), 503, "gateway_error"),
        (GatewayFault::Down, 503, "gateway_unreachable"),
        (GatewayFault::GarbageJson, 503, "gateway_invalid_response"),
        (
            GatewayFault::NonBooleanAllowed,
            503,
            "gateway_invalid_response",
        ),
        (GatewayFault::PlainText401, 401, "invalid_credential"),
    ] {
        s.local.set_gateway_fault(fault);
        let answer = s.with_key(key.secret()).await;
        let error = if status == 401 {
            "unauthenticated"
        } else {
            "auth_unavailable"
        };
        assert_eq!(rejected(&answer, status, error), reason, "{fault:?}");
    }
    assert_eq!(USERS_RUNS.load(Ordering::SeqCst), runs);
}

#[tokio::test]
async fn an_unreachable_gateway_is_503() {
    let local = LocalWacht::start().unwrap();
    // A port that was free a moment ago: connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let wacht = Wacht::new(
        local
            .config_builder()
            .gateway_url(format!("http://{closed}"))
            .build()
            .unwrap(),
    )
    .unwrap();
    let s = setup_with(local, wacht, Handler::Users).await;
    let answer = s.with_key(reader(&s.local).secret()).await;
    assert_eq!(
        rejected(&answer, 503, "auth_unavailable"),
        "gateway_unreachable"
    );
}

#[tokio::test]
async fn a_gateway_slower_than_the_timeout_gives_503_in_time() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(
        local
            .config_builder()
            .http_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    )
    .unwrap();
    let s = setup_with(local, wacht, Handler::Users).await;
    let key = reader(&s.local);
    s.local
        .set_gateway_fault(GatewayFault::Slow(Duration::from_secs(5)));
    let started = Instant::now();
    let answer = s.with_key(key.secret()).await;
    assert_eq!(
        rejected(&answer, 503, "auth_unavailable"),
        "gateway_timeout"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_gateway_400_is_a_configuration_error() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let key = reader(&local);
    let req = Request::builder()
        .uri("/x")
        .header("x-api-key", key.secret())
        .body(())
        .unwrap();
    // A resource the gateway would answer 400 for is refused here first, with no call.
    let bad = MachineRequirement::new().resource("/has space");
    let rejection = wacht.authorize_machine(&req, &bad).await.unwrap_err();
    assert_eq!(
        (rejection.status().as_u16(), rejection.reason()),
        (500, "invalid_requirement")
    );
    assert_eq!(local.gateway_checks(), 0);
    // A 400 from the gateway all the same (another rule of its own) is a configuration error.
    local.set_gateway_fault(GatewayFault::Status(400));
    let fine = MachineRequirement::new().resource("/machine/users");
    let rejection = wacht.authorize_machine(&req, &fine).await.unwrap_err();
    assert_eq!(
        (rejection.status().as_u16(), rejection.reason()),
        (500, "gateway_bad_request")
    );
    local.set_gateway_fault(GatewayFault::None);
    let good = MachineRequirement::new()
        .resource("urn:wacht:organization:1001")
        .permission("user:read");
    let auth = wacht.authorize_machine(&req, &good).await.unwrap();
    assert_eq!(auth.principal_type(), PrincipalType::ApiKey);
    assert_eq!(auth.resource(), "urn:wacht:organization:1001");
}

#[tokio::test]
async fn a_hundred_sequential_checks_reuse_connections() {
    let s = setup(Handler::Users).await;
    let key = reader(&s.local);
    s.local.reset_counters();
    for _ in 0..100 {
        assert_eq!(s.with_key(key.secret()).await.status, 200);
    }
    assert_eq!(s.local.gateway_checks(), 100);
    assert!(
        s.local.connections() <= 2,
        "connections: {}",
        s.local.connections()
    );
}

#[tokio::test]
async fn a_key_whose_metadata_is_not_an_object_is_still_decided() {
    let s = setup(Handler::Users).await;
    for metadata in [json!(["tier", "gold"]), json!("plain"), json!(null)] {
        let key = s.local.create_api_key(
            ApiKeySpec::new()
                .permissions(["user:read"])
                .metadata(metadata.clone()),
        );
        let answer = s.with_key(key.secret()).await;
        assert_eq!(answer.status, 200, "{metadata}: {}", answer.text);
        assert_eq!(answer.body["metadata"], metadata);
        let without = s
            .local
            .create_api_key(ApiKeySpec::new().metadata(metadata.clone()));
        let answer = s.with_key(without.secret()).await;
        assert_eq!(
            rejected(&answer, 403, "forbidden"),
            "permission_denied",
            "{metadata}"
        );
    }
}
