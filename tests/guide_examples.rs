//! The guide's two Netlify functions (`examples/netlify_*_users.rs`), included as they are
//! and driven the way `lambda_http::run` drives them, against a real local Wacht (JWKS,
//! gateway and backend API over HTTP on 127.0.0.1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../examples/netlify_admin_users.rs"]
mod admin;
#[path = "../examples/netlify_machine_users.rs"]
mod machine;

use serde_json::Value;
use wacht::Wacht;
use wacht::testing::{ApiKeySpec, BackendFault, LocalWacht};

fn start() -> (LocalWacht, Wacht) {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    (local, wacht)
}

/// The ids of the first 20 seeded users, in creation order (the service's default sort).
fn first_twenty(local: &LocalWacht) -> Vec<String> {
    local.users().into_iter().take(20).map(|u| u.id).collect()
}

fn ids(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admin_function_lists_twenty_users_for_a_reader_only() {
    let (local, wacht) = start();

    let (status, body) = admin::invoke(&wacht, None).await.unwrap();
    assert_eq!(status, 401, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "unauthenticated");

    let no_permission = format!("Bearer {}", local.token().subject("user_bob").sign());
    let (status, body) = admin::invoke(&wacht, Some(&no_permission)).await.unwrap();
    assert_eq!(status, 403, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["reason"], "missing_permission");
    assert!(
        local.backend_requests().is_empty(),
        "the body never ran for a refused caller"
    );

    let reader = local
        .token()
        .subject("user_carol")
        .organization_permissions(["user:read"])
        .sign();
    let (status, body) = admin::invoke(&wacht, Some(&format!("Bearer {reader}")))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ids(&body), first_twenty(&local));
    assert_eq!(body["total"], 25);
    assert_eq!(body["has_more"], true);
    assert_eq!(body["requested_by"], "user_carol");
    assert_eq!(body["users"][0]["first_name"], "Maya");
    assert_eq!(local.backend_requests(), vec!["limit=20".to_owned()]);
}

#[tokio::test]
async fn admin_function_answers_502_when_the_backend_fails() {
    let (local, wacht) = start();
    local.set_backend_fault(BackendFault::Status(500));
    let reader = local.token().organization_permissions(["user:read"]).sign();
    let (status, body) = admin::invoke(&wacht, Some(&format!("Bearer {reader}")))
        .await
        .unwrap();
    assert_eq!(status, 502, "{body}");
    assert!(!body.contains(&local.backend_api_key()));
}

#[tokio::test]
async fn machine_function_lists_twenty_users_for_an_allowed_key_only() {
    let (local, wacht) = start();

    let (status, body) = machine::invoke(&wacht, None).await.unwrap();
    assert_eq!(status, 401, "{body}");

    let writer = local.create_api_key(ApiKeySpec::new().permissions(["billing:write"]));
    let (status, body) = machine::invoke(&wacht, Some(writer.secret()))
        .await
        .unwrap();
    assert_eq!(status, 403, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["reason"], "permission_denied");
    assert!(local.backend_requests().is_empty());

    let reader = local.create_api_key(
        ApiKeySpec::new()
            .name("reporting job")
            .permissions(["user:read"]),
    );
    let (status, body) = machine::invoke(&wacht, Some(reader.secret()))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ids(&body), first_twenty(&local));
    assert_eq!(body["key_name"], "reporting job");
    assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
    assert_eq!(local.backend_requests(), vec!["limit=20".to_owned()]);
    // The gateway was asked exactly what the attribute says.
    let check = local.gateway_requests().pop().unwrap();
    assert_eq!(check["resource"], "/machine/users");
    assert_eq!(check["method"], "GET");
    assert_eq!(
        check["required_permissions"],
        serde_json::json!(["user:read"])
    );
}

#[tokio::test]
async fn both_demos_see_every_expected_status() {
    let (local, wacht) = start();
    assert_eq!(admin::demo(&local, &wacht).await.unwrap(), 0);
    assert_eq!(machine::demo(&local, &wacht).await.unwrap(), 0);
    // One list per demo: only the allowed callers reached the backend.
    assert_eq!(local.backend_requests().len(), 2);
}
