//! Session tokens: reading the `Authorization` header and verifying the JWT strictly.
//!
//! jsonwebtoken does the cryptography (`crypto::verify` with the aws-lc-rs backend) and
//! builds the keys; parsing and claim checks are done here because the rules are stricter
//! than its `decode` (duplicate names refused, `exp` required, strict shapes) and because
//! time must come from the configured [`crate::Clock`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use jsonwebtoken::Algorithm;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::config::ConfigError;
use crate::keys::{KeyFetchError, VerifyingKey, parse_asymmetric_alg};
use crate::rejection::Rejection;

/// Tokens longer than this are refused before any work is done.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Why a request is not authenticated. Each variant maps to exactly one rejection
/// ([`AuthError::rejection`]); the `Display` text carries details for logs only.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("no Authorization header")]
    MissingToken,
    /// The header is not `Bearer <token>` (other scheme, empty token, several headers).
    #[error("the Authorization header is not `Bearer <token>`: {0}")]
    InvalidAuthorizationHeader(&'static str),
    /// The token is not a well-formed compact JWS with JSON header and claims.
    #[error("malformed token: {0}")]
    MalformedToken(&'static str),
    /// The header names an algorithm that is never accepted (`none`, `HS*`, unknown).
    #[error("token algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The token has no `kid` and more than one key could verify it.
    #[error("the token has no `kid` and several keys are published")]
    MissingKeyId,
    /// No key with the token's `kid` (after a refresh, if one was allowed).
    #[error("no key matches the token's `kid`")]
    UnknownKey,
    /// The header's `alg` does not fit the selected key.
    #[error("the token's `alg` does not match the key")]
    AlgorithmMismatch,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    InvalidSignature,
    /// `now >= exp + leeway`.
    #[error("the token has expired")]
    TokenExpired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    TokenNotYetValid,
    /// `iss` is missing or differs from the configured issuer.
    #[error("the token's issuer is not the configured one")]
    InvalidIssuer,
    /// No non-empty string `sub`: not a signed-in user.
    #[error("the token has no subject")]
    MissingSubject,
    /// A claim that carries meaning has the wrong shape.
    #[error("invalid claim: {0}")]
    InvalidClaims(&'static str),
    /// No keys could be obtained.
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(#[from] KeyFetchError),
    /// The configuration cannot verify session tokens.
    #[error(transparent)]
    Misconfigured(#[from] ConfigError),
}

impl AuthError {
    /// The stable snake_case reason code sent in the rejection body.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing_token",
            AuthError::InvalidAuthorizationHeader(_) => "invalid_authorization_header",
            AuthError::MalformedToken(_) => "malformed_token",
            AuthError::UnsupportedAlgorithm => "unsupported_algorithm",
            AuthError::MissingKeyId => "missing_key_id",
            AuthError::UnknownKey => "unknown_key",
            AuthError::AlgorithmMismatch => "algorithm_mismatch",
            AuthError::InvalidSignature => "invalid_signature",
            AuthError::TokenExpired => "token_expired",
            AuthError::TokenNotYetValid => "token_not_yet_valid",
            AuthError::InvalidIssuer => "invalid_issuer",
            AuthError::MissingSubject => "missing_subject",
            AuthError::InvalidClaims(_) => "invalid_claims",
            AuthError::KeysUnavailable(error) => error.reason(),
            AuthError::Misconfigured(error) => error.reason(),
        }
    }

    /// The rejection for this error: the one place session errors become HTTP answers.
    pub fn rejection(&self) -> Rejection {
        let reason = self.reason();
        match self {
            AuthError::MissingToken => Rejection::unauthenticated(
                reason,
                "Sign in: this request carries no session token.",
            ),
            AuthError::InvalidAuthorizationHeader(_) => Rejection::unauthenticated(
                reason,
                "The Authorization header must be `Bearer <session token>`.",
            ),
            AuthError::MalformedToken(_) => {
                Rejection::unauthenticated(reason, "The session token is malformed.")
            }
            AuthError::UnsupportedAlgorithm => Rejection::unauthenticated(
                reason,
                "The session token's signing algorithm is not accepted.",
            ),
            AuthError::MissingKeyId => Rejection::unauthenticated(
                reason,
                "The session token does not name its signing key.",
            ),
            AuthError::UnknownKey => Rejection::unauthenticated(
                reason,
                "The session token was signed with an unknown key.",
            ),
            AuthError::AlgorithmMismatch => Rejection::unauthenticated(
                reason,
                "The session token's algorithm does not match its key.",
            ),
            AuthError::InvalidSignature => {
                Rejection::unauthenticated(reason, "The session token's signature is invalid.")
            }
            AuthError::TokenExpired => {
                Rejection::unauthenticated(reason, "The session token has expired.")
            }
            AuthError::TokenNotYetValid => {
                Rejection::unauthenticated(reason, "The session token is not valid yet.")
            }
            AuthError::InvalidIssuer => Rejection::unauthenticated(
                reason,
                "The session token was issued for another deployment.",
            ),
            AuthError::MissingSubject => {
                Rejection::unauthenticated(reason, "The session token does not identify a user.")
            }
            AuthError::InvalidClaims(_) => {
                Rejection::unauthenticated(reason, "The session token's claims are malformed.")
            }
            AuthError::KeysUnavailable(_) => Rejection::unavailable(
                reason,
                "Session tokens cannot be verified right now; try again shortly.",
            ),
            AuthError::Misconfigured(error) => Rejection::misconfigured(error.reason()),
        }
    }
}

/// Extracts the bearer token from the `Authorization` header (scheme matched
/// case-insensitively, RFC 7235). Exactly one header is accepted.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::InvalidAuthorizationHeader(
            "several Authorization headers",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthError::InvalidAuthorizationHeader("not visible ASCII"))?
        .trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::InvalidAuthorizationHeader(
            "the scheme is not Bearer",
        ));
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(AuthError::InvalidAuthorizationHeader("empty token"));
    }
    if token.contains([' ', '\t']) {
        return Err(AuthError::InvalidAuthorizationHeader(
            "the token contains white space",
        ));
    }
    Ok(token)
}

