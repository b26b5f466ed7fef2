//! The header bridge: hand a verified session identity to code behind this one in the
//! `x-wacht-auth` request header, the way the JavaScript SDK's `authenticateRequest` does.
//!
//! # Trust
//!
//! The header is **not** a credential: anyone can write one. Reading it ([`from_request`])
//! is right only inside one trust boundary, where every request comes from an upstream
//! that verified the session itself and wrote the header ([`insert_header`]), and where
//! the edge strips `x-wacht-auth` from every request arriving from outside
//! ([`remove_header`]). Anywhere else, verify the session token (`#[wacht::protect]`).
//!
//! # Wire format
//!
//! The value is the JSON the JavaScript SDK writes, members in its order:
//!
//! ```text
//! {"userId":"…","sessionId":"…"|null,"organizationId":"…"|null,"workspaceId":"…"|null,
//!  "organizationPermissions":["…"],"workspacePermissions":["…"]}
//! ```
//!
//! It is written in ASCII only: characters outside ASCII (and controls, and DEL) are
//! escaped as `\uXXXX`, astral characters as surrogate pairs. HTTP header values are bytes,
//! and JavaScript's `Headers` refuses characters above U+00FF, so raw UTF-8 would not
//! survive; the escaped form is valid JSON that `JSON.parse` reads to the same strings. For
//! printable-ASCII content the bytes are exactly `JSON.stringify`'s.
//!
//! Reading accepts escaped and raw text: the value is decoded as UTF-8 when it is valid
//! UTF-8, else as ISO-8859-1 (what a JavaScript upstream sends for characters up to
//! U+00FF).
//!
//! ```
//! # async fn run(auth: wacht_runtime::Auth, mut req: http::Request<()>) {
//! use wacht_runtime::bridge;
//! // Upstream, after verifying the session:
//! bridge::insert_header(&mut req, &auth);
//! // Downstream, inside the same trust boundary:
//! let identity = bridge::from_request(&req).unwrap();
//! assert_eq!(identity.user_id(), auth.user_id());
//! # }
//! ```

use std::fmt::Write as _;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::auth::Auth;
use crate::rejection::{Challenge, Rejection};
use crate::requirement::{Denial, Requirement};

/// The header's name: `x-wacht-auth`.
pub const HEADER: &str = "x-wacht-auth";

fn header_name() -> HeaderName {
    HeaderName::from_static(HEADER)
}

/// A session identity handed over by a trusted upstream in `x-wacht-auth`.
///
/// Unlike [`Auth`], nothing here was verified by this process: it is what the upstream
/// wrote (see the [module documentation](self) for when that may be trusted). It carries
/// the six fields of the header and no claims or expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgedAuth {
    user_id: String,
    session_id: Option<String>,
    organization_id: Option<String>,
    workspace_id: Option<String>,
    organization_permissions: Vec<String>,
    workspace_permissions: Vec<String>,
}

impl BridgedAuth {
    /// The identity of a verified session, ready to be forwarded.
    pub fn from_auth(auth: &Auth) -> Self {
        BridgedAuth {
            user_id: auth.user_id().to_owned(),
            session_id: auth.session_id().map(str::to_owned),
            organization_id: auth.organization_id().map(str::to_owned),
            workspace_id: auth.workspace_id().map(str::to_owned),
            organization_permissions: auth.organization_permissions().to_vec(),
            workspace_permissions: auth.workspace_permissions().to_vec(),
        }
    }

    /// The user id (`userId`).
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The session id (`sessionId`), if any.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The active organization id (`organizationId`), if any.
    pub fn organization_id(&self) -> Option<&str> {
        self.organization_id.as_deref()
    }

    /// The active workspace id (`workspaceId`), if any.
    pub fn workspace_id(&self) -> Option<&str> {
        self.workspace_id.as_deref()
    }

    /// Permissions in the active organization (`organizationPermissions`).
    pub fn organization_permissions(&self) -> &[String] {
        &self.organization_permissions
    }

    /// Permissions in the active workspace (`workspacePermissions`).
    pub fn workspace_permissions(&self) -> &[String] {
        &self.workspace_permissions
    }

