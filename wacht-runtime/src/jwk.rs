//! Public keys: JWKS documents and the PEM key parsed into keys that verify signatures, with
//! the algorithm each may verify pinned by its type.

use std::sync::atomic::{AtomicU64, Ordering};

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::strict::b64url_decode;

/// Why a JWKS document could not be read (its own words; no value from the document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JwksError(pub(crate) String);

/// Why a PEM key could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PemError(pub(crate) &'static str);

/// The family a key belongs to; it fixes which algorithms the key may verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    P256,
    P384,
    Rsa,
    Ed25519,
}

impl KeyKind {
    fn algorithms(self) -> &'static [Algorithm] {
        match self {
            KeyKind::P256 => &[Algorithm::ES256],
            KeyKind::P384 => &[Algorithm::ES384],
            KeyKind::Rsa => &[
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::PS384,
                Algorithm::PS512,
            ],
            KeyKind::Ed25519 => &[Algorithm::EdDSA],
        }
    }
}

/// Gives every parsed key an id unique in the process; a key that a refresh publishes again
/// keeps its id (see `KeyCache`), so tokens it verified stay cached.
static NEXT_KEY_ID: AtomicU64 = AtomicU64::new(1);

/// A parsed public key, ready to verify signatures.
pub(crate) struct VerifyingKey {
    id: u64,
    kid: Option<String>,
    kind: KeyKind,
    /// The key's own `alg`, when it declares one.
    alg: Option<Algorithm>,
    /// The public key material as published: recognises the same key across refreshes.
    /// For a JWK, its base64url members joined by `.` (`x.y`, `n.e`, `x`); for a PEM key,
    /// the PEM text.
    material: String,
    /// Whether `material` is a PEM text.
    pem: bool,
    decoding: DecodingKey,
}

impl VerifyingKey {
    fn new(
        kid: Option<String>,
        kind: KeyKind,
        alg: Option<Algorithm>,
        material: String,
        decoding: DecodingKey,
    ) -> Self {
        VerifyingKey {
            id: NEXT_KEY_ID.fetch_add(1, Ordering::Relaxed),
            kid,
            kind,
            alg,
            pem: material.starts_with("-----BEGIN"),
            material,
            decoding,
        }
    }

    /// The key's family.
    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    pub(crate) fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The key material as published (see the field).
    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    pub(crate) fn material(&self) -> &str {
        &self.material
    }

    /// The public JWK members (for WebCrypto's `importKey("jwk", …)`); `None` for a PEM key.
    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    pub(crate) fn jwk_members(&self) -> Option<Value> {
        if self.pem {
            return None;
        }
        let mut parts = self.material.split('.');
        let (first, second) = (parts.next()?, parts.next());
        Some(match (self.kind, second) {
            (KeyKind::P256, Some(y)) => {
                json!({"kty": "EC", "crv": "P-256", "x": first, "y": y})
            }
            (KeyKind::P384, Some(y)) => {
                json!({"kty": "EC", "crv": "P-384", "x": first, "y": y})
            }
            (KeyKind::Rsa, Some(e)) => json!({"kty": "RSA", "n": first, "e": e}),
            (KeyKind::Ed25519, None) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": first})
            }
            _ => return None,
        })
    }

    /// This key's process-unique id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether this key may verify a token whose header says `alg`: the algorithm must be
    /// implied by the key's type and equal the key's own `alg` when it has one.
    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        self.kind.algorithms().contains(&alg) && self.alg.is_none_or(|own| own == alg)
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    pub(crate) fn same_key(&self, other: &VerifyingKey) -> bool {
        self.kid == other.kid
            && self.kind == other.kind
            && self.alg == other.alg
            && self.material == other.material
    }
}

/// A JWKS document: `{"keys": [...]}`. Each key is read on its own (a key of an odd shape
/// is skipped, not fatal).
#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<Value>,
}

