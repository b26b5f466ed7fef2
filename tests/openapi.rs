//! The OpenAPI documents the attributes write (feature `utoipa`): every form of
//! `#[wacht::protect]` and `#[wacht::machine]` above `#[utoipa::path]`, compared exactly with
//! the committed snapshots in `tests/openapi/*.json`.
//!
//! ```text
//! cargo test --features utoipa --test openapi                 # compare
//! WACHT_BLESS=1 cargo test --features utoipa --test openapi   # rewrite the snapshots, then read the diff
//! ```
//!
//! `.ci/openapi` validates the same documents (and the example's, served over HTTP) with
//! `openapi-spec-validator`.
#![cfg(feature = "utoipa")]
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The handlers are only documented here (utoipa names them), never called.
#![allow(dead_code)]

use std::path::PathBuf;

use http::{Request, Response};
use utoipa::OpenApi;
use wacht::openapi::WachtSecurity;

type Answer = Response<String>;

fn ok() -> Answer {
    Response::new(String::new())
}

#[wacht::protect]
#[utoipa::path(get, path = "/protect/signed-in", responses((status = 200, description = "Any signed-in caller.")))]
async fn signed_in(_req: Request<String>) -> Answer {
    ok()
}

#[wacht::protect(permission = "user:read")]
#[utoipa::path(get, path = "/protect/permission", responses((status = 200, description = "Users.", body = String)))]
async fn permission(_req: Request<String>, _auth: wacht::Auth) -> Answer {
    ok()
}

#[wacht::protect(any = ["user:read", "user:admin"])]
#[utoipa::path(get, path = "/protect/any")]
async fn any(_req: Request<String>) -> Answer {
    ok()
}

#[wacht::protect(all = ["user:read", "user:write"], organization_id = "org_123", workspace_id = "ws_123")]
#[utoipa::path(post, path = "/protect/all", responses((status = 201, description = "Written.")))]
async fn all(_req: Request<String>) -> Answer {
    ok()
}

#[wacht::protect(optional)]
#[utoipa::path(get, path = "/protect/optional", responses((status = 200, description = "Anyone.")))]
async fn optional(_req: Request<String>, _auth: Option<wacht::Auth>) -> Answer {
    ok()
}

#[wacht::protect(
    permission = "user:read",
    or_machine(resource = "/users", method = "GET", permission = "user:read")
)]
#[utoipa::path(get, path = "/protect/or-machine", responses((status = 200, description = "People or machines.")))]
async fn or_machine(_req: Request<String>, _caller: wacht::Caller) -> Answer {
    ok()
}

/// A status the user documents keeps the user's answer.
#[wacht::protect(permission = "billing:read")]
#[utoipa::path(get, path = "/protect/own-403", responses((status = 200, description = "Bills."), (status = 403, description = "Ask an admin for `billing:read`.")))]
async fn own_403(_req: Request<String>) -> Answer {
    ok()
}

#[wacht::machine]
#[utoipa::path(get, path = "/machine/default", responses((status = 200, description = "Any allowed key.")))]
async fn machine_default(_req: Request<String>) -> Answer {
    ok()
}

#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
#[utoipa::path(get, path = "/machine/users", responses((status = 200, description = "Users.")))]
async fn machine_users(_req: Request<String>, _auth: wacht::MachineAuth) -> Answer {
    ok()
}

#[wacht::machine(resource = "urn:wacht:reports", any = ["reports:read", "reports:admin"])]
#[utoipa::path(get, path = "/machine/any")]
async fn machine_any(_req: Request<String>) -> Answer {
    ok()
}

#[wacht::machine(method = "POST", principal = "oauth_access_token", all = ["reports:read", "reports:write"])]
#[utoipa::path(post, path = "/machine/oauth", responses((status = 201, description = "Written.")))]
async fn machine_oauth(_req: Request<String>) -> Answer {
    ok()
}

#[wacht::machine(principal = "any", header = "x-partner-key")]
#[utoipa::path(get, path = "/machine/either", responses((status = 200, description = "Either credential.")))]
async fn machine_either(_req: Request<String>) -> Answer {
    ok()
}

mod deps {
    pub use wacht as auth;
}

