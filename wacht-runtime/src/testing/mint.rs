//! Minting session tokens: [`TokenBuilder`].

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use serde_json::{Map, Value};

use super::keys::{TestKey, base64url, signing_input};

/// Lifetime of a minted token unless [`TokenBuilder::expires_at`] says otherwise.
const DEFAULT_LIFETIME_SECS: i64 = 3600;

/// Builds a session token as the emulator's frontend API would issue it, with any claims.
///
/// Made by [`LocalWacht::token`](super::LocalWacht::token). Defaults:
///
/// - header `{"alg": <key's alg>, "typ": "JWT", "kid": <key's kid>}`, the key being the
///   emulator's current key;
/// - claims `iss` = the emulator's URL, `sub` = `"user_test"`, `sid` = `"sess_test"`,
///   `iat` = now, `exp` = now + 3600, no `nbf`; "now" is the system clock in seconds unless
///   [`TokenBuilder::now`] sets it.
///
/// Every setter replaces what was there; [`TokenBuilder::claim`] and
/// [`TokenBuilder::header`] can set or override any field, with any JSON value.
/// The finishers ([`sign`](TokenBuilder::sign), [`sign_hs256`](TokenBuilder::sign_hs256),
/// [`unsigned`](TokenBuilder::unsigned)) borrow the builder, so one builder can mint several
/// tokens.
///
/// ```
/// use wacht_runtime::testing::LocalWacht;
///
/// let wacht = LocalWacht::start()?;
/// let token = wacht
///     .token()
///     .subject("user_42")
///     .organization("org_1")
///     .organization_permissions(["user:read"])
///     .sign();
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a token builder does nothing until `sign` (or another finisher) is called"]
pub struct TokenBuilder {
    issuer: String,
    key: TestKey,
    now: Option<i64>,
    /// Claim overrides: `Some` sets, `None` removes.
    claims: BTreeMap<String, Option<Value>>,
    /// Header overrides: `Some` sets, `None` removes.
    header: BTreeMap<String, Option<Value>>,
}

impl TokenBuilder {
    /// A builder with the default header and claims, signing with `key`, issued by `issuer`.
    pub(super) fn new(issuer: String, key: TestKey) -> Self {
        Self {
            issuer,
            key,
            now: None,
            claims: BTreeMap::new(),
            header: BTreeMap::new(),
        }
    }

    /// Sets `sub`, the user id.
    pub fn subject(self, user_id: impl Into<String>) -> Self {
        self.claim("sub", Value::String(user_id.into()))
    }

    /// Sets `sid`, the session id.
    pub fn session(self, session_id: impl Into<String>) -> Self {
        self.claim("sid", Value::String(session_id.into()))
    }

