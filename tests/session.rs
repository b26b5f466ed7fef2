//! `#[protect]` end to end: a real local Wacht (JWKS over HTTP on 127.0.0.1), real signed
//! tokens, the protected handler served over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, rejected, send};

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Request, Response};
use serde_json::{Value, json};
use wacht::testing::{
    JwksFault, KeyAlgorithm, LocalWacht, TestKey, TestServer, TokenBuilder, serve_with,
};
use wacht::{Auth, Clock, Wacht, WachtConfig, WachtConfigBuilder};

/// Counts the body runs of one served handler. Each [`Setup`] has its own, so tests running
/// in parallel never see each other's runs.
#[derive(Clone, Default)]
struct Runs(Arc<AtomicUsize>);

impl Runs {
    /// Records a body run of the handler serving `req` ([`Handler::serve`] puts the counter
    /// in its extensions).
    fn ran(req: &Request<String>) {
        let runs = req.extensions().get::<Runs>();
        runs.expect("served by `Handler::serve`")
            .0
            .fetch_add(1, Ordering::SeqCst);
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[wacht::protect(permission = "user:read")]
async fn read_users(req: Request<String>, auth: Auth) -> Response<String> {
    Runs::ran(&req);
    assert!(
        req.extensions().get::<Auth>().is_some(),
        "Auth is in the extensions"
    );
    Response::new(json!({"user": auth.user_id(), "session": auth.session_id()}).to_string())
}

#[wacht::protect(any = ["user:read", "user:admin"])]
async fn any_handler(req: Request<String>) -> Result<Response<String>, std::io::Error> {
    Runs::ran(&req);
    Ok(Response::new("ok".to_owned()))
}

#[wacht::protect(all = ["user:read", "user:write"])]
async fn all_handler(req: Request<String>) -> Response<String> {
    Runs::ran(&req);
    Response::new("ok".to_owned())
}

#[wacht::protect(organization_id = "org_1", workspace_id = "ws_1")]
async fn org_handler(req: Request<String>) -> Response<String> {
    Runs::ran(&req);
    Response::new("ok".to_owned())
}

/// The protected handler a test serves.
#[derive(Debug, Clone, Copy)]
enum Handler {
    /// [`read_users`]: `permission = "user:read"`.
    Read,
    /// [`any_handler`]: `any = ["user:read", "user:admin"]`.
    Any,
    /// [`all_handler`]: `all = ["user:read", "user:write"]`.
    All,
    /// [`org_handler`]: `organization_id = "org_1", workspace_id = "ws_1"`.
    Org,
}

impl Handler {
    /// Serves the handler with `wacht`, counting its body runs in `runs`.
    async fn serve(self, wacht: Wacht, runs: Runs) -> TestServer {
        let counted = move |mut req: Request<String>| {
            req.extensions_mut().insert(runs.clone());
            req
        };
        match self {
            Handler::Read => serve_with(wacht, move |req| read_users(counted(req))).await,
            Handler::Any => serve_with(wacht, move |req| any_handler(counted(req))).await,
            Handler::All => serve_with(wacht, move |req| all_handler(counted(req))).await,
            Handler::Org => serve_with(wacht, move |req| org_handler(counted(req))).await,
        }
        .unwrap()
    }
}

struct Setup {
    local: LocalWacht,
    server: TestServer,
    http: reqwest::Client,
    runs: Runs,
}

/// A fresh local Wacht, and `handler` served with a context on its default configuration.
async fn setup(handler: Handler) -> Setup {
    setup_configured(handler, LocalWacht::config_builder).await
}

/// A fresh local Wacht, and `handler` served with a context on the configuration
/// `configure` gives for it.
async fn setup_configured(
    handler: Handler,
    configure: impl FnOnce(&LocalWacht) -> WachtConfigBuilder,
) -> Setup {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(configure(&local).build().unwrap()).unwrap();
    let runs = Runs::default();
    let server = handler.serve(wacht, runs.clone()).await;
    Setup {
        local,
        server,
        http: reqwest::Client::new(),
        runs,
    }
}

impl Setup {
    async fn call(&self, authorization: Option<&str>) -> Answer {
        let mut request = self.http.get(format!("{}/admin/users", self.server.url()));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        send(request).await
    }

    async fn bearer(&self, token: &str) -> Answer {
        self.call(Some(&format!("Bearer {token}"))).await
    }

    /// A token of this local Wacht holding `user:read` in its organization permissions.
    fn reader(&self) -> TokenBuilder {
        self.local.token().organization_permissions(["user:read"])
    }

    /// Body runs of the served handler so far.
    fn runs(&self) -> usize {
        self.runs.count()
    }
}

fn tamper_payload(token: &str, claims: Value) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    parts.join(".")
}

/// An `Authorization` header value carrying `token` as a bearer token.
fn bearer_header(token: impl std::fmt::Display) -> Option<String> {
    Some(format!("Bearer {token}"))
}

fn now() -> i64 {
    Clock::system().now()
}

#[tokio::test]
async fn allowed_with_the_permission_in_either_claim_shape() {
    let s = setup(Handler::Read).await;
    let flat = s.reader().subject("user_flat").sign();
    let answer = s.bearer(&flat).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["user"], "user_flat");
    assert_eq!(answer.body["session"], "sess_test");

