//! One export for `entry.mjs`: `n` session checks of one token, each a full
//! [`wacht::Wacht::verify_token`] (strict parsing, key choice, signature, claims) with the
//! verified-token cache off, so every check verifies the signature.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

thread_local! {
    static WACHT: RefCell<Option<wacht::Wacht>> = const { RefCell::new(None) };
}

fn wacht(pem: &str, issuer: &str) -> Result<wacht::Wacht, JsValue> {
    if let Some(wacht) = WACHT.with(|cell| cell.borrow().clone()) {
        return Ok(wacht);
    }
    let config = wacht::WachtConfig::builder()
        .issuer(issuer)
        .public_signing_key(pem)
        .token_cache_capacity(0)
        .build()
        .map_err(|error| JsValue::from_str(&error.to_string()))?;
    let wacht = wacht::Wacht::new(config).map_err(|error| JsValue::from_str(&error.to_string()))?;
    WACHT.with(|cell| *cell.borrow_mut() = Some(wacht.clone()));
    Ok(wacht)
}

/// Runs `n` checks of `token` (with WebCrypto when `webcrypto`, else RustCrypto) and returns
/// how many passed.
#[wasm_bindgen]
pub async fn check_many(
    token: String,
    pem: String,
    issuer: String,
    n: u32,
    webcrypto: bool,
) -> Result<u32, JsValue> {
    wacht_runtime::use_webcrypto(webcrypto);
    let wacht = wacht(&pem, &issuer)?;
    let mut passed = 0;
    for _ in 0..n {
        if wacht.verify_token(&token).await.is_ok() {
            passed += 1;
        }
    }
    Ok(passed)
}

#[wasm_bindgen]
extern "C" {
    type Subtle;
    #[wasm_bindgen(method, catch, js_name = verify)]
    fn verify_bytes(
        this: &Subtle,
        algorithm: &JsValue,
        key: &JsValue,
        signature: &[u8],
        data: &[u8],
    ) -> Result<js_sys::Promise, JsValue>;
}

/// `n` awaits of `subtle.verify` from Rust with prepared arguments: the cost of the call
/// through wasm-bindgen and `JsFuture`, without any of the session check.
#[wasm_bindgen]
pub async fn interop_many(
    subtle: JsValue,
    params: JsValue,
    key: JsValue,
    signature: Vec<u8>,
    data: Vec<u8>,
    n: u32,
) -> Result<u32, JsValue> {
    let subtle: Subtle = subtle.unchecked_into();
    let mut passed = 0;
    for _ in 0..n {
        let promise = subtle.verify_bytes(&params, &key, &signature, &data)?;
        if wasm_bindgen_futures::JsFuture::from(promise)
            .await?
            .as_bool()
            == Some(true)
        {
            passed += 1;
        }
    }
    Ok(passed)
}