    /// Sets `iss` (by default the emulator's URL, which a verifier requires).
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.claim("iss", Value::String(issuer.into()))
    }

    /// Sets or overrides any claim, with any JSON value (a string `exp`, a number `sub`, …).
    ///
    /// ```
    /// use serde_json::json;
    /// use wacht_runtime::testing::LocalWacht;
    ///
    /// let wacht = LocalWacht::start()?;
    /// let builder = wacht.token().claim("metadata", json!({"plan": "pro"})).claim("sub", json!(42));
    /// assert_eq!(builder.claims_json()["sub"], 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn claim(mut self, name: impl Into<String>, value: Value) -> Self {
        self.claims.insert(name.into(), Some(value));
        self
    }

    /// Removes a claim, default or not (`exp`, `sub`, `iss`, …).
    pub fn remove_claim(mut self, name: impl Into<String>) -> Self {
        self.claims.insert(name.into(), None);
        self
    }

    /// Sets the clock (unix seconds) the defaults `iat` and `exp` are computed from.
    pub fn now(mut self, unix_seconds: i64) -> Self {
        self.now = Some(unix_seconds);
        self
    }

    /// Sets `exp` (unix seconds).
    pub fn expires_at(self, unix_seconds: i64) -> Self {
        self.claim("exp", Value::from(unix_seconds))
    }

    /// Sets `nbf` (unix seconds); absent by default.
    pub fn not_before(self, unix_seconds: i64) -> Self {
        self.claim("nbf", Value::from(unix_seconds))
    }

    /// Sets `iat` (unix seconds).
    pub fn issued_at(self, unix_seconds: i64) -> Self {
        self.claim("iat", Value::from(unix_seconds))
    }

    /// Sets `organization`, the active organization id.
    pub fn organization(self, organization_id: impl Into<String>) -> Self {
        self.claim("organization", Value::String(organization_id.into()))
    }

    /// Sets `workspace`, the active workspace id.
    pub fn workspace(self, workspace_id: impl Into<String>) -> Self {
        self.claim("workspace", Value::String(workspace_id.into()))
    }

    /// Sets `organization_permissions` (the flat shape).
    pub fn organization_permissions<I, S>(self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.claim("organization_permissions", string_array(permissions))
    }

    /// Sets `workspace_permissions` (the flat shape).
    pub fn workspace_permissions<I, S>(self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.claim("workspace_permissions", string_array(permissions))
    }

    /// Sets `permissions` in the nested shape
    /// `{"organization": [..], "workspace": [..]}`.
    ///
    /// ```
    /// use serde_json::json;
    /// use wacht_runtime::testing::LocalWacht;
    ///
    /// let wacht = LocalWacht::start()?;
    /// let claims = wacht.token().permissions_object(["org:admin"], ["ws:read"]).claims_json();
    /// assert_eq!(
    ///     claims["permissions"],
    ///     json!({"organization": ["org:admin"], "workspace": ["ws:read"]})
    /// );
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn permissions_object<O, OS, W, WS>(self, organization: O, workspace: W) -> Self
    where
        O: IntoIterator<Item = OS>,
        OS: Into<String>,
        W: IntoIterator<Item = WS>,
        WS: Into<String>,
    {
        let mut permissions = Map::new();
        permissions.insert("organization".into(), string_array(organization));
        permissions.insert("workspace".into(), string_array(workspace));
        self.claim("permissions", Value::Object(permissions))
    }

    /// Sets or overrides any header field (`alg`, `kid`, `typ`, `crit`, …). The signature is
    /// still made with the builder's key, whatever `alg` says.
    pub fn header(mut self, name: impl Into<String>, value: Value) -> Self {
        self.header.insert(name.into(), Some(value));
        self
    }

    /// Removes a header field.
    pub fn remove_header(mut self, name: impl Into<String>) -> Self {
        self.header.insert(name.into(), None);
        self
    }

    /// Leaves `kid` out of the header.
    pub fn without_kid(self) -> Self {
        self.remove_header("kid")
    }

    /// Signs with `key` instead of the emulator's current key; its `alg` and `kid` go in the
    /// header unless [`TokenBuilder::header`] overrides them.
    pub fn key(mut self, key: &TestKey) -> Self {
        self.key = key.clone();
        self
    }

    /// The header [`TokenBuilder::sign`] would encode.
    #[must_use]
    pub fn header_json(&self) -> Value {
        self.header_with_alg(self.key.algorithm().jws_name())
    }

    /// The claims every finisher would encode.
    #[must_use]
    pub fn claims_json(&self) -> Value {
        let now = self.now.unwrap_or_else(system_now);
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::String(self.issuer.clone()));
        claims.insert("sub".into(), Value::from("user_test"));
        claims.insert("sid".into(), Value::from("sess_test"));
        claims.insert("iat".into(), Value::from(now));
        claims.insert(
            "exp".into(),
            Value::from(now.saturating_add(DEFAULT_LIFETIME_SECS)),
        );
        apply(&mut claims, &self.claims);
        Value::Object(claims)
    }

    /// Mints the token: a compact JWS signed with the builder's key.
    ///
    /// # Panics
    ///
    /// When the cryptography library fails to sign (a test kit panic).
    #[must_use]
    pub fn sign(&self) -> String {
        self.key
            .sign_token(&self.header_json(), &self.claims_json())
    }

    /// Mints the token with header `alg: "HS256"` and an HMAC-SHA256 signature keyed with
    /// `secret` (for instance the public key's PEM or JWK bytes, the classic algorithm
    /// confusion attack, which a verifier must refuse). `kid` stays the key's.
    ///
    /// ```
    /// use wacht_runtime::testing::LocalWacht;
    ///
    /// let wacht = LocalWacht::start()?;
    /// let pem = wacht.current_key().public_key_pem();
    /// let token = wacht.token().sign_hs256(pem.as_bytes());
    /// assert_eq!(token.split('.').count(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn sign_hs256(&self, secret: &[u8]) -> String {
        let input = self.signing_input("HS256");
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
        format!("{input}.{}", base64url(tag.as_ref()))
    }

    /// Mints an unsecured token: header `alg: "none"` and an empty signature segment
    /// (`header.claims.`).
    #[must_use]
    pub fn unsigned(&self) -> String {
        format!("{}.", self.signing_input("none"))
    }

    fn signing_input(&self, alg: &str) -> String {
        let header = self.header_with_alg(alg).to_string();
        let claims = self.claims_json().to_string();
        signing_input(header.as_bytes(), claims.as_bytes())
    }

    fn header_with_alg(&self, alg: &str) -> Value {
        let mut header = Map::new();
        header.insert("alg".into(), Value::from(alg));
        header.insert("typ".into(), Value::from("JWT"));
        header.insert("kid".into(), Value::from(self.key.kid()));
        apply(&mut header, &self.header);
        Value::Object(header)
    }
}

fn apply(target: &mut Map<String, Value>, overrides: &BTreeMap<String, Option<Value>>) {
    for (name, value) in overrides {
        match value {
            Some(value) => {
                target.insert(name.clone(), value.clone());
            }
            None => {
                target.remove(name);
            }
        }
    }
}

fn string_array<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Value::Array(
        items
            .into_iter()
            .map(|item| Value::String(item.into()))
            .collect(),
    )
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