    /// Whether `permission` is held in the organization or the workspace.
    pub fn has(&self, permission: &str) -> bool {
        self.organization_permissions
            .iter()
            .any(|p| p == permission)
            || self.workspace_permissions.iter().any(|p| p == permission)
    }

    /// The decision `#[protect]` makes, on this identity: organization, workspace, then
    /// permissions (see [`Requirement::check`]).
    ///
    /// ```
    /// # fn run(identity: wacht_runtime::bridge::BridgedAuth) -> http::Response<String> {
    /// use wacht_runtime::Requirement;
    /// if let Err(denial) = identity.check(&Requirement::new().permission("user:read")) {
    ///     return denial.rejection().into_response(); // 403
    /// }
    /// # http::Response::new(String::new()) }
    /// ```
    pub fn check(&self, requirement: &Requirement) -> Result<(), Denial> {
        requirement.check_identity(self.organization_id(), self.workspace_id(), |permission| {
            self.has(permission)
        })
    }

    /// The header's JSON text: ASCII only, members in the JavaScript SDK's order, `null`
    /// for absent ids.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(128);
        out.push_str("{\"userId\":");
        write_json_string(&mut out, &self.user_id);
        out.push_str(",\"sessionId\":");
        write_optional(&mut out, self.session_id.as_deref());
        out.push_str(",\"organizationId\":");
        write_optional(&mut out, self.organization_id.as_deref());
        out.push_str(",\"workspaceId\":");
        write_optional(&mut out, self.workspace_id.as_deref());
        out.push_str(",\"organizationPermissions\":");
        write_list(&mut out, &self.organization_permissions);
        out.push_str(",\"workspacePermissions\":");
        write_list(&mut out, &self.workspace_permissions);
        out.push('}');
        out
    }

    /// The header value ([`BridgedAuth::to_json`]'s bytes).
    pub fn to_header_value(&self) -> HeaderValue {
        // `to_json` writes printable ASCII only, which every header value may hold. Should
        // that ever fail, `null` is written instead: a value every reader refuses.
        HeaderValue::from_str(&self.to_json()).unwrap_or_else(|_| HeaderValue::from_static("null"))
    }

    /// Parses a header value. Refuses anything but a JSON object with a non-empty string
    /// `userId`, string-or-null ids and string-array permissions (see [`BridgeError`]).
    /// Members the JavaScript SDKs add (`tokenType`, `identity`, …) are ignored, except
    /// that a `tokenType` other than `"session_token"` is refused: it is not a session.
    pub fn from_header_value(value: &HeaderValue) -> Result<Self, BridgeError> {
        Self::from_bytes(value.as_bytes())
    }

    /// Parses the header's bytes (see [`BridgedAuth::from_header_value`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BridgeError> {
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            // ISO-8859-1: every byte is the code point of the same number.
            Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
        };
        let object = crate::strict::parse_object(text.as_bytes())
            .map_err(|_| BridgeError::Malformed("not a JSON object without duplicate names"))?;
        match object.get("tokenType") {
            None => {}
            Some(Value::Null) => return Err(BridgeError::SignedOut),
            Some(Value::String(kind)) if kind == "session_token" => {}
            Some(_) => return Err(BridgeError::Malformed("`tokenType` is not a session")),
        }
        let user_id = match object.get("userId") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(BridgeError::SignedOut);
            }
            Some(_) => return Err(BridgeError::Malformed("`userId` is not a string")),
        };
        Ok(BridgedAuth {
            user_id,
            session_id: optional_id(&object, "sessionId")?,
            organization_id: optional_id(&object, "organizationId")?,
            workspace_id: optional_id(&object, "workspaceId")?,
            organization_permissions: permissions(&object, "organizationPermissions")?,
            workspace_permissions: permissions(&object, "workspacePermissions")?,
        })
    }
}

impl From<&Auth> for BridgedAuth {
    fn from(auth: &Auth) -> Self {
        BridgedAuth::from_auth(auth)
    }
}