/// Strict base64url: no padding, no stray characters, no non-zero trailing bits.
pub(crate) fn b64url_decode(segment: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(segment)
}

/// A compact JWS split and its header checked; the signature is not verified yet.
pub(crate) struct UnverifiedToken<'t> {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    signing_input: &'t str,
    payload: &'t str,
    signature: &'t str,
}

impl<'t> UnverifiedToken<'t> {
    /// Splits the token and parses its header.
    pub(crate) fn parse(token: &'t str) -> Result<Self, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::MalformedToken("token too long"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::MalformedToken(
                "not three dot-separated segments",
            ));
        };
        let signing_input = &token[..header.len() + 1 + payload.len()];
        let header = b64url_decode(header)
            .map_err(|_| AuthError::MalformedToken("header is not base64url"))?;
        let header = parse_object(&header)
            .map_err(|_| AuthError::MalformedToken("header is not a JSON object"))?;
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => alg,
            _ => return Err(AuthError::MalformedToken("header has no string `alg`")),
        };
        let alg = parse_asymmetric_alg(alg).ok_or(AuthError::UnsupportedAlgorithm)?;
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(AuthError::MalformedToken("header `kid` is not a string")),
        };
        if header.contains_key("crit") {
            return Err(AuthError::MalformedToken("header has `crit` extensions"));
        }
        if signature.is_empty() {
            return Err(AuthError::MalformedToken("empty signature"));
        }
        Ok(UnverifiedToken {
            alg,
            kid,
            signing_input,
            payload,
            signature,
        })
    }

    /// Verifies the signature with `key`, after checking that the key accepts the algorithm.
    pub(crate) fn verify(&self, key: &VerifyingKey) -> Result<(), AuthError> {
        if !key.accepts(self.alg) {
            return Err(AuthError::AlgorithmMismatch);
        }
        // Strictness of the signature segment is checked here, before the crypto.
        b64url_decode(self.signature)
            .map_err(|_| AuthError::MalformedToken("signature is not base64url"))?;
        match jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            key.decoding_key(),
            self.alg,
        ) {
            Ok(true) => Ok(()),
            Ok(false) => Err(AuthError::InvalidSignature),
            Err(error) => {
                tracing::debug!(target: "wacht", %error, "signature check failed");
                Err(AuthError::InvalidSignature)
            }
        }
    }

    /// Parses and checks the claims. Call only after [`UnverifiedToken::verify`].
    pub(crate) fn claims(
        &self,
        issuer: &str,
        now: i64,
        leeway: u64,
    ) -> Result<VerifiedClaims, AuthError> {
        let payload = b64url_decode(self.payload)
            .map_err(|_| AuthError::MalformedToken("payload is not base64url"))?;
        let claims = parse_object(&payload)
            .map_err(|_| AuthError::MalformedToken("payload is not a JSON object"))?;
        VerifiedClaims::check(claims, issuer, now, leeway)
    }
}