    let ws = s.local.token().workspace_permissions(["user:read"]).sign();
    assert_eq!(s.bearer(&ws).await.status, 200);

    let nested = s
        .local
        .token()
        .permissions_object(Vec::<String>::new(), ["user:read"])
        .sign();
    assert_eq!(s.bearer(&nested).await.status, 200);

    let legacy_session = s
        .reader()
        .remove_claim("sid")
        .claim("sess", json!("sess_old"))
        .sign();
    assert_eq!(s.bearer(&legacy_session).await.body["session"], "sess_old");
    assert_eq!(s.runs(), 4);
}

#[tokio::test]
async fn every_bad_credential_is_401_and_the_handler_never_runs() {
    let s = setup(Handler::All).await;
    let local = &s.local;
    let good = local
        .token()
        .organization_permissions(["user:read", "user:write"])
        .sign();
    assert_eq!(
        s.bearer(&good).await.status,
        200,
        "control: the good token passes"
    );
    let runs = s.runs();

    let key = local.current_key();
    let claims = local
        .token()
        .organization_permissions(["user:read", "user:write"])
        .claims_json();
    let mut forged_claims = claims.clone();
    forged_claims["sub"] = json!("user_admin");
    let mut tampered_signature: Vec<char> = good.chars().collect();
    let sig_start = good.rfind('.').unwrap() + 5;
    tampered_signature[sig_start] = if tampered_signature[sig_start] == 'A' {
        'B'
    } else {
        'A'
    };
    let tampered_signature: String = tampered_signature.into_iter().collect();
    let public_jwk = key.public_jwk().to_string();
    let es384 = local.add_key(KeyAlgorithm::Es384);
    let unpublished = TestKey::generate(KeyAlgorithm::Es256);
    let padded = {
        let parts: Vec<&str> = good.split('.').collect();
        format!("{}=.{}.{}", parts[0], parts[1], parts[2])
    };
    let duplicate_sub = key.sign_token_bytes(
        format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{}"}}"#, key.kid()).as_bytes(),
        format!(
            r#"{{"iss":"{}","sub":"user_1","sub":"user_admin","exp":{},"organization_permissions":["user:read","user:write"]}}"#,
            local.url(),
            now() + 600
        )
        .as_bytes(),
    );

    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("missing header", None, "missing_token"),
        (
            "empty token",
            Some("Bearer ".into()),
            "invalid_authorization_header",
        ),
        (
            "other scheme",
            Some(format!("Basic {good}")),
            "invalid_authorization_header",
        ),
        (
            "garbage",
            Some("Bearer not-a-token".into()),
            "malformed_token",
        ),
        (
            "garbage segments",
            Some("Bearer a.b.c".into()),
            "malformed_token",
        ),
        ("padded segment", bearer_header(&padded), "malformed_token"),
        (
            "duplicate claim",
            bearer_header(&duplicate_sub),
            "malformed_token",
        ),
        (
            "tampered payload",
            bearer_header(tamper_payload(&good, forged_claims)),
            "invalid_signature",
        ),
        (
            "tampered signature",
            bearer_header(&tampered_signature),
            "invalid_signature",
        ),
        (
            "expired",
            bearer_header(local.token().expires_at(now() - 5).sign()),
            "token_expired",
        ),
        (
            "nbf in the future",
            bearer_header(local.token().not_before(now() + 600).sign()),
            "token_not_yet_valid",
        ),
        (
            "wrong iss",
            bearer_header(local.token().issuer("https://evil.example").sign()),
            "invalid_issuer",
        ),
        (
            "missing iss",
            bearer_header(local.token().remove_claim("iss").sign()),
            "invalid_issuer",
        ),
        (
            "missing exp",
            bearer_header(local.token().remove_claim("exp").sign()),
            "invalid_claims",
        ),
        (
            "missing sub",
            bearer_header(local.token().remove_claim("sub").sign()),
            "missing_subject",
        ),
        (
            "unknown kid",
            bearer_header(local.token().header("kid", json!("key_nobody")).sign()),
            "unknown_key",
        ),
        (
            "alg none",
            bearer_header(local.token().unsigned()),
            "unsupported_algorithm",
        ),
        (
            "HS256 with the public key",
            bearer_header(local.token().sign_hs256(public_jwk.as_bytes())),
            "unsupported_algorithm",
        ),
        (
            "alg not matching the key",
            bearer_header(local.token().header("alg", json!("ES384")).sign()),
            "algorithm_mismatch",
        ),
        (
            "alg RS256 on an EC key",
            bearer_header(local.token().header("alg", json!("RS256")).sign()),
            "algorithm_mismatch",
        ),
        (
            "kid of one key, signed by another",
            bearer_header(
                local
                    .token()
                    .key(&es384)
                    .header("kid", json!(key.kid()))
                    .header("alg", json!("ES256"))
                    .sign(),
            ),
            "invalid_signature",
        ),
        (
            "no kid, signed by a key nobody published",
            bearer_header(local.token().key(&unpublished).without_kid().sign()),
            "invalid_signature",
        ),
        (
            "malformed permissions claim",
            bearer_header(
                local
                    .token()
                    .claim("permissions", json!("user:read user:write"))
                    .sign(),
            ),
            "invalid_claims",
        ),
    ];
    for (name, authorization, reason) in cases {
        let answer = s.call(authorization.as_deref()).await;
        assert_eq!(
            rejected(&answer, 401, "unauthenticated"),
            reason,
            "case {name}: {}",
            answer.text
        );
        if let Some(value) = &authorization {
            let token = value
                .trim_start_matches("Bearer ")
                .trim_start_matches("Basic ");
            assert!(
                token.len() < 8 || !answer.text.contains(token),
                "case {name}: the token is echoed"
            );
        }
    }
    assert_eq!(s.runs(), runs, "a rejected request ran the handler");
}