/// Why an `x-wacht-auth` header was refused. Every variant is a 401
/// ([`BridgeError::rejection`]): a request without a usable header is never let through
/// as anonymous.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// No `x-wacht-auth` header.
    #[error("no x-wacht-auth header")]
    Missing,
    /// More than one `x-wacht-auth` header.
    #[error("several x-wacht-auth headers")]
    Several,
    /// The header is not the documented JSON, or a member has the wrong type.
    #[error("malformed x-wacht-auth header: {0}")]
    Malformed(&'static str),
    /// The header describes a signed-out caller (`userId` null or empty, `tokenType` null).
    #[error("the x-wacht-auth header names no signed-in user")]
    SignedOut,
}

impl BridgeError {
    /// The stable snake_case reason code: `missing_bridge_header`, `missing_subject` (signed
    /// out) or `invalid_bridge_header`.
    pub fn reason(&self) -> &'static str {
        match self {
            BridgeError::Missing => "missing_bridge_header",
            BridgeError::SignedOut => "missing_subject",
            BridgeError::Several | BridgeError::Malformed(_) => "invalid_bridge_header",
        }
    }

    /// The `401 unauthenticated` answer for this error; details stay out of the body.
    pub fn rejection(&self) -> Rejection {
        let message = match self {
            BridgeError::Missing => "This request carries no forwarded identity.",
            BridgeError::SignedOut => "The forwarded identity names no signed-in user.",
            BridgeError::Several | BridgeError::Malformed(_) => {
                "The forwarded identity is malformed."
            }
        };
        let challenge = match self {
            BridgeError::Missing => Challenge::Bare,
            _ => Challenge::InvalidToken,
        };
        Rejection::unauthenticated(self.reason(), message).with_challenge(challenge)
    }
}

/// The `x-wacht-auth` value for a verified session: [`BridgedAuth::to_header_value`].
///
/// For a fixed identity the value is, byte for byte:
///
/// ```text
/// {"userId":"user_1","sessionId":"sess_1","organizationId":null,"workspaceId":null,"organizationPermissions":["user:read"],"workspacePermissions":[]}
/// ```
pub fn to_header_value(auth: &Auth) -> HeaderValue {
    BridgedAuth::from_auth(auth).to_header_value()
}

/// Sets `x-wacht-auth` on a request about to be forwarded, replacing every value it had
/// (so a forged incoming header never travels on next to the real one).
pub fn insert_header<B>(req: &mut http::Request<B>, auth: &Auth) {
    req.headers_mut()
        .insert(header_name(), to_header_value(auth));
}

/// Removes every `x-wacht-auth` header from a request a check has just admitted: whatever
/// the client wrote there never reaches the handler (every form: the attributes, the
/// layers, the extractors). The header is removed rather than overwritten with the verified
/// identity: a machine caller has no session identity to write, and a handler wanting the
/// bridge for a call it forwards sets it on that call with [`insert_header`].
pub(crate) fn strip(headers: &mut HeaderMap) {
    if headers.remove(HEADER).is_some() {
        tracing::debug!(target: "wacht", "a client-sent x-wacht-auth header was removed");
    }
}

/// Removes every `x-wacht-auth` header: what the edge of a trust boundary does to requests
/// arriving from outside. Returns whether there was one.
pub fn remove_header<B>(req: &mut http::Request<B>) -> bool {
    // `HeaderMap::remove` drops every value of the name.
    req.headers_mut().remove(HEADER).is_some()
}

/// Reads the identity an upstream forwarded. Opt-in and trusting: see the
/// [module documentation](self). Missing, repeated, unparsable or wrongly typed headers are
/// refused; map the error with [`BridgeError::rejection`] (401).
///
/// ```
/// use wacht_runtime::bridge;
/// let req = http::Request::builder()
///     .header("x-wacht-auth", r#"{"userId":"user_1","sessionId":null,"organizationId":null,"workspaceId":null,"organizationPermissions":[],"workspacePermissions":["doc:read"]}"#)
///     .body(())
///     .unwrap();
/// let identity = bridge::from_request(&req).unwrap();
/// assert!(identity.has("doc:read"));
///
/// let anonymous = http::Request::new(());
/// let error = bridge::from_request(&anonymous).unwrap_err();
/// assert_eq!(error.rejection().status(), 401);
/// ```
pub fn from_request<B>(req: &http::Request<B>) -> Result<BridgedAuth, BridgeError> {
    from_headers(req.headers())
}

