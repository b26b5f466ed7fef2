//! Signature checks with the platform's WebCrypto (`crypto.subtle.verify`) on wasm32: the
//! native verifier of every edge runtime (workerd, Deno, browsers, Node).
//!
//! Only the signature is checked here; parsing, key choice and claims are the same code as
//! on native. Where WebCrypto is absent, or refuses to import a key (an engine without
//! Ed25519, a PKCS#1 PEM), the check falls back to RustCrypto (jsonwebtoken's
//! `rust_crypto`), so a token is never refused for the platform's sake.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use js_sys::{Array, Promise, Reflect, Uint8Array};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::jwk::{KeyKind, VerifyingKey};

#[wasm_bindgen]
extern "C" {
    /// `crypto.subtle`.
    type Subtle;

    #[wasm_bindgen(method, catch, js_name = verify)]
    fn verify_bytes(
        this: &Subtle,
        algorithm: &JsValue,
        key: &JsValue,
        signature: &[u8],
        data: &[u8],
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = importKey)]
    fn import_key(
        this: &Subtle,
        format: &str,
        key_data: &JsValue,
        algorithm: &JsValue,
        extractable: bool,
        usages: &JsValue,
    ) -> Result<Promise, JsValue>;
}

// Per isolate (wasm32 has one thread): `crypto.subtle` (`None`: the platform has none), the
// `verify` parameters by algorithm, and the keys imported into WebCrypto by (process-unique
// key id, algorithm), `None` when the import failed (that key then uses RustCrypto). The key
// map is cleared when it grows past `MAX_IMPORTED` (keys that rotated out are never used
// again).
thread_local! {
    static SUBTLE: Option<Subtle> = subtle();
    static PARAMS: RefCell<HashMap<Algorithm, Option<JsValue>>> = RefCell::new(HashMap::new());
    static IMPORTED: RefCell<HashMap<(u64, Algorithm), Option<JsValue>>> = RefCell::new(HashMap::new());
}

const MAX_IMPORTED: usize = 64;

/// Whether WebCrypto is used (the default); see [`crate::use_webcrypto`].
static ENABLED: AtomicBool = AtomicBool::new(true);

pub(crate) fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// `Some(valid)` from WebCrypto, or `None` when WebCrypto cannot check this key (the caller
/// falls back to RustCrypto).
pub(crate) async fn verify(
    key: &VerifyingKey,
    alg: Algorithm,
    signing_input: &[u8],
    signature: &[u8],
) -> Option<bool> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    let slot = (key.id(), alg);
    if !IMPORTED.with(|map| map.borrow().contains_key(&slot)) {
        import_once(key, alg).await;
    }
    // Borrowed in place (no handle copies on the hot path). WebCrypto copies both byte arrays
    // when called, so views of wasm memory are safe.
    let promise = IMPORTED.with(|map| {
        let map = map.borrow();
        let crypto_key = map.get(&slot)?.as_ref()?;
        PARAMS.with(|params| {
            let mut params = params.borrow_mut();
            let params = params
                .entry(alg)
                .or_insert_with(|| verify_params(alg))
                .as_ref()?;
            SUBTLE.with(|subtle| {
                subtle
                    .as_ref()?
                    .verify_bytes(params, crypto_key, signature, signing_input)
                    .ok()
            })
        })
    })?;
    match JsFuture::from(promise).await {
        Ok(valid) => valid.as_bool(),
        Err(_) => {
            tracing::debug!(target: "wacht", "WebCrypto verify threw; checking with RustCrypto");
            None
        }
    }
}

/// `globalThis.crypto.subtle`, when the platform has it.
fn subtle() -> Option<Subtle> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok()?;
    (subtle.is_object()).then(|| subtle.unchecked_into())
}

