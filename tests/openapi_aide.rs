//! The OpenAPI document aide writes for the extractors (feature `aide`): an
//! `aide::axum::ApiRouter` with `wacht::Auth`, `wacht::MachineAuth`, `wacht::Caller` and
//! `Option<wacht::Auth>`, compared exactly with `tests/openapi/aide.json`; then the same app
//! served on 127.0.0.1 against the local Wacht, where a refusal's status is one the served
//! document lists.
//!
//! ```text
//! cargo test --features axum,utoipa,aide --test openapi_aide                 # compare
//! WACHT_BLESS=1 cargo test --features axum,utoipa,aide --test openapi_aide   # rewrite, then read the diff
//! ```
//!
//! `.ci/openapi` validates the snapshot with `openapi-spec-validator`.
#![cfg(feature = "aide")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use aide::axum::ApiRouter;
use aide::axum::routing::{get, get_with};
use aide::openapi::OpenApi;
use axum::Extension;
use wacht::openapi::{AideSecurity, aide_optional_session, aide_security};
use wacht::testing::LocalWacht;
use wacht::{Auth, Caller, MachineAuth, Wacht};

async fn session(auth: Auth) -> String {
    format!("user {}", auth.user_id())
}

async fn machine(auth: MachineAuth) -> String {
    format!("key {:?}", auth.key_id())
}

async fn caller(_caller: Caller) -> &'static str {
    "someone"
}

async fn optional(auth: Option<Auth>) -> String {
    auth.map_or("signed out".to_owned(), |auth| {
        format!("user {}", auth.user_id())
    })
}

/// The app and its document (the served one is the same document).
fn app() -> (axum::Router, OpenApi) {
    let mut document = OpenApi::default();
    let router = ApiRouter::new()
        .api_route("/session", get(session))
        .api_route("/machine", get(machine))
        .api_route("/caller", get(caller))
        .api_route("/optional", get_with(optional, aide_optional_session))
        .finish_api_with(&mut document, |api| {
            api.title("wacht extractors")
                .version("0")
                .with(aide_security)
        });
    (router, document)
}

fn aide_document() -> String {
    serde_json::to_string_pretty(&app().1).unwrap()
}

/// The snapshot `tests/openapi/<name>.json`: compared exactly, or rewritten under
/// `WACHT_BLESS=1` (the same mechanism as tests/openapi.rs).
fn snapshot(name: &str, actual: &str) -> Result<(), String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/openapi/{name}.json"));
    let actual = format!("{actual}\n");
    if std::env::var_os("WACHT_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &actual).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (WACHT_BLESS=1 writes it)", path.display()))?;
    if expected == actual {
        return Ok(());
    }
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    Err(format!(
        "{} differs from the generated document (line {}: expected {:?}, generated {:?}); \
         WACHT_BLESS=1 rewrites it, then read the diff",
        path.display(),
        line + 1,
        expected.lines().nth(line).unwrap_or("<end>"),
        actual.lines().nth(line).unwrap_or("<end>"),
    ))
}

#[test]
fn every_extractor_matches_its_snapshot() {
    snapshot("aide", &aide_document()).unwrap();
}

