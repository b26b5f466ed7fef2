//! The emulator's gateway (`POST /v1/authz/check`), exercised over real HTTP on loopback.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::clock::Clock;

mod transport;

/// A Unix time on a minute boundary (and so on a 10-second one).
const MINUTE: i64 = 60 * 28_333_334;

/// `POST` a JSON body to the check endpoint → (status, content type, body text).
async fn post(client: &reqwest::Client, wacht: &LocalWacht, body: &Value) -> (u16, String, String) {
    post_raw(client, wacht, body.to_string()).await
}

/// `POST` raw bytes (declared JSON) to the check endpoint.
async fn post_raw(
    client: &reqwest::Client,
    wacht: &LocalWacht,
    body: impl Into<reqwest::Body>,
) -> (u16, String, String) {
    let response = client
        .post(wacht.gateway_check_url())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

/// `POST` a body and parse the JSON answer → (status, body).
async fn check(wacht: &LocalWacht, body: &Value) -> (u16, Value) {
    let (status, content_type, text) = post(&reqwest::Client::new(), wacht, body).await;
    assert_eq!(content_type, "application/json", "{text}");
    (status, serde_json::from_str(&text).unwrap())
}

/// A check body for an API key.
fn key_body(secret: &str, resource: &str, required: &[&str]) -> Value {
    json!({
        "principal": {"type": "api_key", "value": secret},
        "resource": resource,
        "method": "GET",
        "required_permissions": required,
    })
}

/// A check body for an OAuth access token.
fn token_body(token: &str, resource: &str, required: &[&str]) -> Value {
    json!({
        "principal": {"type": "oauth_access_token", "value": token},
        "resource": resource,
        "method": "GET",
        "required_permissions": required,
    })
}

fn is_digits(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
}

fn assert_request_id(body: &Value) {
    let id = body["request_id"].as_str().unwrap();
    let digits = id.strip_prefix("req_").unwrap();
    assert!(is_digits(&Value::from(digits)), "{id}");
}

fn keys_of(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

const TOP_LEVEL: [&str; 10] = [
    "request_id",
    "allowed",
    "reason",
    "blocked_rule",
    "identity",
    "permissions",
    "metadata",
    "rate_limits",
    "retry_after",
    "headers",
];

const IDENTITY: [&str; 9] = [
    "key_id",
    "deployment_id",
    "app_slug",
    "key_name",
    "owner_user_id",
    "organization_id",
    "workspace_id",
    "organization_membership_id",
    "workspace_membership_id",
];

fn assert_unauthenticated(status: u16, body: &Value) {
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        keys_of(body),
        BTreeSet::from(["request_id", "allowed", "reason", "message"])
    );
    assert_request_id(body);
    assert_eq!(body["allowed"], false);
    assert_eq!(body["reason"], "unauthenticated");
    assert!(body["message"].is_string());
}

fn assert_bad_request(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert_eq!(keys_of(body), BTreeSet::from(["message"]), "{what}");
    assert!(body["message"].is_string(), "{what}");
}

#[tokio::test]
async fn an_allowed_answer_has_the_full_shape() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(
        ApiKeySpec::new()
            .name("reporting")
            .app_slug("billing")
            .permissions(["user:write", "user:read"])
            .organization("1001")
            .workspace("2002")
            .metadata(json!({"team": "ops", "tier": 2})),
    );
    let (status, body) = check(
        &wacht,
        &key_body(key.secret(), "/machine/users", &["user:read"]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(keys_of(&body), BTreeSet::from(TOP_LEVEL));
    assert_request_id(&body);
    assert_eq!(body["allowed"], true);
    assert_eq!(body["reason"], Value::Null);
    assert_eq!(body["blocked_rule"], Value::Null);
    assert_eq!(body["retry_after"], Value::Null);
    assert_eq!(body["rate_limits"], json!([]));
    assert_eq!(body["permissions"], json!(["user:read", "user:write"]));
    assert_eq!(body["metadata"], json!({"team": "ops", "tier": 2}));

    let identity = &body["identity"];
    assert_eq!(keys_of(identity), BTreeSet::from(IDENTITY));
    assert_eq!(identity["key_id"], key.key_id());
    assert_eq!(identity["deployment_id"], wacht.deployment_id());
    assert_eq!(identity["app_slug"], "billing");
    assert_eq!(identity["key_name"], "reporting");
    assert_eq!(identity["owner_user_id"], key.owner_user_id());
    assert_eq!(identity["organization_id"], "1001");
    assert_eq!(identity["workspace_id"], "2002");
    for id in [
        "key_id",
        "deployment_id",
        "owner_user_id",
        "organization_membership_id",
        "workspace_membership_id",
    ] {
        assert!(is_digits(&identity[id]), "{id}: {identity}");
    }
    assert_eq!(
        identity["organization_membership_id"],
        key.organization_membership_id().unwrap()
    );

    let headers = &body["headers"];
    assert_eq!(headers["X-Wacht-Key-ID"], key.key_id());
    assert_eq!(headers["X-Wacht-App-Slug"], "billing");
    assert_eq!(headers["X-Wacht-Organization-ID"], "1001");
    assert_eq!(headers["X-Wacht-Permissions"], "user:read,user:write");
    assert!(headers.as_object().unwrap().values().all(Value::is_string));

    // Every answer has a fresh request id.
    let (_, again) = check(&wacht, &key_body(key.secret(), "/machine/users", &[])).await;
    assert_ne!(again["request_id"], body["request_id"]);
}

#[tokio::test]
async fn keys_without_organization_have_null_ids_and_generated_owner() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new());
    let (status, body) = check(&wacht, &key_body(key.secret(), "/x", &[])).await;
    assert_eq!(status, 200);
    let identity = &body["identity"];
    for id in [
        "organization_id",
        "workspace_id",
        "organization_membership_id",
        "workspace_membership_id",
    ] {
        assert_eq!(identity[id], Value::Null, "{id}");
    }
    assert_eq!(identity["app_slug"], "default");
    assert_eq!(identity["key_name"], "Test key");
    assert!(is_digits(&identity["owner_user_id"]));
    assert_eq!(body["permissions"], json!([]));
    assert_eq!(body["metadata"], json!({}));

    // Ids given to the spec are served as given.
    let key = wacht.create_api_key(
        ApiKeySpec::new()
            .key_id("77")
            .owner_user("88")
            .organization("99")
            .organization_membership("111"),
    );
    let (_, body) = check(&wacht, &key_body(key.secret(), "/x", &[])).await;
    let identity = &body["identity"];
    assert_eq!(
        (
            &identity["key_id"],
            &identity["owner_user_id"],
            &identity["organization_membership_id"]
        ),
        (&json!("77"), &json!("88"), &json!("111"))
    );
}

