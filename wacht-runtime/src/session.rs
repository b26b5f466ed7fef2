//! Session tokens: reading the `Authorization` header and verifying the JWT strictly.
//!
//! jsonwebtoken does the cryptography (`crypto::verify` with the aws-lc-rs backend) and
//! builds the keys; parsing and claim checks are done here because the rules are stricter
//! than its `decode` (duplicate names refused, `exp` required, strict shapes) and because
//! time must come from the configured [`crate::Clock`].

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use crate::config::ConfigError;
use crate::head::BearerError;
use crate::jwk::{VerifyingKey, parse_asymmetric_alg};
use std::sync::Arc;

use crate::keys::{KeyFetchError, KeyMiss, KeySet, Unavailable};
use crate::rejection::{Challenge, Rejection};
use crate::strict::{b64url_decode, parse_object};

/// Tokens longer than this are refused before any work is done (no key fetch, no parsing).
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

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
    #[error("signing keys unavailable: {source}")]
    KeysUnavailable {
        /// Why the keys could not be fetched.
        source: KeyFetchError,
        /// Seconds until the key endpoint is tried again (sent as `Retry-After`).
        retry_after_secs: u64,
    },
    /// The configuration cannot verify session tokens.
    #[error(transparent)]
    Misconfigured(#[from] ConfigError),
    /// A cookie-authenticated request with an unsafe method from another origin (browser
    /// sessions): refused before any exchange.
    #[error("a cookie-authenticated write from another origin")]
    CrossSiteRequest,
    /// The frontend API's token exchange gave no answer to decide on (browser sessions):
    /// down, slow, redirecting, oversize, nonsense, or its rate limit.
    #[error("the session exchange failed ({reason})")]
    SessionExchangeUnavailable {
        /// `session_exchange_unavailable`, `session_exchange_timeout` or
        /// `session_exchange_rate_limited`.
        reason: &'static str,
        /// Seconds until a retry makes sense (sent as `Retry-After`).
        retry_after_secs: u64,
    },
}

impl AuthError {
    /// The stable snake_case reason code sent in the rejection body.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing_token",
            AuthError::InvalidAuthorizationHeader(_) => "invalid_authorization_header",
            AuthError::MalformedToken(_) => "malformed_token",
            AuthError::UnsupportedAlgorithm => "unsupported_algorithm",
            AuthError::UnknownKey => "unknown_key",
            AuthError::AlgorithmMismatch => "algorithm_mismatch",
            AuthError::InvalidSignature => "invalid_signature",
            AuthError::TokenExpired => "token_expired",
            AuthError::TokenNotYetValid => "token_not_yet_valid",
            AuthError::InvalidIssuer => "invalid_issuer",
            AuthError::MissingSubject => "missing_subject",
            AuthError::InvalidClaims(_) => "invalid_claims",
            AuthError::KeysUnavailable { source, .. } => source.reason(),
            AuthError::Misconfigured(error) => error.reason(),
            AuthError::CrossSiteRequest => "cross_site_request",
            AuthError::SessionExchangeUnavailable { reason, .. } => reason,
        }
    }

    /// The rejection for this error: the one place session errors become HTTP answers.
    pub fn rejection(&self) -> Rejection {
        let reason = self.reason();
        match self {
            AuthError::MissingToken => Rejection::unauthenticated(
                reason,
                "Sign in: this request carries no session token.",
            )
            .with_challenge(Challenge::Bare),
            AuthError::InvalidAuthorizationHeader(_) => Rejection::unauthenticated(
                reason,
                "The Authorization header must be `Bearer <session token>`.",
            )
            .with_challenge(Challenge::InvalidRequest),
            AuthError::MalformedToken(_) => {
                Rejection::unauthenticated(reason, "The session token is malformed.")
            }
            AuthError::UnsupportedAlgorithm => Rejection::unauthenticated(
                reason,
                "The session token's signing algorithm is not accepted.",
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
            AuthError::KeysUnavailable {
                retry_after_secs, ..
            } => Rejection::unavailable(
                reason,
                "Session tokens cannot be verified right now; try again shortly.",
            )
            .with_retry_after((*retry_after_secs).max(1)),
            AuthError::Misconfigured(error) => Rejection::misconfigured(error.reason()),
            AuthError::CrossSiteRequest => Rejection::forbidden(
                reason,
                "This request must come from this site: its cookies are not accepted from another origin.",
            ),
            AuthError::SessionExchangeUnavailable {
                retry_after_secs, ..
            } => Rejection::unavailable(
                reason,
                "Your session cannot be checked right now; try again shortly.",
            )
            .with_retry_after((*retry_after_secs).max(1)),
        }
    }
}

impl From<BearerError> for AuthError {
    fn from(error: BearerError) -> Self {
        match error {
            BearerError::Missing => AuthError::MissingToken,
            BearerError::Invalid(why) => AuthError::InvalidAuthorizationHeader(why),
        }
    }
}