#[test]
fn requirements_and_answers_come_from_the_extractors() {
    let document: serde_json::Value = serde_json::from_str(&aide_document()).unwrap();
    let operation = |path: &str| document["paths"][path]["get"].clone();
    assert_eq!(
        operation("/session")["security"],
        serde_json::json!([{"wacht_session": []}])
    );
    assert_eq!(
        operation("/machine")["security"],
        serde_json::json!([{"wacht_api_key": []}, {"wacht_oauth": []}])
    );
    assert_eq!(
        operation("/caller")["security"],
        serde_json::json!([{"wacht_session": []}, {"wacht_api_key": []}, {"wacht_oauth": []}])
    );
    assert_eq!(
        operation("/optional")["security"],
        serde_json::json!([{}, {"wacht_session": []}])
    );
    let expected: [(&str, &[&str]); 4] = [
        ("/session", &["401", "403", "503"]),
        ("/machine", &["401", "403", "429", "503"]),
        ("/caller", &["401", "403", "429", "503"]),
        ("/optional", &["401", "403", "503"]),
    ];
    for (path, statuses) in expected {
        let responses = operation(path)["responses"].clone();
        for status in statuses {
            assert_eq!(
                responses[status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/WachtRejection",
                "{path} {status}"
            );
        }
        // Sessions are never rate limited.
        assert_eq!(responses["429"].is_null(), statuses.len() == 3, "{path}");
        // Permissions are configured at run time: none are invented.
        assert!(
            responses["403"]["description"]
                .as_str()
                .unwrap()
                .contains("configured at run time"),
            "{path}"
        );
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["wacht_session"]["bearerFormat"], "JWT");
    assert_eq!(schemes["wacht_api_key"]["name"], "x-api-key");
    assert_eq!(schemes["wacht_oauth"]["scheme"], "bearer");
    assert_eq!(
        document["components"]["schemas"]["WachtRejection"]["required"],
        serde_json::json!(["error", "reason", "message"])
    );
}

/// The `WachtRejection` schema is the one the utoipa feature writes.
#[cfg(feature = "utoipa")]
#[test]
fn the_rejection_schema_is_the_utoipa_one() {
    let aide: serde_json::Value = serde_json::from_str(&aide_document()).unwrap();
    let utoipa =
        serde_json::to_value(<wacht::openapi::RejectionBody as utoipa::PartialSchema>::schema())
            .unwrap();
    assert_eq!(aide["components"]["schemas"]["WachtRejection"], utoipa);
}

/// Without [`aide_optional_session`], aide's `impl OperationInput for Option<T>` documents
/// `Option<Auth>` as a required session with no refusal answers (the guide says so).
#[test]
fn option_auth_without_the_transform_is_documented_as_auth() {
    let mut document = OpenApi::default();
    let _router: axum::Router = ApiRouter::new()
        .api_route("/optional", get(optional))
        .finish_api(&mut document);
    let document = serde_json::to_value(&document).unwrap();
    let operation = &document["paths"]["/optional"]["get"];
    assert_eq!(
        operation["security"],
        serde_json::json!([{"wacht_session": []}])
    );
    assert!(operation["responses"]["401"].is_null());
}

#[test]
fn a_custom_api_key_header() {
    let mut document = OpenApi::default();
    let security = AideSecurity::with_api_key_header("x-team-key");
    let _router: axum::Router = ApiRouter::new()
        .api_route("/machine", get(machine))
        .finish_api_with(&mut document, |api| security.apply(api));
    let document = serde_json::to_value(&document).unwrap();
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["wacht_api_key"]["in"], "header");
    assert_eq!(schemes["wacht_api_key"]["name"], "x-team-key");
    assert_eq!(schemes.as_object().unwrap().len(), 3);
}

/// Served on 127.0.0.1 against the local Wacht: the document over HTTP, and a request
/// without a credential refused with a status that document lists.
#[tokio::test]
async fn served_refusals_are_documented() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let (router, document) = app();
    let document = Arc::new(document);
    let app = router
        .route(
            "/openapi.json",
            axum::routing::get(|Extension(document): Extension<Arc<OpenApi>>| async move {
                axum::Json(document)
            }),
        )
        .layer(Extension(document))
        .layer(Extension(wacht));
    let url = common::serve_axum(app).await;
    let served = common::get(&format!("{url}/openapi.json"), &[]).await;
    assert_eq!(served.status, 200, "{}", served.text);
    for path in ["/session", "/machine", "/optional"] {
        let headers: &[(&str, &str)] = if path == "/optional" {
            &[("authorization", "Bearer x.y.z")]
        } else {
            &[]
        };
        let answer = common::get(&format!("{url}{path}"), headers).await;
        let reason = common::rejected(&answer, 401, "unauthenticated");
        let documented = &served.body["paths"][path]["get"]["responses"];
        assert!(
            documented["401"]["content"]["application/json"].is_object(),
            "{path}: 401 ({reason}) is not in the served document: {documented}"
        );
    }
    let signed_in = format!("Bearer {}", local.token().subject("user_1").sign());
    let answer = common::get(&format!("{url}/session"), &[("authorization", &signed_in)]).await;
    assert_eq!(answer.text, "user user_1");
}
