//! Outbound HTTP on wasm32: the platform's `fetch`, called with `redirect: "manual"`, so a
//! redirect is never followed (reqwest's wasm backend cannot ask for that; the platform would
//! follow the redirect and re-send the request, the gateway's credential included).
//!
//! The rules are those of the outbound module (its parent): any 3xx is a failed call, the body is read from
//! the stream with a cap, and the whole call (body included) is bounded by the timeout
//! (`AbortSignal.timeout` aborts the platform's request; a timer bounds the wait regardless).

use std::time::Duration;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::answer::{Answer, OutboundError, ReadBody};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(url: &str, init: &JsValue) -> Result<Promise, JsValue>;
}

/// Sends `request` with `fetch` and reads the answer under the rules above.
pub(crate) async fn call(
    request: reqwest::Request,
    timeout: Duration,
    cap: usize,
    read: ReadBody,
) -> Result<Answer, OutboundError> {
    let exchange = exchange(request, timeout, cap, read);
    crate::platform::timeout(timeout, crate::platform::send(exchange))
        .await
        .unwrap_or(Err(OutboundError::Timeout))
}

async fn exchange(
    request: reqwest::Request,
    timeout: Duration,
    cap: usize,
    read: ReadBody,
) -> Result<Answer, OutboundError> {
    let url = request.url().as_str().to_owned();
    let init = init(&request, timeout)?;
    let promise = global_fetch(&url, &init).map_err(transport)?;
    let response = JsFuture::from(promise).await.map_err(transport)?;
    let status = get(&response, "status")
        .as_f64()
        .and_then(|status| u16::try_from(status as i64).ok())
        .and_then(|status| http::StatusCode::from_u16(status).ok())
        .ok_or_else(|| OutboundError::Transport("the answer has no HTTP status".to_owned()))?;
    if status.is_redirection() {
        return Err(OutboundError::Redirect(status.as_u16()));
    }
    // `redirect: "manual"` never follows; an answer from elsewhere is refused all the same.
    if let Some(answered) = get(&response, "url").as_string()
        && !answered.is_empty()
        && answered != url
    {
        return Err(OutboundError::UrlChanged);
    }
    let headers = answer_headers(&response);
    let stream = get(&response, "body");
    let body = if read == ReadBody::Always || status.is_success() {
        if content_length(&response).is_some_and(|length| length > cap as u64) {
            cancel(&stream);
            return Err(OutboundError::TooLarge(cap));
        }
        read_capped(&stream, cap).await?
    } else {
        cancel(&stream);
        Vec::new()
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The headers the runtime reads from an answer: `retry-after`, `x-development-session`, and
/// every `set-cookie` (`Headers.getSetCookie()`, where the platform has it).
fn answer_headers(response: &JsValue) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    let headers = get(response, "headers");
    let Ok(get_header) = get(&headers, "get").dyn_into::<Function>() else {
        return map;
    };
    for name in ["retry-after", "x-development-session"] {
        if let Some(value) = get_header
            .call1(&headers, &name.into())
            .ok()
            .and_then(|value| value.as_string())
            && let (Ok(name), Ok(value)) = (
                http::HeaderName::try_from(name),
                http::HeaderValue::try_from(value),
            )
        {
            map.insert(name, value);
        }
    }
    if let Some(cookies) =
        call0(&headers, "getSetCookie").and_then(|cookies| cookies.dyn_into::<js_sys::Array>().ok())
    {
        for cookie in cookies.iter().filter_map(|cookie| cookie.as_string()) {
            if let Ok(value) = http::HeaderValue::try_from(cookie) {
                map.append(http::header::SET_COOKIE, value);
            }
        }
    }
    map
}

/// `{ method, headers, body, redirect: "manual", signal: AbortSignal.timeout(ms) }`.
fn init(request: &reqwest::Request, timeout: Duration) -> Result<JsValue, OutboundError> {
    let init = Object::new();
    let headers = Object::new();
    for (name, value) in request.headers() {
        let value = value
            .to_str()
            .map_err(|_| OutboundError::Transport("a header value is not ASCII".to_owned()))?;
        set(&headers, name.as_str(), &value.into());
    }
    set(&init, "method", &request.method().as_str().into());
    set(&init, "headers", &headers);
    set(&init, "redirect", &"manual".into());
    if let Some(bytes) = request.body().and_then(|body| body.as_bytes()) {
        set(&init, "body", &Uint8Array::from(bytes));
    }
    let millis = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
    if let Some(signal) = abort_after(millis) {
        set(&init, "signal", &signal);
    }
    Ok(init.into())
}

/// `AbortSignal.timeout(ms)`, where the platform has it.
fn abort_after(millis: u32) -> Option<JsValue> {
    let abort_signal = get(&js_sys::global(), "AbortSignal");
    let timeout: Function = get(&abort_signal, "timeout").dyn_into().ok()?;
    timeout.call1(&abort_signal, &millis.into()).ok()
}

/// Reads `stream` (a `ReadableStream`, or null for no body) chunk by chunk, stopping (and
/// cancelling the stream) as soon as the body would exceed `cap` bytes.
async fn read_capped(stream: &JsValue, cap: usize) -> Result<Vec<u8>, OutboundError> {
    let mut body = Vec::new();
    if stream.is_null() || stream.is_undefined() {
        return Ok(body);
    }
    let reader = call0(stream, "getReader")
        .ok_or_else(|| OutboundError::Transport("the answer's body cannot be read".to_owned()))?;
    loop {
        let promise: Promise = call0(&reader, "read")
            .and_then(|value| value.dyn_into().ok())
            .ok_or_else(|| {
                OutboundError::Transport("the answer's body cannot be read".to_owned())
            })?;
        let chunk = JsFuture::from(promise).await.map_err(transport)?;
        if get(&chunk, "done").as_bool() == Some(true) {
            return Ok(body);
        }
        let bytes: Uint8Array = get(&chunk, "value")
            .dyn_into()
            .map_err(|_| OutboundError::Transport("the answer's body is not bytes".to_owned()))?;
        let length = bytes.length() as usize;
        if body.len() + length > cap {
            let _ = call0(&reader, "cancel");
            return Err(OutboundError::TooLarge(cap));
        }
        let start = body.len();
        body.resize(start + length, 0);
        bytes.copy_to(&mut body[start..]);
    }
}

fn content_length(response: &JsValue) -> Option<u64> {
    let headers = get(response, "headers");
    let get_header: Function = get(&headers, "get").dyn_into().ok()?;
    get_header
        .call1(&headers, &"content-length".into())
        .ok()?
        .as_string()?
        .trim()
        .parse()
        .ok()
}

/// Tells the platform the body will not be read (frees the connection).
fn cancel(stream: &JsValue) {
    if stream.is_object() {
        let _ = call0(stream, "cancel");
    }
}

/// A failed `fetch`: a timeout when the abort signal fired, else the platform's message
/// (its own words, never the peer's), cut short.
fn transport(error: JsValue) -> OutboundError {
    if get(&error, "name").as_string().as_deref() == Some("TimeoutError") {
        return OutboundError::Timeout;
    }
    let message = get(&error, "message")
        .as_string()
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "fetch failed".to_owned());
    let message: String = message
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    OutboundError::Transport(message)
}

fn get(target: &JsValue, name: &str) -> JsValue {
    Reflect::get(target, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

fn set(target: &Object, name: &str, value: &JsValue) {
    let _ = Reflect::set(target, &name.into(), value);
}

fn call0(target: &JsValue, method: &str) -> Option<JsValue> {
    let function: Function = get(target, method).dyn_into().ok()?;
    function.call0(target).ok()
}
