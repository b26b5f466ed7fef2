//! The header bridge over real HTTP on 127.0.0.1: a `#[protect]`ed edge verifies a real
//! session token from the local Wacht and forwards the identity in `x-wacht-auth` to a
//! downstream service, which reads it back. Characters outside Latin-1 included; forged,
//! garbled, missing and wrongly typed headers refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, rejected, send};

use http::header::HeaderValue;
use http::{Request, Response, StatusCode};
use serde_json::{Value, json};
use wacht::bridge;
use wacht::testing::{LocalWacht, TestServer, serve, serve_with};
use wacht::{Auth, Requirement, Wacht};

/// The edge: verifies the session, then forwards to the URL in `x-test-downstream` with the
/// verified identity in `x-wacht-auth` (replacing whatever the caller sent there).
#[wacht::protect]
async fn edge(req: Request<String>, auth: Auth) -> Response<String> {
    let mut req = req;
    let downstream = req.headers()["x-test-downstream"]
        .to_str()
        .unwrap()
        .to_owned();
    bridge::insert_header(&mut req, &auth);
    let mut outgoing = reqwest::Client::new().get(downstream);
    for value in req.headers().get_all(bridge::HEADER) {
        outgoing = outgoing.header(bridge::HEADER, value.clone());
    }
    let answer = outgoing.send().await.unwrap();
    let mut response = Response::new(String::new());
    *response.status_mut() = answer.status();
    *response.body_mut() = answer.text().await.unwrap();
    response
}

/// The downstream service, inside the edge's trust boundary: reads the forwarded identity.
async fn downstream(req: Request<String>) -> Response<String> {
    match bridge::from_request(&req) {
        Ok(identity) => {
            let raw = req.headers()[bridge::HEADER].as_bytes();
            let body = json!({
                "raw": String::from_utf8_lossy(raw),
                "raw_is_ascii": raw.is_ascii(),
                "user_id": identity.user_id(),
                "session_id": identity.session_id(),
                "organization_id": identity.organization_id(),
                "workspace_id": identity.workspace_id(),
                "organization_permissions": identity.organization_permissions(),
                "workspace_permissions": identity.workspace_permissions(),
                "can_read_users": identity.check(&Requirement::new().permission("user:read")).is_ok(),
            });
            Response::new(body.to_string())
        }
        Err(error) => error.rejection().into_response(),
    }
}

struct Setup {
    local: LocalWacht,
    wacht: Wacht,
    edge: TestServer,
    downstream: TestServer,
    http: reqwest::Client,
}

async fn setup() -> Setup {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    Setup {
        edge: serve_with(wacht.clone(), edge).await.unwrap(),
        downstream: serve(downstream).await.unwrap(),
        local,
        wacht,
        http: reqwest::Client::new(),
    }
}

impl Setup {
    /// Calls the downstream service directly with these `x-wacht-auth` values.
    async fn downstream_with(&self, values: &[HeaderValue]) -> Answer {
        let mut request = self.http.get(self.downstream.url());
        for value in values {
            request = request.header(bridge::HEADER, value.clone());
        }
        send(request).await
    }
}

