//! Signed tokens against a published key set, each with the outcome it must have
//! (`testdata/session_vectors.json`, made by `testdata/make_session_vectors.mjs` with Node's
//! crypto). The cases run natively and on wasm32 (under Node), through the same parsing, key
//! choice, signature check and claim rules: one set of rules for every verifier.

// On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
#[cfg(target_family = "wasm")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::sync::Arc;

use serde_json::Value;

use super::{AuthError, UnverifiedToken, verify_with};
use crate::jwk::parse_jwks;
use crate::keys::KeySet;

const VECTORS: &str = include_str!("testdata/session_vectors.json");

/// The user id, or the rejection reason.
fn outcome(token: &str, set: &KeySet, issuer: &str, now: i64) -> Result<String, &'static str> {
    let check = || -> Result<String, AuthError> {
        let unverified = UnverifiedToken::parse(token)?;
        verify_with(&unverified, set)?;
        Ok(unverified.claims(issuer, now, 0)?.user_id)
    };
    check().map_err(|error| error.reason())
}

fn vectors() -> (Value, KeySet) {
    let vectors: Value = serde_json::from_str(VECTORS).expect("the vectors are JSON");
    let keys = parse_jwks(vectors["jwks"].to_string().as_bytes()).expect("the JWKS parses");
    assert_eq!(keys.len(), 5, "every published key is usable");
    let set = KeySet::new(keys.into_iter().map(Arc::new).collect(), 1);
    (vectors, set)
}

#[test]
fn every_vector_has_its_outcome() {
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
        let got = match outcome(token, &set, issuer, now) {
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
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_valid_token_fails_once_time_moves_past_exp() {
    let (vectors, set) = vectors();
    let issuer = vectors["issuer"].as_str().expect("issuer");
    let now = vectors["now"].as_i64().expect("now");
    let token = vectors["cases"][0]["token"].as_str().expect("token");
    assert_eq!(outcome(token, &set, issuer, now), Ok("user_1".to_owned()));
    assert_eq!(
        outcome(token, &set, issuer, now + 600),
        Err("token_expired")
    );
}
