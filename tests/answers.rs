//! Documented answers pinned over real HTTP: the three `WWW-Authenticate` forms, methods the
//! gateway does not know, and the fields of the `wacht.check` span.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{rejected, send};

use http::{Request, Response};
use wacht::testing::{ApiKeySpec, LocalWacht, serve_with};
use wacht::{MachineAuth, Wacht};

/// Held by every test here: the span test's thread-local subscriber must not race another
/// test's first use of the same callsites.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[wacht::protect(permission = "user:read")]
async fn session_handler(_req: Request<String>) -> Response<String> {
    Response::new("ok".to_owned())
}

#[wacht::machine(permission = "user:read")]
async fn machine_handler(_req: Request<String>, _auth: MachineAuth) -> Response<String> {
    Response::new("ok".to_owned())
}

#[tokio::test]
async fn www_authenticate_has_three_forms() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let server = serve_with(Wacht::new(local.config()).unwrap(), session_handler)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let challenge = |answer: &common::Answer| {
        answer.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    // No credential: the bare challenge, no error (RFC 6750 §3.1).
    let answer = send(http.get(server.url())).await;
    assert_eq!(rejected(&answer, 401, "unauthenticated"), "missing_token");
    assert_eq!(challenge(&answer), r#"Bearer realm="wacht""#);
    // A malformed Authorization header: invalid_request.
    let answer = send(http.get(server.url()).header("authorization", "Basic abc")).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "invalid_authorization_header"
    );
    assert!(
        challenge(&answer)
            .starts_with(r#"Bearer realm="wacht", error="invalid_request", error_description=""#),
        "{}",
        challenge(&answer)
    );
    // A token that is not valid: invalid_token.
    let expired = local.token().expires_at(1).sign();
    let answer = send(http.get(server.url()).bearer_auth(expired)).await;
    assert_eq!(rejected(&answer, 401, "unauthenticated"), "token_expired");
    assert_eq!(
        challenge(&answer),
        r#"Bearer realm="wacht", error="invalid_token", error_description="The session token has expired.""#
    );
}

#[tokio::test]
async fn a_method_the_gateway_does_not_know_is_refused_without_asking_it() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let server = serve_with(Wacht::new(local.config()).unwrap(), machine_handler)
        .await
        .unwrap();
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let answer = send(
        reqwest::Client::new()
            .request(reqwest::Method::from_bytes(b"TRACE").unwrap(), server.url())
            .header("x-api-key", key.secret()),
    )
    .await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "unsupported_method");
    assert_eq!(local.gateway_checks(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn the_check_span_carries_its_documented_fields() {
    let _serial = SERIAL.lock().await;
    let (captured, _default) = common::capture_logs();
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let session = serve_with(wacht.clone(), session_handler).await.unwrap();
    let machine = serve_with(wacht, machine_handler).await.unwrap();
    let http = reqwest::Client::new();
    let token = local.token().sign(); // no permission: 403
    send(
        http.get(format!("{}/admin/users", session.url()))
            .bearer_auth(&token),
    )
    .await;
    let key = local.create_api_key(ApiKeySpec::new());
    let answer = send(
        http.get(format!("{}/machine/users", machine.url()))
            .header("x-api-key", key.secret()),
    )
    .await;
    let request_id = answer.body["request_id"].as_str().unwrap().to_owned();
    let log = captured.text();
    let session_line = log
        .lines()
        .find(|line| line.contains(r#"check="session""#) && line.contains("request refused"))
        .unwrap_or_else(|| panic!("{log}"));
    for field in [
        "wacht.check{",
        "method=GET",
        "path=\"/admin/users\"",
        "outcome=\"forbidden\"",
        "reason=\"missing_permission\"",
        "elapsed_us=",
        "request refused",
    ] {
        assert!(session_line.contains(field), "{field} in {session_line}");
    }
    let machine_line = log
        .lines()
        .find(|line| line.contains(r#"check="machine""#) && line.contains("request refused"))
        .unwrap_or_else(|| panic!("{log}"));
    for field in [
        "principal=\"api_key\"",
        "resource=\"/machine/users\"",
        "outcome=\"forbidden\"",
        "reason=\"permission_denied\"",
        &format!("request_id=\"{request_id}\""),
    ] {
        assert!(machine_line.contains(field), "{field} in {machine_line}");
    }
    assert!(!log.contains(&token) && !log.contains(key.secret()));
}