/// The members of a JWK this runtime reads. A member of the wrong type skips the key.
#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    key_ops: Option<Vec<Value>>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// Parses a JWKS document. Keys that are not signature keys (`use` other than `sig`,
/// `key_ops` without `verify`), symmetric keys and keys of unsupported types are skipped
/// (and logged); a document that is not `{"keys":[...]}` is an error.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<Vec<VerifyingKey>, JwksError> {
    let document: JwksDocument =
        serde_json::from_slice(body).map_err(|e| JwksError(crate::outbound::json_error(&e)))?;
    let mut parsed = Vec::with_capacity(document.keys.len());
    for (index, jwk) in document.keys.into_iter().enumerate() {
        let key = serde_json::from_value::<Jwk>(jwk)
            .map_err(|_| "a key member has the wrong type")
            .and_then(|jwk| parse_jwk(&jwk));
        match key {
            Ok(key) => parsed.push(key),
            Err(why) => tracing::debug!(target: "wacht", index, why, "JWKS key skipped"),
        }
    }
    Ok(parsed)
}

fn parse_jwk(jwk: &Jwk) -> Result<VerifyingKey, &'static str> {
    if jwk.usage.as_deref().is_some_and(|usage| usage != "sig") {
        return Err("`use` is not `sig`");
    }
    if let Some(ops) = &jwk.key_ops
        && !ops.iter().any(|op| op.as_str() == Some("verify"))
    {
        return Err("`key_ops` does not allow `verify`");
    }
    let alg = match jwk.alg.as_deref() {
        None => None,
        Some(name) => Some(parse_asymmetric_alg(name).ok_or("unsupported key `alg`")?),
    };
    let required = |member: &Option<String>| -> Result<String, &'static str> {
        member.clone().ok_or("a required key member is missing")
    };
    let (kind, material, decoding) = match required(&jwk.kty)?.as_str() {
        "EC" => {
            let kind = match required(&jwk.crv)?.as_str() {
                "P-256" => KeyKind::P256,
                "P-384" => KeyKind::P384,
                _ => return Err("unsupported EC curve"),
            };
            let (x, y) = (required(&jwk.x)?, required(&jwk.y)?);
            let expected = if kind == KeyKind::P256 { 32 } else { 48 };
            if decoded_len(&x)? != expected || decoded_len(&y)? != expected {
                return Err("EC coordinates have the wrong length");
            }
            let key = DecodingKey::from_ec_components(&x, &y).map_err(|_| "bad EC coordinates")?;
            (kind, format!("{x}.{y}"), key)
        }
        "RSA" => {
            let (n, e) = (required(&jwk.n)?, required(&jwk.e)?);
            decoded_len(&n)?;
            decoded_len(&e)?;
            let key = DecodingKey::from_rsa_components(&n, &e).map_err(|_| "bad RSA components")?;
            (KeyKind::Rsa, format!("{n}.{e}"), key)
        }
        "OKP" => {
            if required(&jwk.crv)? != "Ed25519" {
                return Err("unsupported OKP curve");
            }
            let x = required(&jwk.x)?;
            if decoded_len(&x)? != 32 {
                return Err("Ed25519 key has the wrong length");
            }
            let key = DecodingKey::from_ed_components(&x).map_err(|_| "bad Ed25519 key")?;
            (KeyKind::Ed25519, x, key)
        }
        "oct" => return Err("symmetric keys are never used"),
        _ => return Err("unsupported `kty`"),
    };
    if let Some(alg) = alg
        && !kind.algorithms().contains(&alg)
    {
        return Err("the key's `alg` does not fit its type");
    }
    Ok(VerifyingKey::new(
        jwk.kid.clone(),
        kind,
        alg,
        material,
        decoding,
    ))
}

fn decoded_len(b64: &str) -> Result<usize, &'static str> {
    b64url_decode(b64)
        .map(|bytes| bytes.len())
        .map_err(|_| "a key member is not base64url")
}