#[test]
fn api_keys_have_the_real_shape_and_debug_hides_secrets() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new());
    let secret = key.secret().strip_prefix("wk_test_").unwrap();
    assert_eq!(secret.len(), 43);
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert!(gateway::is_valid_api_key_format(key.secret()));
    let live = wacht.create_api_key(ApiKeySpec::new().prefix("wk_live"));
    assert!(live.secret().starts_with("wk_live_"));
    assert_ne!(key.secret(), live.secret());
    assert_ne!(key.key_id(), live.key_id());
    let debug = format!("{key:?}");
    assert!(!debug.contains(secret), "{debug}");
    assert!(debug.contains(key.key_id()));

    let token = wacht.create_oauth_token(OAuthTokenSpec::new());
    assert!(!format!("{token:?}").contains(token.token()));
    assert!(token.token().starts_with("oat_"));
    assert!(token.token_id().bytes().all(|b| b.is_ascii_digit()));
}

#[tokio::test]
async fn malformed_bodies_are_400_with_a_message() {
    let wacht = LocalWacht::start().unwrap();
    let client = reqwest::Client::new();
    let key = wacht.create_api_key(ApiKeySpec::new());
    let principal = json!({"type": "api_key", "value": key.secret()});
    let json_cases = [
        (
            "unknown field",
            json!({"principal": principal, "resource": "/a", "method": "GET", "extra": 1}),
        ),
        (
            "unknown principal field",
            json!({"principal": {"type": "api_key", "value": key.secret(), "x": 1}, "resource": "/a", "method": "GET"}),
        ),
        (
            "missing principal",
            json!({"resource": "/a", "method": "GET"}),
        ),
        (
            "missing resource",
            json!({"principal": principal, "method": "GET"}),
        ),
        (
            "missing method",
            json!({"principal": principal, "resource": "/a"}),
        ),
        (
            "missing value",
            json!({"principal": {"type": "api_key"}, "resource": "/a", "method": "GET"}),
        ),
        (
            "resource type",
            json!({"principal": principal, "resource": 5, "method": "GET"}),
        ),
        (
            "method type",
            json!({"principal": principal, "resource": "/a", "method": ["GET"]}),
        ),
        (
            "permissions type",
            json!({"principal": principal, "resource": "/a", "method": "GET", "required_permissions": "user:read"}),
        ),
        (
            "permission entry type",
            json!({"principal": principal, "resource": "/a", "method": "GET", "required_permissions": [1]}),
        ),
        (
            "client_ip type",
            json!({"principal": principal, "resource": "/a", "method": "GET", "client_ip": 7}),
        ),
        (
            "principal type",
            json!({"principal": {"type": "password", "value": key.secret()}, "resource": "/a", "method": "GET"}),
        ),
        ("array", json!([principal])),
        ("null", Value::Null),
    ];
    for (what, body) in &json_cases {
        let (status, content_type, text) = post(&client, &wacht, body).await;
        assert_eq!(content_type, "application/json", "{what}");
        assert_bad_request(status, &serde_json::from_str(&text).unwrap(), what);
    }
    let raw_cases = [
        "",
        "not json",
        "{\"principal\":",
        "{} {}",
        "{\"principal\": {}} trailing",
    ];
    for raw in raw_cases {
        let (status, _, text) = post_raw(&client, &wacht, raw).await;
        assert_bad_request(status, &serde_json::from_str(&text).unwrap(), raw);
    }
    // Every body that was JSON is recorded, in order; the others are counted only.
    let recorded = wacht.gateway_requests();
    let expected: Vec<Value> = json_cases.iter().map(|(_, body)| body.clone()).collect();
    assert_eq!(recorded, expected);
    assert_eq!(wacht.gateway_checks(), json_cases.len() + raw_cases.len());

    // Explicit nulls for the optional fields are fine.
    let body = json!({
        "principal": principal, "resource": "/a", "method": "GET",
        "client_ip": null, "user_agent": null, "required_permissions": null,
    });
    assert_eq!(check(&wacht, &body).await.0, 200);
    let body = json!({
        "principal": principal, "resource": "/a", "method": "GET",
        "client_ip": "203.0.113.9", "user_agent": "curl/8", "required_permissions": [],
    });
    assert_eq!(check(&wacht, &body).await.0, 200);
}

