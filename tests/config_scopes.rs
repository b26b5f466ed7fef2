//! Configuration errors are scoped to the checks that use them, are visible on the first
//! request (token or not), and the documented defaults are the real ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{get, rejected};

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{Request, Response};
use wacht::testing::{ApiKeySpec, LocalWacht, serve_with};
use wacht::{MachineAuth, Wacht};

static SESSION_RUNS: AtomicUsize = AtomicUsize::new(0);
static MACHINE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[wacht::protect(permission = "user:read")]
async fn session_handler(_req: Request<String>) -> Response<String> {
    SESSION_RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new("ok".to_owned())
}

#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn machine_handler(_req: Request<String>, _auth: MachineAuth) -> Response<String> {
    MACHINE_RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new("ok".to_owned())
}

/// A context read from these "environment variables", as the process-wide one is.
fn from_env(variables: &[(&str, String)]) -> Wacht {
    let variables: HashMap<String, String> = variables
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    Wacht::from_lookup(|name| variables.get(name).cloned()).unwrap()
}

#[tokio::test]
async fn a_bad_publishable_key_breaks_session_checks_only() {
    let local = LocalWacht::start().unwrap();
    let wacht = from_env(&[
        ("WACHT_PUBLISHABLE_KEY", "pk_test_not-base64!".to_owned()),
        ("WACHT_GATEWAY_URL", local.url().to_owned()),
    ]);
    let machine = serve_with(wacht.clone(), machine_handler).await.unwrap();
    let session = serve_with(wacht, session_handler).await.unwrap();
    let good = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let weak = local.create_api_key(ApiKeySpec::new());
    let url = format!("{}/machine/users", machine.url());
    let runs = MACHINE_RUNS.load(Ordering::SeqCst);
    assert_eq!(get(&url, &[("x-api-key", good.secret())]).await.status, 200);
    assert_eq!(MACHINE_RUNS.load(Ordering::SeqCst), runs + 1);
    let answer = get(&url, &[]).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "missing_credential"
    );
    let answer = get(&url, &[("x-api-key", weak.secret())]).await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "permission_denied");

    // Session checks: 500 for every request, with a token or without one.
    let runs = SESSION_RUNS.load(Ordering::SeqCst);
    let token = local.token().organization_permissions(["user:read"]).sign();
    for authorization in [None, Some(format!("Bearer {token}"))] {
        let headers: Vec<(&str, &str)> = authorization
            .as_deref()
            .map(|value| ("authorization", value))
            .into_iter()
            .collect();
        let answer = get(&format!("{}/admin/users", session.url()), &headers).await;
        assert_eq!(
            rejected(&answer, 500, "auth_misconfigured"),
            "invalid_publishable_key"
        );
    }
    assert_eq!(SESSION_RUNS.load(Ordering::SeqCst), runs);
}

#[tokio::test]
async fn a_bad_gateway_url_breaks_machine_checks_only() {
    let local = LocalWacht::start().unwrap();
    let wacht = from_env(&[
        ("WACHT_PUBLISHABLE_KEY", local.publishable_key()),
        ("WACHT_GATEWAY_URL", "gateway.example.com".to_owned()),
    ]);
    let machine = serve_with(wacht.clone(), machine_handler).await.unwrap();
    let session = serve_with(wacht, session_handler).await.unwrap();
    let token = local.token().organization_permissions(["user:read"]).sign();
    let answer = get(
        &format!("{}/admin/users", session.url()),
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    for headers in [&[][..], &[("x-api-key", "wk_live_anything")][..]] {
        let answer = get(&format!("{}/machine/users", machine.url()), headers).await;
        assert_eq!(rejected(&answer, 500, "auth_misconfigured"), "invalid_url");
    }
    assert_eq!(local.gateway_checks(), 0);
}

#[tokio::test]
async fn no_session_configuration_is_a_500_even_without_a_token() {
    let wacht = from_env(&[]);
    let session = serve_with(wacht, session_handler).await.unwrap();
    let answer = get(&format!("{}/admin/users", session.url()), &[]).await;
    assert_eq!(
        rejected(&answer, 500, "auth_misconfigured"),
        "missing_publishable_key"
    );
}

#[test]
fn the_documented_defaults_are_the_real_ones() {
    assert_eq!(wacht::DEFAULT_HTTP_TIMEOUT, Duration::from_secs(5));
    assert_eq!(wacht::DEFAULT_JWKS_TTL, Duration::from_secs(300));
    assert_eq!(
        wacht::DEFAULT_JWKS_MIN_REFRESH_INTERVAL,
        Duration::from_secs(30)
    );
    assert_eq!(wacht::DEFAULT_TOKEN_CACHE_CAPACITY, 10_000);
    assert_eq!(wacht::DEFAULT_TOKEN_CACHE_MAX_BYTES, 48 * 1024 * 1024);
    assert_eq!(wacht::MAX_LEEWAY_SECONDS, 300);
    assert_eq!(wacht::MAX_CREDENTIAL_LEN, 4096);
    let config = wacht::WachtConfig::builder().build().unwrap();
    assert_eq!(config.http_timeout(), Duration::from_secs(5));
    assert_eq!(config.leeway_seconds(), 0);
    assert_eq!(config.gateway_url(), "https://gateway.wacht.dev");
    assert_eq!(config.backend_api_url(), "https://api.wacht.dev");
    assert_eq!(config.client_ip(), &wacht::ClientIp::None);
}