#[tokio::test]
async fn expiry_is_exact_with_a_fixed_clock_even_for_cached_tokens() {
    let clock = Clock::fixed(1_900_000_000);
    let s = setup_configured(Handler::Read, |local| {
        local.config_builder().clock(clock.clone())
    })
    .await;
    let token = s
        .reader()
        .now(1_900_000_000 - 60)
        .expires_at(1_900_000_100)
        .sign();
    clock.set(1_900_000_099);
    assert_eq!(s.bearer(&token).await.status, 200, "one second before exp");
    assert_eq!(s.bearer(&token).await.status, 200, "cached, still valid");
    clock.set(1_900_000_100);
    let answer = s.bearer(&token).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "token_expired",
        "exactly at exp (cached token)"
    );

    let leeway = Wacht::new(
        s.local
            .config_builder()
            .clock(clock.clone())
            .leeway_seconds(5)
            .build()
            .unwrap(),
    )
    .unwrap();
    assert!(
        leeway.verify_token(&token).await.is_ok(),
        "leeway extends exp"
    );
    clock.set(1_900_000_105);
    assert!(matches!(
        leeway.verify_token(&token).await,
        Err(wacht::AuthError::TokenExpired)
    ));
}

#[tokio::test]
async fn permissions_and_membership_give_403() {
    let s = setup(Handler::Read).await;
    let answer = s
        .bearer(
            &s.local
                .token()
                .organization_permissions(["user:write"])
                .sign(),
        )
        .await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "missing_permission");
    assert_eq!(answer.body["required"], json!(["user:read"]));
    assert!(!answer.headers.contains_key("www-authenticate"));
    let answer = s.bearer(&s.local.token().sign()).await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "missing_permission");
    assert_eq!(s.runs(), 0);

    let org = setup(Handler::Org).await;
    for (token, reason) in [
        (
            org.local
                .token()
                .organization("org_2")
                .workspace("ws_1")
                .sign(),
            "organization_mismatch",
        ),
        (
            org.local.token().workspace("ws_1").sign(),
            "organization_mismatch",
        ),
        (
            org.local
                .token()
                .organization("org_1")
                .workspace("ws_2")
                .sign(),
            "workspace_mismatch",
        ),
        (
            org.local.token().organization("org_1").sign(),
            "workspace_mismatch",
        ),
    ] {
        assert_eq!(
            rejected(&org.bearer(&token).await, 403, "forbidden"),
            reason
        );
    }
    assert_eq!(org.runs(), 0);
    let ok = org
        .local
        .token()
        .organization("org_1")
        .workspace("ws_1")
        .sign();
    assert_eq!(org.bearer(&ok).await.status, 200);
    assert_eq!(org.runs(), 1);
}