#[tokio::test]
async fn methods_are_upper_cased_and_checked() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new());
    for method in [
        "GET", "get", " post ", "Put", "PATCH", "delete", "HEAD", "options",
    ] {
        let mut body = key_body(key.secret(), "/a", &[]);
        body["method"] = method.into();
        assert_eq!(check(&wacht, &body).await.0, 200, "{method}");
    }
    for method in ["", "TRACE", "CONNECT", "FETCH", "G ET"] {
        let mut body = key_body(key.secret(), "/a", &[]);
        body["method"] = method.into();
        let (status, answer) = check(&wacht, &body).await;
        assert_bad_request(status, &answer, method);
    }
}

#[tokio::test]
async fn resources_are_normalized_or_refused() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new());
    for resource in [
        "/machine/users",
        "machine/users",
        "/machine/users?page=2#top",
        "urn:wacht:organization:1001",
    ] {
        let (status, _) = check(&wacht, &key_body(key.secret(), resource, &[])).await;
        assert_eq!(status, 200, "{resource}");
    }
    for resource in [
        "",
        "   ",
        "/a b",
        "?only=query",
        "urn:wacht:",
        "urn:wacht:a\tb",
    ] {
        let (status, body) = check(&wacht, &key_body(key.secret(), resource, &[])).await;
        assert_bad_request(status, &body, resource);
    }
    // The method is checked before the resource, and both before the credential.
    let mut body = key_body("garbage", "", &[]);
    assert_eq!(check(&wacht, &body).await.0, 400);
    body["resource"] = "/a".into();
    body["method"] = "TRACE".into();
    assert_eq!(check(&wacht, &body).await.0, 400);
}