/// Claims of a verified, currently valid session token.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedClaims {
    pub(crate) user_id: String,
    pub(crate) session_id: Option<String>,
    pub(crate) organization_id: Option<String>,
    pub(crate) workspace_id: Option<String>,
    pub(crate) organization_permissions: Vec<String>,
    pub(crate) workspace_permissions: Vec<String>,
    pub(crate) expires_at: i64,
    pub(crate) claims: Map<String, Value>,
}

impl VerifiedClaims {
    fn check(
        claims: Map<String, Value>,
        issuer: &str,
        now: i64,
        leeway: u64,
    ) -> Result<Self, AuthError> {
        let leeway = i64::try_from(leeway).unwrap_or(i64::MAX);
        let exp = match claims.get("exp") {
            Some(value) => {
                numeric_date(value).ok_or(AuthError::InvalidClaims("`exp` is not a number"))?
            }
            None => return Err(AuthError::InvalidClaims("`exp` is missing")),
        };
        if now >= exp.saturating_add(leeway) {
            return Err(AuthError::TokenExpired);
        }
        if let Some(value) = claims.get("nbf") {
            let nbf =
                numeric_date(value).ok_or(AuthError::InvalidClaims("`nbf` is not a number"))?;
            if now.saturating_add(leeway) < nbf {
                return Err(AuthError::TokenNotYetValid);
            }
        }
        if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
            return Err(AuthError::InvalidIssuer);
        }
        let user_id = match claims.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(AuthError::MissingSubject);
            }
            Some(_) => return Err(AuthError::InvalidClaims("`sub` is not a string")),
        };
        let session_id = match optional_string(&claims, "sid")? {
            Some(sid) => Some(sid),
            None => optional_string(&claims, "sess")?,
        };
        let organization_id = optional_string(&claims, "organization")?;
        let workspace_id = optional_string(&claims, "workspace")?;
        let mut organization_permissions = string_list(claims.get("organization_permissions"))?;
        let mut workspace_permissions = string_list(claims.get("workspace_permissions"))?;
        match claims.get("permissions") {
            None | Some(Value::Null) => {}
            Some(Value::Object(nested)) => {
                for (name, _) in nested
                    .iter()
                    .filter(|(name, _)| *name != "organization" && *name != "workspace")
                {
                    tracing::debug!(target: "wacht", name, "unknown key in `permissions` claim ignored");
                }
                extend_unique(
                    &mut organization_permissions,
                    string_list(nested.get("organization"))?,
                );
                extend_unique(
                    &mut workspace_permissions,
                    string_list(nested.get("workspace"))?,
                );
            }
            Some(_) => return Err(AuthError::InvalidClaims("`permissions` is not an object")),
        }
        Ok(VerifiedClaims {
            user_id,
            session_id,
            organization_id,
            workspace_id,
            organization_permissions,
            workspace_permissions,
            expires_at: exp,
            claims,
        })
    }
}

fn extend_unique(into: &mut Vec<String>, more: Vec<String>) {
    for item in more {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

/// A NumericDate: an integer, or a finite number rounded down.
fn numeric_date(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            // Saturating float-to-int conversion: out-of-range values clamp.
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.floor() as i64)
        }),
        _ => None,
    }
}

fn optional_string(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, AuthError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(AuthError::InvalidClaims(match name {
            "sid" => "`sid` is not a string",
            "sess" => "`sess` is not a string",
            "organization" => "`organization` is not a string",
            _ => "`workspace` is not a string",
        })),
    }
}

fn string_list(value: Option<&Value>) -> Result<Vec<String>, AuthError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(AuthError::InvalidClaims("a permission is not a string")),
            })
            .collect(),
        Some(_) => Err(AuthError::InvalidClaims(
            "a permission list is not an array",
        )),
    }
}

/// Parses a JSON object, refusing duplicate member names at any depth.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, serde_json::Error> {
    match serde_json::from_slice::<Unique>(bytes)?.0 {
        Value::Object(map) => Ok(map),
        _ => Err(de::Error::custom("not an object")),
    }
}