/// Imports the key for `alg` into WebCrypto and records the outcome (`None`: RustCrypto
/// checks this key).
async fn import_once(key: &VerifyingKey, alg: Algorithm) {
    let imported = import(key, alg).await;
    if imported.is_none() {
        tracing::debug!(target: "wacht", kid = key.kid(), ?alg, "WebCrypto cannot import this key; it is checked with RustCrypto");
    }
    IMPORTED.with(|map| {
        let mut map = map.borrow_mut();
        if map.len() >= MAX_IMPORTED {
            map.clear();
        }
        map.insert((key.id(), alg), imported);
    });
}

async fn import(key: &VerifyingKey, alg: Algorithm) -> Option<JsValue> {
    let algorithm = to_js(&import_params(key.kind(), alg)?)?;
    let (format, data) = match key.jwk_members() {
        Some(jwk) => ("jwk", to_js(&jwk)?),
        None => (
            "spki",
            Uint8Array::from(spki_der(key.material())?.as_slice()).into(),
        ),
    };
    let usages: JsValue = Array::of1(&"verify".into()).into();
    let promise = SUBTLE.with(|subtle| {
        subtle
            .as_ref()?
            .import_key(format, &data, &algorithm, false, &usages)
            .ok()
    })?;
    JsFuture::from(promise).await.ok()
}

/// The `importKey` algorithm for a key of `kind` verifying `alg`.
fn import_params(kind: KeyKind, alg: Algorithm) -> Option<Value> {
    Some(match (kind, alg) {
        (KeyKind::P256, Algorithm::ES256) => json!({"name": "ECDSA", "namedCurve": "P-256"}),
        (KeyKind::P384, Algorithm::ES384) => json!({"name": "ECDSA", "namedCurve": "P-384"}),
        (KeyKind::Ed25519, Algorithm::EdDSA) => json!({"name": "Ed25519"}),
        (KeyKind::Rsa, alg) => {
            let (name, hash) = rsa(alg)?;
            json!({"name": name, "hash": hash})
        }
        _ => return None,
    })
}

/// The `verify` parameters for `alg`.
fn verify_params(alg: Algorithm) -> Option<JsValue> {
    let params = match alg {
        Algorithm::ES256 => json!({"name": "ECDSA", "hash": "SHA-256"}),
        Algorithm::ES384 => json!({"name": "ECDSA", "hash": "SHA-384"}),
        Algorithm::EdDSA => json!({"name": "Ed25519"}),
        // RFC 7518 3.5: the salt is as long as the hash.
        Algorithm::PS256 => json!({"name": "RSA-PSS", "saltLength": 32}),
        Algorithm::PS384 => json!({"name": "RSA-PSS", "saltLength": 48}),
        Algorithm::PS512 => json!({"name": "RSA-PSS", "saltLength": 64}),
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
            json!({"name": "RSASSA-PKCS1-v1_5"})
        }
        _ => return None,
    };
    to_js(&params)
}

fn rsa(alg: Algorithm) -> Option<(&'static str, &'static str)> {
    Some(match alg {
        Algorithm::RS256 => ("RSASSA-PKCS1-v1_5", "SHA-256"),
        Algorithm::RS384 => ("RSASSA-PKCS1-v1_5", "SHA-384"),
        Algorithm::RS512 => ("RSASSA-PKCS1-v1_5", "SHA-512"),
        Algorithm::PS256 => ("RSA-PSS", "SHA-256"),
        Algorithm::PS384 => ("RSA-PSS", "SHA-384"),
        Algorithm::PS512 => ("RSA-PSS", "SHA-512"),
        _ => return None,
    })
}

/// A JSON value as a plain JS object.
fn to_js(value: &Value) -> Option<JsValue> {
    js_sys::JSON::parse(&value.to_string()).ok()
}

/// The DER of a `-----BEGIN PUBLIC KEY-----` PEM (SubjectPublicKeyInfo); `None` for any
/// other PEM (RustCrypto checks those).
fn spki_der(pem: &str) -> Option<Vec<u8>> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN PUBLIC KEY-----")?
        .trim_end()
        .strip_suffix("-----END PUBLIC KEY-----")?;
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}