#[tokio::test]
async fn refused_credentials_are_401() {
    let wacht = LocalWacht::start().unwrap();
    let clock = Clock::fixed(MINUTE);
    wacht.set_gateway_clock(clock.clone());
    let good = wacht.create_api_key(ApiKeySpec::new());
    let expiring = wacht.create_api_key(ApiKeySpec::new().expires_at(MINUTE + 10));
    let inactive = wacht.create_api_key(ApiKeySpec::new().inactive());
    let revoked = wacht.create_api_key(ApiKeySpec::new());
    assert!(wacht.revoke_api_key(&revoked));
    assert!(!wacht.revoke_api_key(&revoked));
    let unknown = format!("wk_test_{}", "A".repeat(43));
    let token = wacht.create_oauth_token(OAuthTokenSpec::new().expires_at(MINUTE + 10));

    let refused = [
        ("empty", key_body("", "/a", &[])),
        ("blank", key_body("   ", "/a", &[])),
        ("malformed", key_body("wk_test_short", "/a", &[])),
        ("no underscore", key_body(&"A".repeat(50), "/a", &[])),
        (
            "bad alphabet",
            key_body(&format!("wk_test_{}+", "A".repeat(42)), "/a", &[]),
        ),
        ("unknown", key_body(&unknown, "/a", &[])),
        ("inactive", key_body(inactive.secret(), "/a", &[])),
        ("revoked", key_body(revoked.secret(), "/a", &[])),
        ("key as token", token_body(good.secret(), "/a", &[])),
        ("token as key", key_body(token.token(), "/a", &[])),
        ("unknown token", token_body("oat_nope", "/a", &[])),
    ];
    for (what, body) in &refused {
        let (status, answer) = check(&wacht, body).await;
        assert_eq!(status, 401, "{what}");
        assert_unauthenticated(status, &answer);
    }

    // Expiry: valid until the second before `expires_at`.
    clock.set(MINUTE + 9);
    assert_eq!(
        check(&wacht, &key_body(expiring.secret(), "/a", &[]))
            .await
            .0,
        200
    );
    assert_eq!(
        check(&wacht, &token_body(token.token(), "/a", &[])).await.0,
        200
    );
    clock.set(MINUTE + 10);
    let (status, body) = check(&wacht, &key_body(expiring.secret(), "/a", &[])).await;
    assert_unauthenticated(status, &body);
    let (status, body) = check(&wacht, &token_body(token.token(), "/a", &[])).await;
    assert_unauthenticated(status, &body);

    // Surrounding whitespace is ignored.
    let padded = format!("  {}\n", good.secret());
    assert_eq!(check(&wacht, &key_body(&padded, "/a", &[])).await.0, 200);
}

#[tokio::test]
async fn required_permissions_are_combined_with_and() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new().permissions(["user:read", "user:write"]));
    for (required, allowed) in [
        (vec![], true),
        (vec!["user:read"], true),
        (vec!["user:read", "user:write"], true),
        (vec![" user:read ", ""], true),
        (vec!["user:delete"], false),
        (vec!["user:read", "user:delete"], false),
        (vec!["user"], false),
        (vec!["USER:READ"], false),
    ] {
        let (status, body) = check(&wacht, &key_body(key.secret(), "/a", &required)).await;
        assert_eq!(status, 200, "{required:?}");
        assert_eq!(keys_of(&body), BTreeSet::from(TOP_LEVEL));
        assert_eq!(body["allowed"], allowed, "{required:?}");
        if !allowed {
            assert_eq!(body["reason"], "permission_denied");
            assert_eq!(body["blocked_rule"], "permission_denied");
            assert_eq!(body["retry_after"], Value::Null);
            assert_eq!(body["identity"]["key_id"], key.key_id());
            assert_eq!(body["permissions"], json!(["user:read", "user:write"]));
            assert_eq!(body["headers"]["X-Wacht-Permission-Denied"], "true");
        }
    }
}