impl From<Unavailable> for AuthError {
    fn from(unavailable: Unavailable) -> Self {
        // Rounded up: a client retrying after `Retry-After` seconds finds the retry open.
        let retry_after_secs =
            unavailable.retry_in.as_secs() + u64::from(unavailable.retry_in.subsec_nanos() > 0);
        AuthError::KeysUnavailable {
            source: unavailable.error,
            retry_after_secs,
        }
    }
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
        // The alphabet only (decoding waits until the key is known): garbage costs nothing.
        let base64url = |segment: &str| {
            segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !base64url(payload) || !base64url(signature) {
            return Err(AuthError::MalformedToken(
                "payload or signature is not base64url",
            ));
        }
        Ok(UnverifiedToken {
            alg,
            kid,
            signing_input,
            payload,
            signature,
        })
    }

    /// The token's `iat` as written, before the signature is checked: only for deciding how
    /// to refuse (never to accept). `None` when absent or not a number in range.
    pub(crate) fn unverified_iat(&self) -> Option<i64> {
        let payload = b64url_decode(self.payload).ok()?;
        let claims = parse_object(&payload).ok()?;
        numeric_date(&claims, "iat").ok().flatten()
    }

    /// Verifies the signature with `key`, after checking that the key accepts the algorithm.
    /// On wasm32 with WebCrypto, `crypto.subtle.verify` checks it (see `webcrypto`); else
    /// jsonwebtoken's backend (aws-lc-rs natively, RustCrypto on wasm32).
    pub(crate) async fn verify(&self, key: &VerifyingKey) -> Result<(), AuthError> {
        if !key.accepts(self.alg) {
            return Err(AuthError::AlgorithmMismatch);
        }
        // Strictness of the signature segment is checked here, before the crypto.
        let signature = b64url_decode(self.signature)
            .map_err(|_| AuthError::MalformedToken("signature is not base64url"))?;
        #[cfg(target_family = "wasm")]
        {
            let input = self.signing_input.as_bytes();
            let checked =
                crate::platform::send(crate::webcrypto::verify(key, self.alg, input, &signature));
            if let Some(valid) = checked.await {
                return if valid {
                    Ok(())
                } else {
                    Err(AuthError::InvalidSignature)
                };
            }
        }
        #[cfg(not(target_family = "wasm"))]
        let _ = signature;
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

/// The key among `set`'s candidates that verifies `token`'s signature: by `kid`, or for a
/// kid-less token each compatible key in turn.
pub(crate) async fn verify_with(
    token: &UnverifiedToken<'_>,
    set: &KeySet,
) -> Result<Arc<VerifyingKey>, AuthError> {
    let candidates =
        set.candidates(token.kid.as_deref(), token.alg)
            .map_err(|miss| match miss {
                KeyMiss::Unknown => AuthError::UnknownKey,
                KeyMiss::Incompatible => AuthError::AlgorithmMismatch,
            })?;
    for key in candidates {
        match token.verify(&key).await {
            Ok(()) => return Ok(key),
            Err(AuthError::InvalidSignature) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(AuthError::InvalidSignature)
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
        let exp =
            numeric_date(&claims, "exp")?.ok_or(AuthError::InvalidClaims("`exp` is missing"))?;
        let nbf = numeric_date(&claims, "nbf")?;
        // `iat` carries no rule of its own, but must be well-formed like the others.
        numeric_date(&claims, "iat")?;
        if now >= exp.saturating_add(leeway) {
            return Err(AuthError::TokenExpired);
        }
        if nbf.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
            return Err(AuthError::TokenNotYetValid);
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
        let nested = match claims.get("permissions") {
            None | Some(Value::Null) => None,
            Some(Value::Object(nested)) => {
                for (name, _) in nested
                    .iter()
                    .filter(|(name, _)| *name != "organization" && *name != "workspace")
                {
                    tracing::debug!(target: "wacht", name, "unknown key in `permissions` claim ignored");
                }
                Some(nested)
            }
            Some(_) => return Err(AuthError::InvalidClaims("`permissions` is not an object")),
        };
        // Per scope, as the reference reads them: the flat list when present (even empty),
        // else the nested one. Never merged. Both shapes are checked whichever is used: a
        // malformed permissions claim refuses the token.
        let scope = |flat: &str, nested_name: &str| {
            let nested = string_list(nested.and_then(|n| n.get(nested_name)))?;
            match claims.get(flat) {
                None | Some(Value::Null) => Ok(nested),
                Some(list) => string_list(Some(list)),
            }
        };
        let organization_permissions = scope("organization_permissions", "organization")?;
        let workspace_permissions = scope("workspace_permissions", "workspace")?;
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

/// The latest NumericDate accepted: 9999-12-31T23:59:59Z. Later values (1e308, 2^63, …)
/// are beyond any clock and are refused rather than saturated into "never expires".
const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// A NumericDate claim, when present: an integer, or a finite number rounded down, between
/// 0 and [`MAX_NUMERIC_DATE`]. Anything else is a malformed token.
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, AuthError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let in_range = |seconds: i64| (0..=MAX_NUMERIC_DATE).contains(&seconds);
    let seconds = match value {
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Some(i).filter(|i| in_range(*i)),
            (None, Some(f)) if f.is_finite() && (0.0..=MAX_NUMERIC_DATE as f64).contains(&f) => {
                // In range, so the conversion is exact after `floor`.
                Some(f.floor() as i64)
            }
            _ => None,
        },
        _ => None,
    };
    seconds
        .map(Some)
        .ok_or(AuthError::InvalidClaims(match name {
            "exp" => "`exp` is not a number in range",
            "nbf" => "`nbf` is not a number in range",
            _ => "`iat` is not a number in range",
        }))
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

#[cfg(test)]
#[path = "session_vectors.rs"]
mod vectors;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

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
        assert_eq!(both.organization_permissions, ["a"], "the flat list wins");
        assert_eq!(
            both.workspace_permissions,
            ["c"],
            "no flat list: the nested one"
        );
        assert_eq!(both.session_id.as_deref(), Some("s1"));
    }

    fn permissions(claims: Value) -> (Vec<String>, Vec<String>) {
        let mut base = json!({"iss": "https://iss", "sub": "u", "exp": 100});
        if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), claims) {
            base.extend(extra);
        }
        let verified = check(base, 0).unwrap();
        (
            verified.organization_permissions,
            verified.workspace_permissions,
        )
    }