#[deps::auth::protect(crate = "deps::auth", permission = "user:read")]
#[utoipa::path(get, path = "/renamed", responses((status = 200, description = "Through a renamed crate.")))]
async fn renamed(_req: Request<String>) -> Answer {
    ok()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "wacht attributes", version = "0"),
    paths(
        signed_in, permission, any, all, optional, or_machine, own_403,
        machine_default, machine_users, machine_any, machine_oauth, machine_either, renamed,
    ),
    modifiers(&WachtSecurity),
)]
struct Attributes;

/// The snapshot `tests/openapi/<name>.json`: compared exactly, or rewritten under
/// `WACHT_BLESS=1`. The error names the first differing line.
fn snapshot(name: &str, actual: &str, bless: bool) -> Result<(), String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/openapi/{name}.json"));
    let actual = format!("{actual}\n");
    if bless {
        std::fs::write(&path, &actual).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (WACHT_BLESS=1 writes it)", path.display()))?;
    compare(&expected, &actual).map_err(|diff| {
        format!("{} differs from the generated document ({diff}); WACHT_BLESS=1 rewrites it, then read the diff", path.display())
    })
}

fn compare(expected: &str, actual: &str) -> Result<(), String> {
    if expected == actual {
        return Ok(());
    }
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    Err(format!(
        "line {}: expected {:?}, generated {:?}",
        line + 1,
        expected.lines().nth(line).unwrap_or("<end>"),
        actual.lines().nth(line).unwrap_or("<end>"),
    ))
}

fn bless() -> bool {
    std::env::var_os("WACHT_BLESS").is_some_and(|v| v == "1")
}

fn attributes_document() -> String {
    Attributes::openapi().to_pretty_json().unwrap()
}

#[test]
fn every_attribute_form_matches_its_snapshot() {
    snapshot("attributes", &attributes_document(), bless()).unwrap();
}

#[test]
fn requirements_and_answers_come_from_the_arguments() {
    let document: serde_json::Value = serde_json::from_str(&attributes_document()).unwrap();
    let operation = |path: &str, method: &str| document["paths"][path][method].clone();
    assert_eq!(
        operation("/protect/permission", "get")["security"],
        serde_json::json!([{"wacht_session": ["user:read"]}])
    );
    // `any`: alternatives; `all`: one requirement listing every permission.
    assert_eq!(
        operation("/protect/any", "get")["security"],
        serde_json::json!([{"wacht_session": ["user:read"]}, {"wacht_session": ["user:admin"]}])
    );
    assert_eq!(
        operation("/protect/all", "post")["security"],
        serde_json::json!([{"wacht_session": ["user:read", "user:write"]}])
    );
    // `optional`: anonymous callers too.
    assert_eq!(
        operation("/protect/optional", "get")["security"],
        serde_json::json!([{}, {"wacht_session": []}])
    );
    assert_eq!(
        operation("/machine/either", "get")["security"],
        serde_json::json!([{"wacht_api_key.x-partner-key": []}, {"wacht_oauth": []}])
    );
    let users = operation("/machine/users", "get");
    for status in ["401", "403", "429", "503"] {
        assert_eq!(
            users["responses"][status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/WachtRejection",
            "{status}"
        );
    }
    assert!(
        users["responses"]["403"]["description"]
            .as_str()
            .unwrap()
            .contains("`GET` on `/machine/users` with the permission `user:read`")
    );
    // Sessions are never rate limited; organization ids stay out of the document.
    assert!(operation("/protect/permission", "get")["responses"]["429"].is_null());
    assert!(!document.to_string().contains("org_123"));
    assert_eq!(
        operation("/protect/own-403", "get")["responses"]["403"]["description"],
        "Ask an admin for `billing:read`."
    );
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(
        schemes["wacht_api_key.x-partner-key"]["name"],
        "x-partner-key"
    );
    assert_eq!(document["openapi"], "3.1.0");
}

#[test]
fn a_snapshot_that_differs_fails() {
    let document = attributes_document();
    let changed = document.replacen("user:read", "user:reed", 1);
    let error = compare(&format!("{changed}\n"), &format!("{document}\n")).unwrap_err();
    assert!(error.contains("user:reed"), "{error}");
    assert!(compare("a\nb\n", "a\n").is_err());
    assert!(compare("a\n", "a\n").is_ok());
}
