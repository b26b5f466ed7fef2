//! Signed tokens against a published key set, each with the outcome it must have
//! (`testdata/session_vectors.json`, made by `testdata/make_session_vectors.mjs` with Node's
//! crypto). The cases run natively and on wasm32 (under Node), through the same parsing, key
//! choice, signature check and claim rules: one set of rules for every verifier.

// On wasm32 the same tests run under Node (wasm-bindgen-test-runner), once with WebCrypto and
// once with RustCrypto.
#[cfg(not(target_family = "wasm"))]
use tokio::test;
#[cfg(target_family = "wasm")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::sync::Arc;

use serde_json::Value;

use super::{AuthError, UnverifiedToken, verify_with};
use crate::jwk::parse_jwks;
use crate::keys::KeySet;

const VECTORS: &str = include_str!("testdata/session_vectors.json");

/// The user id, or the rejection reason.
async fn outcome(
    token: &str,
    set: &KeySet,
    issuer: &str,
    now: i64,
) -> Result<String, &'static str> {
    let check = async || -> Result<String, AuthError> {
        let unverified = UnverifiedToken::parse(token)?;
        verify_with(&unverified, set).await?;
        Ok(unverified.claims(issuer, now, 0)?.user_id)
    };
    check().await.map_err(|error| error.reason())
}

fn vectors() -> (Value, KeySet) {
    let vectors: Value = serde_json::from_str(VECTORS).expect("the vectors are JSON");
    let keys = parse_jwks(vectors["jwks"].to_string().as_bytes()).expect("the JWKS parses");
    assert_eq!(keys.len(), 5, "every published key is usable");
    let set = KeySet::new(keys.into_iter().map(Arc::new).collect(), 1);
    (vectors, set)
}

/// Every case's outcome, as failures (empty when all match).
async fn failures() -> Vec<String> {
    let (vectors, set) = vectors();
    let issuer = vectors["issuer"].as_str().expect("issuer");
    let now = vectors["now"].as_i64().expect("now");
    let cases = vectors["cases"].as_array().expect("cases");
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let token = case["token"].as_str().expect("token");
        let expected = case["expect"].as_str().expect("expect");
        let got = match outcome(token, &set, issuer, now).await {
            Ok(user) => {
                assert_eq!(user, "user_1", "{name}");
                "ok"
            }
            Err(reason) => reason,
        };
        if got != expected {
            failures.push(format!("{name}: expected {expected}, got {got}"));
        }
    }
    failures
}

#[test]
async fn every_vector_has_its_outcome() {
    let failures = failures().await;
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The same cases with RustCrypto (the fallback where WebCrypto is absent), and a check that
/// WebCrypto really answers for every published key (rather than falling back).
#[cfg(target_family = "wasm")]
#[test]
async fn every_vector_has_its_outcome_with_rust_crypto_too() {
    let (_, set) = vectors();
    use jsonwebtoken::Algorithm;
    for (kid, alg) in [
        ("k1", Algorithm::ES256),
        ("k2", Algorithm::ES256),
        ("p384", Algorithm::ES384),
        ("r1", Algorithm::RS256),
        ("ed", Algorithm::EdDSA),
    ] {
        let keys = set.candidates(Some(kid), alg).expect("a published key");
        let signature = [0; 64];
        let answer = crate::webcrypto::verify(&keys[0], alg, b"a.b", &signature).await;
        assert_eq!(answer, Some(false), "WebCrypto answered for {kid}");
    }
    crate::webcrypto::set_enabled(false);
    let failures = failures().await;
    crate::webcrypto::set_enabled(true);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
async fn a_valid_token_fails_once_time_moves_past_exp() {
    let (vectors, set) = vectors();
    let issuer = vectors["issuer"].as_str().expect("issuer");
    let now = vectors["now"].as_i64().expect("now");
    let token = vectors["cases"][0]["token"].as_str().expect("token");
    assert_eq!(
        outcome(token, &set, issuer, now).await,
        Ok("user_1".to_owned())
    );
    assert_eq!(
        outcome(token, &set, issuer, now + 600).await,
        Err("token_expired")
    );
}