    #[test]
    fn an_empty_flat_list_is_the_list_and_the_nested_one_is_not_read() {
        let (organization, workspace) = permissions(json!({
            "organization_permissions": [],
            "permissions": {"organization": ["user:read"], "workspace": ["ws:read"]},
        }));
        assert!(organization.is_empty(), "{organization:?}");
        assert_eq!(workspace, ["ws:read"]);
    }

    #[test]
    fn a_malformed_nested_list_refuses_the_token_even_when_the_flat_one_wins() {
        for nested in [json!({"organization": false}), json!({"workspace": [1]})] {
            let claims = json!({"iss": "https://iss", "sub": "u", "exp": 100,
                "organization_permissions": ["user:read"], "workspace_permissions": [],
                "permissions": nested});
            assert!(
                matches!(check(claims, 0), Err(AuthError::InvalidClaims(_))),
                "{nested}"
            );
        }
    }

    #[test]
    fn a_null_flat_list_counts_as_absent() {
        let (organization, _) = permissions(json!({
            "organization_permissions": null,
            "permissions": {"organization": ["user:read"]},
        }));
        assert_eq!(organization, ["user:read"]);
    }

    #[test]
    fn flat_and_nested_are_never_merged() {
        let (organization, workspace) = permissions(json!({
            "organization_permissions": ["a"],
            "workspace_permissions": ["w"],
            "permissions": {"organization": ["admin"], "workspace": ["owner"]},
        }));
        assert_eq!(
            (organization, workspace),
            (vec!["a".into()], vec!["w".into()])
        );
    }

    #[test]
    fn numeric_dates_out_of_any_clock_range_are_malformed() {
        for (name, value) in [
            ("exp", json!(1e308)),
            ("exp", json!(9_223_372_036_854_775_807_i64)),
            ("exp", json!(9_223_372_036_854_775_808_u64)),
            ("exp", json!(18_446_744_073_709_551_615_u64)),
            ("exp", json!(253_402_300_800_i64)),
            ("exp", json!(-1)),
            ("nbf", json!(1e308)),
            ("nbf", json!(-5.5)),
            ("iat", json!(2e19)),
        ] {
            let mut claims = json!({"iss": "https://iss", "sub": "u", "exp": 100});
            claims[name] = value.clone();
            assert!(
                matches!(check(claims, 0), Err(AuthError::InvalidClaims(_))),
                "{name} = {value}"
            );
        }
        let mut latest = json!({"iss": "https://iss", "sub": "u", "exp": 253_402_300_799_i64});
        assert!(check(latest.clone(), 0).is_ok());
        latest["exp"] = json!(150.9);
        assert_eq!(check(latest, 0).unwrap().expires_at, 150);
    }

    #[test]
    fn iat_must_be_a_number_when_present() {
        let mut claims = json!({"iss": "https://iss", "sub": "u", "exp": 100, "iat": "50"});
        assert!(matches!(
            check(claims.clone(), 0),
            Err(AuthError::InvalidClaims("`iat` is not a number in range"))
        ));
        claims["iat"] = json!(50);
        assert!(check(claims.clone(), 0).is_ok());
        claims["iat"] = json!(null);
        assert!(matches!(check(claims, 0), Err(AuthError::InvalidClaims(_))));
    }
}
