//! The gateway endpoint as a server: JSON `POST`s only, recording, counters, kept-alive
//! connections, injected faults.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn requests_must_be_json_posts() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new());
    let client = reqwest::Client::new();
    let response = client
        .post(wacht.gateway_check_url())
        .body(key_body(key.secret(), "/a", &[]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = client
        .post(wacht.gateway_check_url())
        .header("content-type", "application/json; charset=utf-8")
        .body(key_body(key.secret(), "/a", &[]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = client.get(wacht.gateway_check_url()).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(wacht.gateway_checks(), 2);
    let response = client
        .post(format!("{}/v1/authz/check/", wacht.url()))
        .header("content-type", "application/json")
        .body(key_body(key.secret(), "/a", &[]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn requests_are_recorded_and_counters_reset() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new());
    let bodies = [
        key_body(key.secret(), "/one", &["a"]),
        json!({"principal": {"type": "api_key", "value": key.secret()}, "resource": "/two",
               "method": "POST", "client_ip": "198.51.100.7", "user_agent": "test/1"}),
    ];
    for body in &bodies {
        check(&wacht, body).await;
    }
    assert_eq!(wacht.gateway_requests(), bodies.to_vec());
    assert_eq!(wacht.gateway_checks(), 2);
    wacht.reset_counters();
    assert_eq!(wacht.gateway_requests(), Vec::<Value>::new());
    assert_eq!((wacht.gateway_checks(), wacht.connections()), (0, 0));
}

#[tokio::test]
async fn connections_are_counted_and_kept_alive() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new());
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let (status, _, _) = post(&client, &wacht, &key_body(key.secret(), "/a", &[])).await;
        assert_eq!(status, 200);
    }
    // 400s and 401s do not close the connection either.
    post(&client, &wacht, &json!({})).await;
    post(&client, &wacht, &key_body("bad", "/a", &[])).await;
    assert_eq!(wacht.connections(), 1);
    assert_eq!(wacht.requests(), 7);

    // A fresh client per request opens a connection per request.
    for _ in 0..3 {
        post(
            &reqwest::Client::new(),
            &wacht,
            &key_body(key.secret(), "/a", &[]),
        )
        .await;
    }
    assert_eq!(wacht.connections(), 4);
}

// ----- faults -----

#[tokio::test]
async fn fault_down_closes_the_connection() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new());
    wacht.set_gateway_fault(GatewayFault::Down);
    assert_eq!(wacht.gateway_fault(), GatewayFault::Down);
    let body = key_body(key.secret(), "/a", &[]);
    let err = reqwest::Client::new()
        .post(wacht.gateway_check_url())
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none() && err.is_request(), "{err:?}");
    assert_eq!(wacht.gateway_checks(), 1);
    assert_eq!(wacht.gateway_requests(), vec![body.clone()]);

    wacht.set_gateway_fault(GatewayFault::None);
    assert_eq!(check(&wacht, &body).await.0, 200);
}

#[tokio::test]
async fn fault_slow_delays_then_answers() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new());
    wacht.set_gateway_fault(GatewayFault::Slow(Duration::from_millis(300)));
    let started = Instant::now();
    let (status, body) = check(&wacht, &key_body(key.secret(), "/a", &[])).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!((status, &body["allowed"]), (200, &json!(true)));

    // A client timeout fires first.
    let err = reqwest::Client::new()
        .post(wacht.gateway_check_url())
        .timeout(Duration::from_millis(50))
        .header("content-type", "application/json")
        .body(key_body(key.secret(), "/a", &[]).to_string())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn fault_status_plain_text_empty_and_garbage() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new());
    let client = reqwest::Client::new();
    let body = key_body(key.secret(), "/a", &[]);

    for (code, expected) in [(500, 500), (502, 502), (503, 503), (1000, 500)] {
        wacht.set_gateway_fault(GatewayFault::Status(code));
        let (status, content_type, text) = post(&client, &wacht, &body).await;
        assert_eq!(status, expected);
        assert_eq!(content_type, "application/json");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"message": "injected fault"})
        );
    }

    wacht.set_gateway_fault(GatewayFault::PlainText401);
    let (status, content_type, text) = post(&client, &wacht, &body).await;
    assert_eq!(
        (status, content_type.as_str(), text.as_str()),
        (401, "text/plain", "Unauthorized")
    );

    for code in [200, 502] {
        wacht.set_gateway_fault(GatewayFault::EmptyBody(code));
        let (status, _, text) = post(&client, &wacht, &body).await;
        assert_eq!((status, text.as_str()), (code, ""));
    }

    wacht.set_gateway_fault(GatewayFault::GarbageJson);
    let (status, content_type, text) = post(&client, &wacht, &body).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    // Faults answer whatever the body: even a malformed one.
    wacht.set_gateway_fault(GatewayFault::Status(503));
    assert_eq!(post_raw(&client, &wacht, "nonsense").await.0, 503);
    assert_eq!(wacht.gateway_checks(), 9);
}

#[tokio::test]
async fn fault_non_boolean_allowed() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.create_api_key(ApiKeySpec::new().permissions(["a"]));
    wacht.set_gateway_fault(GatewayFault::NonBooleanAllowed);
    for required in [&["a"][..], &["b"][..]] {
        let (status, body) = check(&wacht, &key_body(key.secret(), "/a", required)).await;
        assert_eq!(status, 200);
        assert_eq!(keys_of(&body), BTreeSet::from(TOP_LEVEL));
        assert_eq!(body["allowed"], json!("true"));
        assert_eq!(body["identity"]["key_id"], key.key_id());
    }
    // Non-200 answers are unchanged.
    let (status, body) = check(&wacht, &key_body("bad", "/a", &[])).await;
    assert_unauthenticated(status, &body);
}

#[test]
fn config_points_at_the_emulator_with_its_backend_key() {
    let wacht = LocalWacht::start().unwrap();
    let config = wacht.config();
    assert_eq!(config.gateway_url(), wacht.url());
    assert_eq!(config.backend_api_url(), wacht.url());
    assert_eq!(
        config.api_key().map(crate::secret::Secret::expose),
        Some(wacht.backend_api_key().as_str())
    );
    assert_eq!(
        wacht.gateway_check_url(),
        format!("{}/v1/authz/check", wacht.url())
    );
}