#[tokio::test]
async fn any_needs_one_and_all_needs_every_one() {
    let any = setup(Handler::Any).await;
    assert_eq!(
        any.bearer(
            &any.local
                .token()
                .workspace_permissions(["user:admin"])
                .sign()
        )
        .await
        .status,
        200
    );
    let answer = any
        .bearer(
            &any.local
                .token()
                .organization_permissions(["billing:read"])
                .sign(),
        )
        .await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "missing_permission");
    assert_eq!(any.runs(), 1);

    let all = setup(Handler::All).await;
    let one = all.reader().sign();
    let answer = all.bearer(&one).await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "missing_permission");
    assert_eq!(answer.body["required"], json!(["user:read", "user:write"]));
    // One from the organization and one from the workspace: checked together.
    let split = all.reader().workspace_permissions(["user:write"]).sign();
    assert_eq!(all.bearer(&split).await.status, 200);
    assert_eq!(all.runs(), 1);
}

#[tokio::test]
async fn every_supported_key_type_verifies() {
    let s = setup(Handler::Read).await;
    // Published before the first fetch: unknown-kid refreshes are rate limited.
    let keys: Vec<_> = [
        KeyAlgorithm::Es256,
        KeyAlgorithm::Es384,
        KeyAlgorithm::Rs256,
        KeyAlgorithm::EdDsa,
    ]
    .into_iter()
    .map(|algorithm| (algorithm, s.local.add_key(algorithm)))
    .collect();
    for (algorithm, key) in keys {
        let answer = s.bearer(&s.reader().key(&key).sign()).await;
        assert_eq!(answer.status, 200, "{algorithm:?}: {}", answer.text);
    }
}

#[tokio::test]
async fn fifty_concurrent_first_requests_fetch_the_jwks_once() {
    let s = setup(Handler::Read).await;
    s.local
        .set_jwks_fault(JwksFault::Slow(Duration::from_millis(300)));
    let tokens: Vec<String> = (0..50)
        .map(|i| s.reader().subject(format!("user_{i}")).sign())
        .collect();
    let answers = futures_join_all(tokens.iter().map(|t| s.bearer(t))).await;
    assert!(answers.iter().all(|a| a.status == 200));
    assert_eq!(s.local.jwks_fetches(), 1);
}

