//! With the `axum` feature, handlers returning axum's idiomatic types behind a `Router`:
//! refused requests get exactly the JSON answer of a `Response`-returning handler (compared
//! between the two, not only against constants), allowed ones the handler's own output.
//! `cargo test --features axum --test axum_returns`.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, get};

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing;
use wacht::Wacht;
use wacht::testing::{ApiKeySpec, LocalWacht};

struct AppError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (StatusCode::IM_A_TEAPOT, "app error").into_response()
    }
}

#[wacht::protect(permission = "user:read")]
async fn baseline(_req: Request) -> Response {
    "baseline".into_response()
}

#[wacht::protect(permission = "user:read")]
async fn opaque(_req: Request, auth: wacht::Auth) -> impl IntoResponse {
    format!("hello {}", auth.user_id())
}

#[wacht::protect(permission = "user:read")]
async fn json(_req: Request) -> Json<Vec<u32>> {
    Json(vec![1, 2])
}

#[wacht::protect(permission = "user:read")]
async fn tuple(_req: Request) -> (StatusCode, Json<u32>) {
    (StatusCode::CREATED, Json(7))
}

#[wacht::protect(permission = "user:read")]
async fn result(req: Request) -> Result<Json<u32>, AppError> {
    let value: u32 = req
        .uri()
        .query()
        .unwrap_or("x")
        .parse()
        .map_err(|_| AppError)?;
    Ok(Json(value))
}

#[wacht::protect(permission = "user:read")]
async fn html(_req: Request) -> Html<String> {
    Html("<p>hi</p>".to_owned())
}

#[wacht::machine(permission = "user:read")]
async fn machine_baseline(_req: Request) -> Response {
    "baseline".into_response()
}

#[wacht::machine(permission = "user:read")]
async fn machine_json(_req: Request, auth: wacht::MachineAuth) -> Json<Option<String>> {
    Json(auth.key_id().map(str::to_owned))
}

/// The parts of a refusal a client reads.
fn refusal(answer: &Answer) -> (u16, serde_json::Value, Vec<(String, String)>) {
    let mut body = answer.body.clone();
    if let Some(object) = body.as_object_mut() {
        object.remove("request_id");
    }
    let mut headers: Vec<(String, String)> = ["content-type", "cache-control", "www-authenticate"]
        .iter()
        .filter_map(|name| {
            answer
                .headers
                .get(*name)
                .map(|value| ((*name).to_owned(), value.to_str().unwrap().to_owned()))
        })
        .collect();
    headers.sort();
    (answer.status.as_u16(), body, headers)
}

#[tokio::test]
async fn idiomatic_returns_answer_refusals_like_responses_and_pass_their_own_output() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let app = axum::Router::new()
        .route("/baseline", routing::get(baseline))
        .route("/opaque", routing::get(opaque))
        .route("/json", routing::get(json))
        .route("/tuple", routing::get(tuple))
        .route("/result", routing::get(result))
        .route("/html", routing::get(html))
        .route("/m/baseline", routing::get(machine_baseline))
        .route("/m/json", routing::get(machine_json))
        .layer(axum::Extension(wacht));
    let url = common::serve_axum(app).await;

    let plain = format!("Bearer {}", local.token().sign());
    let reader = format!(
        "Bearer {}",
        local
            .token()
            .subject("user_r")
            .organization_permissions(["user:read"])
            .sign()
    );
    for refused in [vec![], vec![("authorization", plain.as_str())]] {
        let expected = refusal(&get(&format!("{url}/baseline"), &refused).await);
        assert!(expected.0 == 401 || expected.0 == 403);
        for path in ["/opaque", "/json", "/tuple", "/result", "/html"] {
            let answer = get(&format!("{url}{path}"), &refused).await;
            assert_eq!(refusal(&answer), expected, "{path}");
        }
    }
    let allowed = [("authorization", reader.as_str())];
    let answer = get(&format!("{url}/opaque"), &allowed).await;
    assert_eq!(
        (answer.status.as_u16(), answer.text.as_str()),
        (200, "hello user_r")
    );
    let answer = get(&format!("{url}/json"), &allowed).await;
    assert_eq!(answer.body, serde_json::json!([1, 2]));
    assert_eq!(answer.headers["content-type"], "application/json");
    let answer = get(&format!("{url}/tuple"), &allowed).await;
    assert_eq!((answer.status.as_u16(), answer.text.as_str()), (201, "7"));
    let answer = get(&format!("{url}/result?42"), &allowed).await;
    assert_eq!((answer.status.as_u16(), answer.text.as_str()), (200, "42"));
    let answer = get(&format!("{url}/result?nope"), &allowed).await;
    assert_eq!(
        (answer.status.as_u16(), answer.text.as_str()),
        (418, "app error")
    );
    let answer = get(&format!("{url}/html"), &allowed).await;
    assert_eq!(answer.text, "<p>hi</p>");
    assert!(
        answer.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // Machines: the same for `#[wacht::machine]`.
    let weak = local.create_api_key(ApiKeySpec::new());
    let good = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    for refused in [vec![], vec![("x-api-key", weak.secret())]] {
        let expected = refusal(&get(&format!("{url}/m/baseline"), &refused).await);
        let answer = get(&format!("{url}/m/json"), &refused).await;
        assert_eq!(refusal(&answer), expected);
    }
    let answer = get(&format!("{url}/m/json"), &[("x-api-key", good.secret())]).await;
    assert_eq!(answer.body, serde_json::json!(good.key_id()));
}