/// [`from_request`] on a header map.
pub fn from_headers(headers: &HeaderMap) -> Result<BridgedAuth, BridgeError> {
    let mut values = headers.get_all(HEADER).iter();
    let value = values.next().ok_or(BridgeError::Missing)?;
    if values.next().is_some() {
        return Err(BridgeError::Several);
    }
    BridgedAuth::from_header_value(value)
}

fn optional_id(object: &Map<String, Value>, name: &str) -> Result<Option<String>, BridgeError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        // The JavaScript SDK writes `x || null`: an empty id is no id.
        Some(Value::String(id)) if id.is_empty() => Ok(None),
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(_) => Err(BridgeError::Malformed(match name {
            "sessionId" => "`sessionId` is not a string",
            "organizationId" => "`organizationId` is not a string",
            _ => "`workspaceId` is not a string",
        })),
    }
}

fn permissions(object: &Map<String, Value>, name: &str) -> Result<Vec<String>, BridgeError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(permission) => Ok(permission.clone()),
                _ => Err(BridgeError::Malformed("a permission is not a string")),
            })
            .collect(),
        Some(_) => Err(BridgeError::Malformed("a permission list is not an array")),
    }
}

fn write_optional(out: &mut String, value: Option<&str>) {
    match value {
        Some(value) => write_json_string(out, value),
        None => out.push_str("null"),
    }
}

fn write_list(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(out, item);
    }
    out.push(']');
}