/// `join_all` without a futures dependency: spawn-free, polls all together.
async fn futures_join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in set.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}

#[tokio::test]
async fn rotation_unknown_kids_and_stale_keys() {
    let s = setup_configured(Handler::Read, |local| {
        local
            .config_builder()
            .jwks_min_refresh_interval(Duration::from_secs(60))
    })
    .await;
    // Issued a minute ago: before any key set here was fetched, so once its key is gone a
    // 401 is certain (a token issued after the held set's fetch could name a key rotated in
    // since, and gets 503 + Retry-After while the refresh is limited; tested below).
    let a_minute_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 60;
    let old = s.reader().issued_at(a_minute_ago).sign();
    assert_eq!(s.bearer(&old).await.status, 200);
    assert_eq!(s.local.jwks_fetches(), 1);

    // Rotation: the new kid is unknown, one refresh finds it.
    s.local.rotate(KeyAlgorithm::Es256);
    let new = s.reader().sign();
    assert_eq!(s.bearer(&new).await.status, 200);
    assert_eq!(s.local.jwks_fetches(), 2);
    // The old key is gone from the set, so its (previously cached) token no longer passes.
    assert_eq!(
        rejected(&s.bearer(&old).await, 401, "unauthenticated"),
        "unknown_key"
    );

    // 200 random unknown kids within the minimum interval: no further fetch. Issued after
    // the held set was fetched, they may name a key rotated in since: 503 with Retry-After
    // ("retry"); issued before it, their key would be in the set: 401.
    for i in 0..200 {
        let token = s
            .local
            .token()
            .header("kid", json!(format!("key_random_{i}")))
            .sign();
        let answer = s.bearer(&token).await;
        assert_eq!(
            rejected(&answer, 503, "auth_unavailable"),
            "keys_unavailable"
        );
        assert!(answer.headers.contains_key("retry-after"));
        let issued_before = s
            .local
            .token()
            .header("kid", json!(format!("key_random_{i}")))
            .issued_at(1)
            .sign();
        assert_eq!(
            rejected(&s.bearer(&issued_before).await, 401, "unauthenticated"),
            "unknown_key"
        );
    }
    assert!(
        s.local.jwks_fetches() <= 3,
        "fetches: {}",
        s.local.jwks_fetches()
    );
}

#[tokio::test]
async fn unknown_kids_refresh_at_most_once_per_interval_from_a_warm_cache() {
    let s = setup(Handler::Read).await;
    assert_eq!(s.bearer(&s.reader().sign()).await.status, 200);
    let before = s.local.jwks_fetches();
    for i in 0..200 {
        let token = s
            .local
            .token()
            .header("kid", json!(format!("kid_{i:03}")))
            .sign();
        // The first is 401 after its refresh; the rest, inside the interval, 503 (retry).
        let status = s.bearer(&token).await.status;
        assert!(status == 401 || status == 503, "{status}");
    }
    assert!(
        s.local.jwks_fetches() - before <= 1,
        "extra fetches: {}",
        s.local.jwks_fetches() - before
    );
}

#[tokio::test]
async fn keys_held_keep_serving_when_the_jwks_goes_down() {
    // The shortest TTL and back-off there are (1 s): after each pause a request wants a
    // refresh, so the failing refresh path is exercised.
    let s = setup_configured(Handler::Read, |local| {
        local
            .config_builder()
            .jwks_ttl(Duration::from_secs(1))
            .jwks_min_refresh_interval(Duration::from_secs(1))
    })
    .await;
    let token = |i: usize| s.reader().subject(format!("u{i}")).sign();
    assert_eq!(s.bearer(&token(0)).await.status, 200);
    for fault in [
        JwksFault::Down,
        JwksFault::Status(503),
        JwksFault::InvalidJson,
    ] {
        s.local.set_jwks_fault(fault);
        let fetches = s.local.jwks_fetches();
        tokio::time::sleep(Duration::from_millis(1100)).await; // past the TTL and back-off
        let answer = s.bearer(&token(1)).await;
        assert_eq!(answer.status, 200, "{fault:?}: {}", answer.text);
        assert!(
            s.local.jwks_fetches() > fetches,
            "{fault:?}: a refresh was attempted"
        );
    }
}