#[tokio::test]
async fn rate_limits_count_per_fixed_window() {
    let wacht = LocalWacht::start().unwrap();
    let clock = Clock::fixed(MINUTE + 15);
    wacht.set_gateway_clock(clock.clone());
    let key = wacht.create_api_key(
        ApiKeySpec::new()
            .permissions(["user:read"])
            .rate_limit(RateLimitRule::per_key("burst", 3, Duration::from_secs(60))),
    );
    for remaining in [2, 1, 0] {
        let (status, body) = check(&wacht, &key_body(key.secret(), "/a", &["user:read"])).await;
        assert_eq!(status, 200);
        assert_eq!(body["allowed"], true);
        assert_eq!(
            body["rate_limits"],
            json!([{"rule": "burst", "remaining": remaining, "limit": 3}])
        );
        assert_eq!(body["headers"]["X-RateLimit-60s-Limit"], "3");
        assert_eq!(
            body["headers"]["X-RateLimit-60s-Remaining"],
            remaining.to_string()
        );
        assert!(body["headers"].get("X-RateLimit-60s-Reset").is_none());
        assert_eq!(body["retry_after"], Value::Null);
    }
    // A check denied for its permissions does not count (nor report rate limits).
    let (_, denied) = check(&wacht, &key_body(key.secret(), "/a", &["admin"])).await;
    assert_eq!(denied["reason"], "permission_denied");
    assert_eq!(denied["rate_limits"], json!([]));

    clock.set(MINUTE + 20);
    for _ in 0..2 {
        let (status, body) = check(&wacht, &key_body(key.secret(), "/a", &["user:read"])).await;
        assert_eq!(status, 200);
        assert_eq!(keys_of(&body), BTreeSet::from(TOP_LEVEL));
        assert_eq!(body["allowed"], false);
        assert_eq!(body["reason"], "rate_limited");
        assert_eq!(body["blocked_rule"], "burst");
        assert_eq!(body["retry_after"], 40);
        assert_eq!(
            body["rate_limits"],
            json!([{"rule": "burst", "remaining": 0, "limit": 3}])
        );
        assert_eq!(body["headers"]["X-RateLimit-60s-Limit"], "3");
        assert_eq!(body["headers"]["X-RateLimit-60s-Remaining"], "0");
        assert_eq!(body["headers"]["X-RateLimit-60s-Reset"], "40");
        assert_eq!(body["identity"]["key_id"], key.key_id());
    }
    // The last second of the window still waits one second.
    clock.set(MINUTE + 59);
    let (_, body) = check(&wacht, &key_body(key.secret(), "/a", &[])).await;
    assert_eq!(body["retry_after"], 1);
    // The next window starts afresh.
    clock.set(MINUTE + 60);
    let (_, body) = check(&wacht, &key_body(key.secret(), "/a", &[])).await;
    assert_eq!(body["allowed"], true);
    assert_eq!(body["rate_limits"][0]["remaining"], 2);

    // Per-key buckets are per resource too (as the real gateway's).
    let (_, body) = check(&wacht, &key_body(key.secret(), "/b", &[])).await;
    assert_eq!(body["rate_limits"][0]["remaining"], 2);
    // `reset_rate_limits` forgets the counts.
    wacht.reset_rate_limits();
    let (_, body) = check(&wacht, &key_body(key.secret(), "/a", &[])).await;
    assert_eq!(body["rate_limits"][0]["remaining"], 2);
}

#[tokio::test]
async fn per_app_limits_are_shared_and_the_first_blocking_rule_wins() {
    let wacht = LocalWacht::start().unwrap();
    let clock = Clock::fixed(MINUTE + 4);
    wacht.set_gateway_clock(clock.clone());
    let rules = |spec: ApiKeySpec| {
        spec.rate_limit(RateLimitRule::per_key("burst", 2, Duration::from_secs(10)))
            .rate_limit(RateLimitRule::per_app(
                "app-wide",
                3,
                Duration::from_secs(60),
            ))
    };
    let first = wacht.create_api_key(rules(ApiKeySpec::new().app_slug("crm")));
    let second = wacht.create_api_key(rules(ApiKeySpec::new().app_slug("crm")));
    let other = wacht.create_api_key(rules(ApiKeySpec::new().app_slug("erp")));

    for key in [&first, &first, &second] {
        let (_, body) = check(&wacht, &key_body(key.secret(), "/a", &[])).await;
        assert_eq!(body["allowed"], true);
    }
    // `first` is past its burst (10 s) and the app past its 3 per minute: the first rule
    // that blocks is named; retry_after is the soonest reset.
    let (_, body) = check(&wacht, &key_body(first.secret(), "/a", &[])).await;
    assert_eq!(body["allowed"], false);
    assert_eq!(body["blocked_rule"], "burst");
    assert_eq!(body["retry_after"], 6);
    assert_eq!(body["headers"]["X-RateLimit-10s-Reset"], "6");
    assert_eq!(body["headers"]["X-RateLimit-60s-Reset"], "56");
    assert_eq!(
        body["rate_limits"],
        json!([
            {"rule": "burst", "remaining": 0, "limit": 2},
            {"rule": "app-wide", "remaining": 0, "limit": 3},
        ])
    );
    // `second` has burst left but the app does not.
    let (_, body) = check(&wacht, &key_body(second.secret(), "/a", &[])).await;
    assert_eq!(body["blocked_rule"], "app-wide");
    assert_eq!(body["retry_after"], 56);
    // Another app is not affected.
    let (_, body) = check(&wacht, &key_body(other.secret(), "/a", &[])).await;
    assert_eq!(body["allowed"], true);
}