/// The asymmetric algorithms this runtime verifies. `none` and `HS*` are never among them.
pub(crate) fn parse_asymmetric_alg(name: &str) -> Option<Algorithm> {
    Some(match name {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Parses a PEM public key (`WACHT_PUBLIC_SIGNING_KEY`): EC P-256/P-384, RSA, or Ed25519.
pub(crate) fn parse_pem(pem: &str) -> Result<VerifyingKey, PemError> {
    let bytes = pem.trim().as_bytes();
    let material = pem.trim().to_owned();
    if let Ok(key) = DecodingKey::from_ec_pem(bytes) {
        let kind = match key.try_get_as_bytes().map(<[u8]>::len) {
            Ok(65) => KeyKind::P256,
            Ok(97) => KeyKind::P384,
            _ => return Err(PemError("unsupported EC curve")),
        };
        return Ok(VerifyingKey::new(None, kind, None, material, key));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(bytes) {
        return Ok(VerifyingKey::new(
            None,
            KeyKind::Ed25519,
            None,
            material,
            key,
        ));
    }
    if let Ok(key) = DecodingKey::from_rsa_pem(bytes) {
        return Ok(VerifyingKey::new(None, KeyKind::Rsa, None, material, key));
    }
    Err(PemError(
        "not a PEM-encoded EC (P-256/P-384), RSA or Ed25519 public key",
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    pub(crate) fn ec(extra: Value) -> Value {
        let mut key = json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y, "kid": "k1"});
        if let (Some(key), Some(extra)) = (key.as_object_mut(), extra.as_object()) {
            key.extend(extra.clone());
        }
        key
    }

    pub(crate) fn parse(keys: Vec<Value>) -> Vec<VerifyingKey> {
        parse_jwks(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn keys_that_must_not_verify_are_skipped() {
        let keys = parse(vec![
            ec(json!({})),
            ec(json!({"use": "enc", "kid": "enc"})),
            ec(json!({"key_ops": ["encrypt"], "kid": "ops"})),
            ec(json!({"alg": "RS256", "kid": "wrongalg"})),
            ec(json!({"crv": "P-384", "kid": "short"})),
            ec(json!({"x": 5, "kid": "numeric"})),
            json!({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"}),
            json!({"kty": "weird", "kid": "weird"}),
            json!("not an object"),
        ]);
        let kids: Vec<_> = keys.iter().map(|k| k.kid().unwrap_or("")).collect();
        assert_eq!(kids, ["k1"]);
    }

    #[test]
    fn algorithm_is_pinned_by_key_type_and_own_alg() {
        let keys = parse(vec![
            ec(json!({})),
            ec(json!({"alg": "ES256", "kid": "k2"})),
        ]);
        assert!(keys[0].accepts(Algorithm::ES256));
        assert!(!keys[0].accepts(Algorithm::ES384));
        assert!(!keys[0].accepts(Algorithm::RS256));
        assert!(!keys[0].accepts(Algorithm::HS256));
        assert!(keys[1].accepts(Algorithm::ES256));
    }

    #[test]
    fn documents_that_are_not_jwks_are_errors() {
        assert!(parse_jwks(b"<html>").is_err());
        assert!(parse_jwks(b"{\"keys\": 5}").is_err());
        assert!(parse_jwks(b"[]").is_err());
        assert_eq!(parse_jwks(b"{\"keys\": []}").map(|k| k.len()), Ok(0));
    }

    #[test]
    fn a_republished_key_is_the_same_key() {
        let first = parse(vec![ec(json!({}))]);
        let again = parse(vec![ec(json!({}))]);
        assert_ne!(first[0].id(), again[0].id());
        assert!(first[0].same_key(&again[0]));
        let renamed = parse(vec![ec(json!({"kid": "k9"}))]);
        assert!(!first[0].same_key(&renamed[0]));
    }
}
