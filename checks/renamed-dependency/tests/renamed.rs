//! The renamed-dependency handlers, served and called over real HTTP against the local Wacht.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wacht_renamed::Wacht;
use wacht_renamed::testing::{ApiKeySpec, LocalWacht, serve_with};
use wacht_renamed_dependency_check::{machine, session};

#[tokio::test]
async fn both_attributes_work_through_a_renamed_dependency() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let http = reqwest::Client::new();

    let server = serve_with(wacht.clone(), session).await.unwrap();
    assert_eq!(http.get(server.url()).send().await.unwrap().status(), 401);
    let token = local
        .token()
        .subject("user_7")
        .organization_permissions(["user:read"])
        .sign();
    let answer = http
        .get(server.url())
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "user_7");

    let server = serve_with(wacht, machine).await.unwrap();
    assert_eq!(http.get(server.url()).send().await.unwrap().status(), 401);
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let answer = http
        .get(server.url())
        .header("x-api-key", key.secret())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), key.key_id());
}