/// A JSON value whose objects have no duplicate member names.
struct Unique(Value);

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Unique, E> {
        Ok(Unique(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Unique, E> {
        Ok(Unique(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Unique, E> {
        Ok(Unique(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Unique, E> {
        Ok(Unique(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Unique, E> {
        Ok(Unique(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Unique, E> {
        Ok(Unique(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Unique(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Unique(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(de::Error::custom("duplicate member name"));
            }
            object.insert(key, value);
        }
        Ok(Unique(Value::Object(object)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(http::header::AUTHORIZATION, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_strict() {
        assert_eq!(bearer_token(&headers(&["Bearer abc"])).unwrap(), "abc");
        assert_eq!(bearer_token(&headers(&["bEaReR   abc"])).unwrap(), "abc");
        assert!(matches!(
            bearer_token(&headers(&[])),
            Err(AuthError::MissingToken)
        ));
        for bad in [
            &["Bearer"][..],
            &["Bearer "],
            &["Basic abc"],
            &["Bearer a b"],
            &["Bearer a", "Bearer b"],
        ] {
            assert!(
                matches!(
                    bearer_token(&headers(bad)),
                    Err(AuthError::InvalidAuthorizationHeader(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn duplicate_names_are_refused_at_any_depth() {
        assert!(parse_object(br#"{"a":1,"b":2}"#).is_ok());
        assert!(parse_object(br#"{"a":1,"a":2}"#).is_err());
        assert!(parse_object(br#"{"p":{"x":[1],"x":[2]}}"#).is_err());
        assert!(parse_object(br#"[1]"#).is_err());
    }

    #[test]
    fn base64url_is_strict() {
        assert!(b64url_decode("YWJj").is_ok());
        assert!(b64url_decode("YWI=").is_err());
        assert!(b64url_decode("YW+j").is_err());
        assert!(b64url_decode("YWJ").is_err() || b64url_decode("YWI").is_ok());
        assert!(
            b64url_decode("YWJ").is_err(),
            "non-zero trailing bits must be refused"
        );
    }

    fn check(claims: Value, now: i64) -> Result<VerifiedClaims, AuthError> {
        let Value::Object(map) = claims else { panic!() };
        VerifiedClaims::check(map, "https://iss", now, 0)
    }

    #[test]
    fn claim_rules() {
        let base = json!({"iss": "https://iss", "sub": "u1", "exp": 100});
        assert!(check(base.clone(), 99).is_ok());
        assert!(matches!(
            check(base.clone(), 100),
            Err(AuthError::TokenExpired)
        ));
        assert!(matches!(
            check(json!({"iss": "https://iss", "sub": "u1"}), 0),
            Err(AuthError::InvalidClaims(_))
        ));
        assert!(matches!(
            check(json!({"iss": "https://iss", "sub": "u1", "exp": "100"}), 0),
            Err(AuthError::InvalidClaims(_))
        ));
        assert!(matches!(
            check(json!({"iss": "https://other", "sub": "u1", "exp": 100}), 0),
            Err(AuthError::InvalidIssuer)
        ));
        assert!(matches!(
            check(json!({"iss": "https://iss", "sub": "", "exp": 100}), 0),
            Err(AuthError::MissingSubject)
        ));
        assert!(matches!(
            check(json!({"iss": "https://iss", "sub": 5, "exp": 100}), 0),
            Err(AuthError::InvalidClaims(_))
        ));
        assert!(matches!(
            check(
                json!({"iss": "https://iss", "sub": "u", "exp": 100, "nbf": 50}),
                49
            ),
            Err(AuthError::TokenNotYetValid)
        ));
        assert!(matches!(
            check(
                json!({"iss": "https://iss", "sub": "u", "exp": 100, "permissions": "user:read"}),
                0
            ),
            Err(AuthError::InvalidClaims(_))
        ));
        assert!(matches!(
            check(
                json!({"iss": "https://iss", "sub": "u", "exp": 100, "organization_permissions": "user:read"}),
                0
            ),
            Err(AuthError::InvalidClaims(_))
        ));
        let both = check(
            json!({"iss": "https://iss", "sub": "u", "exp": 100, "sess": "s1",
                   "organization_permissions": ["a"], "permissions": {"organization": ["a", "b"], "workspace": ["c"]}}),
            0,
        )
        .unwrap();
        assert_eq!(both.organization_permissions, ["a", "b"]);
        assert_eq!(both.workspace_permissions, ["c"]);
        assert_eq!(both.session_id.as_deref(), Some("s1"));
    }
}