#[tokio::test]
async fn zero_request_rules_always_block_and_real_time_works() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new().rate_limit(RateLimitRule::per_key(
        "closed",
        0,
        Duration::from_secs(3600),
    )));
    let (_, body) = check(&wacht, &key_body(key.secret(), "/a", &[])).await;
    assert_eq!(body["reason"], "rate_limited");
    let retry = body["retry_after"].as_i64().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    assert_eq!(
        body["headers"]["X-RateLimit-3600s-Reset"],
        retry.to_string()
    );
}

#[tokio::test]
async fn oauth_tokens_carry_their_grant() {
    let wacht = LocalWacht::start().unwrap();
    let token = wacht.create_oauth_token(
        OAuthTokenSpec::new()
            .scopes(["users.read", "openid"])
            .permissions(["user:read"])
            .resource("/machine/users")
            .expires_at(4_000_000_000)
            .organization("1001")
            .client_id("555"),
    );
    let (status, body) = check(
        &wacht,
        &token_body(token.token(), "machine/users?x=1", &["user:read"]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(keys_of(&body), BTreeSet::from(TOP_LEVEL));
    assert_eq!(body["allowed"], true);
    // The gateway's layout: the identity as for an API key, with the OAuth client id as
    // `key_name`; the grant in `metadata`, the expiry as an RFC 3339 time.
    let identity = &body["identity"];
    assert_eq!(keys_of(identity), BTreeSet::from(IDENTITY));
    assert_eq!(identity["key_id"], token.token_id());
    assert_eq!(identity["deployment_id"], wacht.deployment_id());
    assert_eq!(identity["key_name"], "555");
    assert_eq!(identity["organization_id"], "1001");
    assert_eq!(
        body["metadata"],
        json!({
            "principal_type": "oauth_access_token",
            "scopes": ["users.read", "openid"],
            "oauth_resource": "/machine/users",
            "granted_resource": "/machine/users",
            "expires_at": "2096-10-02T07:06:40Z",
        })
    );
    assert_eq!(body["permissions"], json!(["user:read"]));

    // Another resource: permission denied.
    let (status, body) = check(&wacht, &token_body(token.token(), "/machine/orders", &[])).await;
    assert_eq!(status, 200);
    assert_eq!(body["allowed"], false);
    assert_eq!(body["reason"], "permission_denied");
    // Permissions are ANDed for tokens too.
    let (_, body) = check(
        &wacht,
        &token_body(
            token.token(),
            "/machine/users",
            &["user:read", "user:write"],
        ),
    )
    .await;
    assert_eq!(body["reason"], "permission_denied");

    // Without a granted resource, any resource; null grant fields.
    let open = wacht.create_oauth_token(OAuthTokenSpec::new());
    let (_, body) = check(
        &wacht,
        &token_body(open.token(), "urn:wacht:workspace:9", &[]),
    )
    .await;
    assert_eq!(body["allowed"], true);
    assert_eq!(body["metadata"]["granted_resource"], Value::Null);
    assert_eq!(body["metadata"]["expires_at"], Value::Null);
    assert_eq!(body["metadata"]["scopes"], json!([]));
    assert!(is_digits(&body["identity"]["key_name"]));

    assert!(wacht.revoke_oauth_token(&open));
    let (status, body) = check(&wacht, &token_body(open.token(), "/a", &[])).await;
    assert_unauthenticated(status, &body);
}
