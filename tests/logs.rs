//! What the runtime logs: every refusal, with its reason (and for machine calls the gateway's
//! `request_id`), and never a credential. One test in its own binary, with a global
//! subscriber, so no other test's events mix in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Captured, send};

use std::time::Duration;

use http::{Request, Response};
use serde_json::json;
use wacht::testing::{
    ApiKeySpec, GatewayFault, JwksFault, LocalWacht, OAuthTokenSpec, RateLimitRule, serve_with,
};
use wacht::{Auth, MachineAuth, Wacht};

#[wacht::protect(permission = "user:read")]
async fn session_handler(_req: Request<String>, _auth: Auth) -> Response<String> {
    Response::new("ok".to_owned())
}

#[wacht::machine(
    resource = "/machine/users",
    method = "GET",
    permission = "user:read",
    principal = "any"
)]
async fn machine_handler(_req: Request<String>, _auth: MachineAuth) -> Response<String> {
    Response::new("ok".to_owned())
}

#[tokio::test]
async fn every_refusal_is_logged_and_no_credential_ever_is() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(
        local
            .config_builder()
            .http_timeout(Duration::from_millis(300))
            .build()
            .unwrap(),
    )
    .unwrap();
    let session = serve_with(wacht.clone(), session_handler).await.unwrap();
    let machine = serve_with(wacht.clone(), machine_handler).await.unwrap();
    let http = reqwest::Client::new();
    let mut secrets: Vec<String> = Vec::new();

    // Session: every kind of refusal.
    let now = wacht::Clock::system().now();
    let tokens = [
        local.token().sign(),                                // 403 missing permission
        local.token().expires_at(now - 5).sign(),            // 401 expired
        local.token().header("kid", json!("nobody")).sign(), // 401 unknown key
        local.token().unsigned(),                            // 401 alg none
        local.token().issuer("https://evil.example").sign(), // 401 issuer
        {
            // The signature of another token: well-formed, wrong.
            let (good, other) = (local.token().sign(), local.token().subject("x").sign());
            format!(
                "{}.{}",
                &good[..good.rfind('.').unwrap()],
                &other[other.rfind('.').unwrap() + 1..]
            )
        },
        local.token().organization_permissions(["user:read"]).sign(), // 200
    ];
    for token in &tokens {
        send(http.get(session.url()).bearer_auth(token)).await;
        secrets.push(token.clone());
    }
    send(http.get(session.url())).await;
    let down = LocalWacht::start().unwrap();
    down.set_jwks_fault(JwksFault::Down);
    let unavailable = Wacht::new(down.config()).unwrap();
    let down_server = serve_with(unavailable, session_handler).await.unwrap();
    let token = down.token().organization_permissions(["user:read"]).sign();
    assert_eq!(
        send(http.get(down_server.url()).bearer_auth(&token))
            .await
            .status,
        503
    );
    secrets.push(token);

    // Machine: every kind of refusal.
    let url = format!("{}/machine/users", machine.url());
    let writer_key = local.create_api_key(ApiKeySpec::new().permissions(["user:write"]));
    let limited = local.create_api_key(
        ApiKeySpec::new()
            .permissions(["user:read"])
            .rate_limit(RateLimitRule::per_key("one", 1, Duration::from_secs(3600))),
    );
    let oauth = local.create_oauth_token(OAuthTokenSpec::new().permissions(["user:write"]));
    let unknown = format!("wk_test_{}", "B".repeat(43));
    let denied = send(http.get(&url).header("x-api-key", writer_key.secret())).await;
    let request_id = denied.body["request_id"].as_str().unwrap().to_owned();
    send(http.get(&url).header("x-api-key", &unknown)).await;
    send(http.get(&url).bearer_auth(oauth.token())).await;
    send(http.get(&url).header("x-api-key", limited.secret())).await;
    let limited_answer = send(http.get(&url).header("x-api-key", limited.secret())).await;
    assert_eq!(limited_answer.status, 429);
    send(
        http.get(&url)
            .header("x-api-key", writer_key.secret())
            .bearer_auth(oauth.token()),
    )
    .await;
    send(http.get(&url)).await;
    for fault in [
        GatewayFault::Status(500),
        GatewayFault::GarbageJson,
        GatewayFault::Slow(Duration::from_secs(2)),
    ] {
        local.set_gateway_fault(fault);
        send(http.get(&url).header("x-api-key", writer_key.secret())).await;
    }
    secrets.extend([
        writer_key.secret().to_owned(),
        limited.secret().to_owned(),
        oauth.token().to_owned(),
        unknown,
    ]);

    let log = captured.text();
    for expected in [
        "missing_permission",
        "token_expired",
        "unknown_key",
        "unsupported_algorithm",
        "invalid_issuer",
        "invalid_signature",
        "missing_token",
        "keys_unavailable",
        "permission_denied",
        "invalid_credential",
        "rate_limited",
        "ambiguous_credential",
        "missing_credential",
        "gateway_error",
        "gateway_invalid_response",
        "gateway_timeout",
        "/machine/users",
        "method=GET",
    ] {
        assert!(log.contains(expected), "the log lacks {expected:?}:\n{log}");
    }
    assert!(
        log.contains(&request_id),
        "the denial's request_id is not logged"
    );
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a credential is in the log");
        // Nor any long piece of it (signatures, key secrets).
        let tail = &secret[secret.len() - 24..];
        assert!(
            !log.contains(tail),
            "part of a credential is in the log: {tail}"
        );
    }
}