#[tokio::test]
async fn no_keys_at_all_gives_503() {
    for fault in [
        JwksFault::Down,
        JwksFault::Status(500),
        JwksFault::InvalidJson,
    ] {
        // With no keys held, the first retry comes after about a second.
        let s = setup(Handler::Read).await;
        s.local.set_jwks_fault(fault);
        let token = s.reader().sign();
        let answer = s.bearer(&token).await;
        assert_eq!(
            rejected(&answer, 503, "auth_unavailable"),
            "keys_unavailable",
            "{fault:?}"
        );
        assert_eq!(answer.headers["retry-after"], "1", "{fault:?}");
        assert_eq!(s.runs(), 0);
        // Inside the back-off the endpoint is not asked again, even once it has recovered.
        s.local.set_jwks_fault(JwksFault::None);
        assert_eq!(s.bearer(&token).await.status, 503);
        assert_eq!(s.local.jwks_fetches(), 1, "{fault:?}");
        // After it, the next request fetches again.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(s.bearer(&token).await.status, 200, "{fault:?}");
        assert_eq!(s.local.jwks_fetches(), 2, "{fault:?}");
    }
}

#[tokio::test]
async fn a_jwks_slower_than_the_timeout_gives_503_in_time() {
    let s = setup_configured(Handler::Read, |local| {
        local
            .config_builder()
            .http_timeout(Duration::from_millis(500))
    })
    .await;
    s.local
        .set_jwks_fault(JwksFault::Slow(Duration::from_secs(5)));
    let started = Instant::now();
    let answer = s.bearer(&s.reader().sign()).await;
    assert_eq!(rejected(&answer, 503, "auth_unavailable"), "keys_timeout");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_pem_key_verifies_with_no_network() {
    let s = setup_configured(Handler::Read, |local| {
        let pem = local.current_key().public_key_pem();
        local.config_builder().public_signing_key(pem)
    })
    .await;
    assert_eq!(s.bearer(&s.reader().sign()).await.status, 200);
    assert_eq!(s.bearer(&s.reader().without_kid().sign()).await.status, 200);
    assert_eq!(s.local.jwks_fetches(), 0);
    let other = s.local.add_key(KeyAlgorithm::Es256);
    let answer = s.bearer(&s.reader().key(&other).without_kid().sign()).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "invalid_signature"
    );
}

#[tokio::test]
async fn no_publishable_key_is_500_misconfigured() {
    let s = setup_configured(Handler::Read, |_| WachtConfig::builder()).await;
    let answer = s.bearer(&s.reader().sign()).await;
    assert_eq!(
        rejected(&answer, 500, "auth_misconfigured"),
        "missing_publishable_key"
    );
    assert_eq!(s.runs(), 0);
}

#[tokio::test]
async fn kidless_tokens_verify_against_either_key_during_a_rotation() {
    // Nothing is fetched before the first request: publishing after the set-up is in time.
    let s = setup(Handler::Read).await;
    let old = s.local.current_key();
    let new = s.local.add_key(KeyAlgorithm::Es256);
    // Both ES256 keys published without `kid`, as a signer that never sets one would.
    let published: Vec<Value> = [&old, &new]
        .iter()
        .map(|key| {
            let mut jwk = key.public_jwk();
            jwk.as_object_mut().unwrap().remove("kid");
            jwk
        })
        .collect();
    s.local.publish(published);
    for key in [&old, &new] {
        let token = s.reader().key(key).without_kid().sign();
        let answer = s.bearer(&token).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    // A kid-less token signed by neither is still refused.
    let stranger = TestKey::generate(KeyAlgorithm::Es256);
    let forged = s.reader().key(&stranger).without_kid().sign();
    assert_eq!(
        rejected(&s.bearer(&forged).await, 401, "unauthenticated"),
        "invalid_signature"
    );
}