/// A JSON string in printable ASCII: `JSON.stringify`'s escapes (`\"`, `\\`, `\b`, `\f`,
/// `\n`, `\r`, `\t`, `\u00XX` for other controls), plus `\uXXXX` (lower-case hex, UTF-16
/// units) for DEL and everything outside ASCII.
fn write_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0_u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::session::VerifiedClaims;

    fn auth(
        user: &str,
        session: Option<&str>,
        organization: Option<&str>,
        org_permissions: &[&str],
        ws_permissions: &[&str],
    ) -> Auth {
        Auth::new(Arc::new(VerifiedClaims {
            user_id: user.into(),
            session_id: session.map(Into::into),
            organization_id: organization.map(Into::into),
            workspace_id: None,
            organization_permissions: org_permissions.iter().map(|p| (*p).into()).collect(),
            workspace_permissions: ws_permissions.iter().map(|p| (*p).into()).collect(),
            expires_at: 0,
            claims: Map::new(),
        }))
    }

    #[test]
    fn json_matches_json_stringify_byte_for_byte() {
        let value = to_header_value(&auth("user_1", Some("sess_1"), None, &["user:read"], &[]));
        assert_eq!(
            value.as_bytes(),
            br#"{"userId":"user_1","sessionId":"sess_1","organizationId":null,"workspaceId":null,"organizationPermissions":["user:read"],"workspacePermissions":[]}"#
        );
        // JSON.stringify("a\"b\\c\n\t\u0001/") === '"a\\"b\\\\c\\n\\t\\u0001/"'
        let mut out = String::new();
        write_json_string(&mut out, "a\"b\\c\n\t\u{1}/");
        assert_eq!(out, r#""a\"b\\c\n\t\u0001/""#);
    }

    #[test]
    fn non_ascii_is_escaped_and_reads_back() {
        let original = auth("Zoë", Some("李"), Some("org_😀"), &["ü:read"], &["\u{7f}x"]);
        let json = BridgedAuth::from_auth(&original).to_json();
        assert!(json.bytes().all(|b| (0x20..0x7f).contains(&b)), "{json}");
        assert!(json.contains(r#""userId":"Zo\u00eb""#), "{json}");
        assert!(json.contains(r#""sessionId":"\u674e""#), "{json}");
        assert!(
            json.contains(r#""organizationId":"org_\ud83d\ude00""#),
            "{json}"
        );
        // serde_json (like JSON.parse) reads it to the same strings.
        let parsed: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["userId"], "Zoë");
        let back = BridgedAuth::from_header_value(&to_header_value(&original)).unwrap();
        assert_eq!(back, BridgedAuth::from_auth(&original));
    }

    #[test]
    fn raw_utf8_and_latin1_are_read() {
        let utf8 = r#"{"userId":"李","organizationPermissions":["😀"]}"#;
        let parsed = BridgedAuth::from_bytes(utf8.as_bytes()).unwrap();
        assert_eq!(parsed.user_id(), "李");
        assert!(parsed.has("😀"));
        // What Node sends for JSON.stringify({userId: "Zoë"}): Latin-1 bytes.
        let latin1 = b"{\"userId\":\"Zo\xeb\"}";
        assert_eq!(BridgedAuth::from_bytes(latin1).unwrap().user_id(), "Zoë");
    }

    #[test]
    fn bad_headers_are_refused() {
        for (bytes, reason) in [
            (&b""[..], "invalid_bridge_header"),
            (b"null", "invalid_bridge_header"),
            (b"[]", "invalid_bridge_header"),
            (b"{\"userId\":\"u\"", "invalid_bridge_header"),
            (b"{\"userId\":7}", "invalid_bridge_header"),
            (
                b"{\"userId\":\"u\",\"sessionId\":1}",
                "invalid_bridge_header",
            ),
            (
                b"{\"userId\":\"u\",\"organizationPermissions\":\"a\"}",
                "invalid_bridge_header",
            ),
            (
                b"{\"userId\":\"u\",\"workspacePermissions\":[1]}",
                "invalid_bridge_header",
            ),
            (
                b"{\"userId\":\"u\",\"userId\":\"admin\"}",
                "invalid_bridge_header",
            ),
            (
                b"{\"userId\":\"u\",\"tokenType\":\"api_key\"}",
                "invalid_bridge_header",
            ),
            (b"{\"userId\":null}", "missing_subject"),
            (b"{\"userId\":\"\"}", "missing_subject"),
            (b"{}", "missing_subject"),
            (b"{\"userId\":\"u\",\"tokenType\":null}", "missing_subject"),
        ] {
            let error = BridgedAuth::from_bytes(bytes).unwrap_err();
            assert_eq!(error.reason(), reason, "{}", String::from_utf8_lossy(bytes));
            assert_eq!(error.rejection().status(), 401);
        }
        let mut headers = HeaderMap::new();
        assert_eq!(from_headers(&headers), Err(BridgeError::Missing));
        headers.append(HEADER, HeaderValue::from_static(r#"{"userId":"a"}"#));
        headers.append(HEADER, HeaderValue::from_static(r#"{"userId":"b"}"#));
        assert_eq!(from_headers(&headers), Err(BridgeError::Several));
    }

    #[test]
    fn insert_replaces_and_remove_strips() {
        let mut req = http::Request::new(());
        req.headers_mut()
            .append(HEADER, HeaderValue::from_static(r#"{"userId":"forged"}"#));
        req.headers_mut()
            .append(HEADER, HeaderValue::from_static(r#"{"userId":"forged2"}"#));
        insert_header(&mut req, &auth("real", None, None, &[], &[]));
        assert_eq!(from_request(&req).unwrap().user_id(), "real");
        assert!(remove_header(&mut req));
        assert!(!remove_header(&mut req));
        assert_eq!(from_request(&req), Err(BridgeError::Missing));
    }

    #[test]
    fn requirements_apply_to_bridged_identities() {
        let identity = BridgedAuth::from_auth(&auth("u", None, Some("org_1"), &["a"], &["b"]));
        assert!(identity.check(&Requirement::new().permission("b")).is_ok());
        assert!(identity.check(&Requirement::new().all(["a", "b"])).is_ok());
        assert_eq!(
            identity.check(&Requirement::new().organization("org_2")),
            Err(Denial::OrganizationMismatch)
        );
        assert!(identity.check(&Requirement::new().permission("c")).is_err());
    }
}