#[tokio::test]
async fn identity_round_trips_through_an_edge_with_non_latin1_text() {
    let s = setup().await;
    let token = s
        .local
        .token()
        .subject("user_Zoë")
        .session("sess_李")
        .organization("org_😀")
        .workspace("ws_1")
        .organization_permissions(["user:read", "李:read"])
        .workspace_permissions(["😀"])
        .sign();
    let answer = send(
        s.http
            .get(s.edge.url())
            .bearer_auth(token)
            .header("x-test-downstream", s.downstream.url())
            // A forged identity sent by the caller: the edge replaces it.
            .header(
                bridge::HEADER,
                r#"{"userId":"admin","organizationPermissions":["*"]}"#,
            ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = &answer.body;
    assert_eq!(
        body["raw"],
        r#"{"userId":"user_Zo\u00eb","sessionId":"sess_\u674e","organizationId":"org_\ud83d\ude00","workspaceId":"ws_1","organizationPermissions":["user:read","\u674e:read"],"workspacePermissions":["\ud83d\ude00"]}"#
    );
    assert_eq!(body["raw_is_ascii"], true);
    assert_eq!(body["user_id"], "user_Zoë");
    assert_eq!(body["session_id"], "sess_李");
    assert_eq!(body["organization_id"], "org_😀");
    assert_eq!(body["workspace_id"], "ws_1");
    assert_eq!(
        body["organization_permissions"],
        json!(["user:read", "李:read"])
    );
    assert_eq!(body["workspace_permissions"], json!(["😀"]));
    assert_eq!(body["can_read_users"], true);

    // Without a token the edge answers 401 itself; nothing reaches downstream.
    let refused = send(
        s.http
            .get(s.edge.url())
            .header("x-test-downstream", s.downstream.url())
            .header(bridge::HEADER, r#"{"userId":"admin"}"#),
    )
    .await;
    assert_eq!(rejected(&refused, 401, "unauthenticated"), "missing_token");
}

/// The exact bytes for a fixed session, and the shape the JavaScript SDK reads
/// (`JSON.parse(headers.get("x-wacht-auth"))` as `{userId, sessionId, organizationId,
/// workspaceId, organizationPermissions, workspacePermissions}`).
#[tokio::test]
async fn the_header_is_the_javascript_sdks_json_byte_for_byte() {
    let s = setup().await;
    let token = s
        .local
        .token()
        .subject("user_1")
        .session("sess_1")
        .organization_permissions(["user:read"])
        .sign();
    let auth = s.wacht.verify_token(&token).await.unwrap();
    let value = bridge::to_header_value(&auth);
    let expected = r#"{"userId":"user_1","sessionId":"sess_1","organizationId":null,"workspaceId":null,"organizationPermissions":["user:read"],"workspacePermissions":[]}"#;
    assert_eq!(value.as_bytes(), expected.as_bytes());
    assert!(value.as_bytes().is_ascii());

    // What JSON.stringify writes for the same object, member by member and in order.
    let parsed: Value = serde_json::from_slice(value.as_bytes()).unwrap();
    let object = parsed.as_object().unwrap();
    let names = [
        "userId",
        "sessionId",
        "organizationId",
        "workspaceId",
        "organizationPermissions",
        "workspacePermissions",
    ];
    assert_eq!(object.len(), names.len());
    let positions: Vec<usize> = names
        .iter()
        .map(|name| expected.find(&format!("\"{name}\":")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(object["userId"].is_string());
    for id in ["sessionId", "organizationId", "workspaceId"] {
        assert!(object[id].is_string() || object[id].is_null(), "{id}");
    }
    for list in ["organizationPermissions", "workspacePermissions"] {
        assert!(
            object[list]
                .as_array()
                .unwrap()
                .iter()
                .all(Value::is_string)
        );
    }

    // insert_header sets the same value on a request.
    let mut req = Request::new(());
    bridge::insert_header(&mut req, &auth);
    assert_eq!(req.headers()[bridge::HEADER], expected);
}

#[tokio::test]
async fn forged_garbled_missing_and_wrongly_typed_headers_are_refused() {
    let s = setup().await;
    let answer = s.downstream_with(&[]).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "missing_bridge_header"
    );
    assert_eq!(answer.headers["www-authenticate"], "Bearer realm=\"wacht\"");

    let refused = [
        ("not json", "invalid_bridge_header"),
        ("{\"userId\":\"u\"", "invalid_bridge_header"),
        ("[\"u\"]", "invalid_bridge_header"),
        ("{\"userId\":42}", "invalid_bridge_header"),
        (
            "{\"userId\":\"u\",\"sessionId\":[]}",
            "invalid_bridge_header",
        ),
        (
            "{\"userId\":\"u\",\"organizationPermissions\":\"user:read\"}",
            "invalid_bridge_header",
        ),
        (
            "{\"userId\":\"u\",\"workspacePermissions\":[true]}",
            "invalid_bridge_header",
        ),
        (
            "{\"userId\":\"u\",\"userId\":\"admin\"}",
            "invalid_bridge_header",
        ),
        (
            "{\"userId\":\"u\",\"tokenType\":\"api_key\"}",
            "invalid_bridge_header",
        ),
        // The JavaScript SDK's header for a signed-out caller.
        (
            r#"{"userId":null,"sessionId":null,"organizationId":null,"workspaceId":null,"organizationPermissions":[],"workspacePermissions":[]}"#,
            "missing_subject",
        ),
        ("{\"userId\":\"\"}", "missing_subject"),
    ];
    for (value, reason) in refused {
        let answer = s
            .downstream_with(&[HeaderValue::from_str(value).unwrap()])
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{value}");
        assert_eq!(rejected(&answer, 401, "unauthenticated"), reason, "{value}");
        assert!(answer.body.get("user_id").is_none(), "{value}");
    }

    // Two headers (a forged one appended next to a real one) are ambiguous: refused.
    let real = HeaderValue::from_static(r#"{"userId":"user_1"}"#);
    let forged = HeaderValue::from_static(r#"{"userId":"admin"}"#);
    let answer = s.downstream_with(&[real, forged]).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "invalid_bridge_header"
    );
}

#[tokio::test]
async fn raw_utf8_and_javascript_latin1_headers_are_read() {
    let s = setup().await;
    // Raw UTF-8, as a non-JavaScript upstream might send it.
    let utf8 = r#"{"userId":"李","sessionId":null,"organizationId":"org_😀","workspaceId":null,"organizationPermissions":["user:read"],"workspacePermissions":[]}"#;
    let answer = s
        .downstream_with(&[HeaderValue::from_bytes(utf8.as_bytes()).unwrap()])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["user_id"], "李");
    assert_eq!(answer.body["organization_id"], "org_😀");
    assert_eq!(answer.body["can_read_users"], true);

    // What Node's http module sends for JSON.stringify({userId: "Zoë", …}): Latin-1 bytes.
    let latin1 = b"{\"userId\":\"Zo\xeb\",\"sessionId\":\"sess_1\",\"organizationId\":null,\"workspaceId\":null,\"organizationPermissions\":[],\"workspacePermissions\":[]}";
    let answer = s
        .downstream_with(&[HeaderValue::from_bytes(latin1).unwrap()])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["user_id"], "Zoë");
    assert_eq!(answer.body["session_id"], "sess_1");
    assert_eq!(answer.body["can_read_users"], false);

    // The Next.js SDK's longer header: extra members ignored.
    let next = r#"{"userId":"user_1","sessionId":"sess_1","organizationId":null,"workspaceId":null,"organizationPermissions":[],"workspacePermissions":["user:read"],"tokenType":"session_token","ownerUserId":null,"identity":{"principal_type":"session_token"},"metadata":null}"#;
    let answer = s
        .downstream_with(&[HeaderValue::from_str(next).unwrap()])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["can_read_users"], true);
}
