//! Outbound HTTP: the rules every call to Wacht follows (JWKS, gateway, backend API).
//!
//! - Redirects are never followed: the client is built with redirects off, any 3xx is a
//!   failed call, and (defence in depth, for clients built elsewhere) an answer whose final
//!   URL is not the requested one is refused.
//! - Bodies are read with a cap, while streaming: reading stops past the cap, so a hostile
//!   or broken peer cannot make the process buffer more than the cap.
//! - Every call has a timeout covering connect, headers and body.
//! - Error texts are this crate's own (plus the transport's cause chain); nothing the peer
//!   sent is quoted.
//!
//! Two rooms below this one: `answer`, the types a call gives back (a leaf), and on wasm32
//! `fetch`, the transport (the platform's `fetch`), which imports `answer` and
//! `crate::platform` only. This module imports both; neither imports it.

use std::time::Duration;

mod answer;
#[cfg(target_family = "wasm")]
mod fetch;

pub(crate) use answer::{Answer, OutboundError, ReadBody};

/// The largest JWKS document read.
pub(crate) const JWKS_BODY_CAP: usize = 512 * 1024;
/// The largest gateway answer read.
pub(crate) const GATEWAY_BODY_CAP: usize = 64 * 1024;
/// The largest backend API answer read.
#[cfg(feature = "backend")]
pub(crate) const BACKEND_BODY_CAP: usize = 4 * 1024 * 1024;

/// A client builder with the rules above: redirects off, connect and total timeouts, the
/// crate's user agent, idle connections kept for 90 s.
#[cfg(not(target_family = "wasm"))]
pub(crate) fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("wacht-rs/", env!("CARGO_PKG_VERSION")))
}

/// Builds a client with [`client_builder`], verifying certificates with the platform's
/// verifier and roots. Where the platform has no usable roots (an image `FROM scratch`,
/// distroless-static), the bundled Mozilla roots (`webpki-root-certs`) are used instead, and
/// that is logged. The error is the whole cause chain.
#[cfg(not(target_family = "wasm"))]
pub(crate) fn build_client(timeout: Duration) -> Result<reqwest::Client, String> {
    let (platform, cause) = match client_builder(timeout).build() {
        Ok(client) => return Ok(client),
        Err(error) => (cause_chain(&error), innermost_cause(&error)),
    };
    let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|cert| reqwest::Certificate::from_der(cert).ok());
    match client_builder(timeout).tls_certs_only(roots).build() {
        Ok(client) => {
            tracing::warn!(
                target: "wacht",
                cause = %cause,
                "the platform's certificate roots are unusable ({cause}; SSL_CERT_FILE and SSL_CERT_DIR are read too); verifying with the bundled Mozilla roots"
            );
            Ok(client)
        }
        Err(error) => Err(format!(
            "{platform}; with the bundled Mozilla roots too: {}",
            cause_chain(&error)
        )),
    }
}

/// On wasm32 the calls go to the platform's `fetch` (see `fetch`; TLS, connections
/// and roots are the platform's); the client only builds requests.
#[cfg(target_family = "wasm")]
pub(crate) fn build_client(_timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(concat!("wacht-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| cause_chain(&error))
}

/// Sends `request` and reads the answer: redirects and answers from another URL refused,
/// the body read up to `cap` bytes, `timeout` bounding the whole call, body included.
///
/// On wasm32 the platform's `fetch` is called directly (`fetch`), with
/// `redirect: "manual"`; the future is `Send` on every target.
#[cfg(target_family = "wasm")]
pub(crate) async fn call(
    _client: &reqwest::Client,
    request: reqwest::Request,
    timeout: Duration,
    cap: usize,
    read: ReadBody,
) -> Result<Answer, OutboundError> {
    fetch::call(request, timeout, cap, read).await
}

/// Sends `request` and reads the answer: redirects and answers from another URL refused,
/// the body read up to `cap` bytes, `timeout` bounding the whole call, body included.
#[cfg(not(target_family = "wasm"))]
pub(crate) async fn call(
    client: &reqwest::Client,
    request: reqwest::Request,
    timeout: Duration,
    cap: usize,
    read: ReadBody,
) -> Result<Answer, OutboundError> {
    let response = send(client, request, timeout).await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = if read == ReadBody::Always || status.is_success() {
        read_capped(response, cap).await?
    } else {
        Vec::new()
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Sends `request` and returns the answer's head, refusing redirects and answers from
/// another URL. `timeout` bounds the whole call, body included.
#[cfg(not(target_family = "wasm"))]
async fn send(
    client: &reqwest::Client,
    mut request: reqwest::Request,
    timeout: Duration,
) -> Result<reqwest::Response, OutboundError> {
    *request.timeout_mut() = Some(timeout);
    let requested = request.url().clone();
    let response = client.execute(request).await.map_err(map_error)?;
    let status = response.status();
    if status.is_redirection() {
        return Err(OutboundError::Redirect(status.as_u16()));
    }
    if response.url() != &requested {
        return Err(OutboundError::UrlChanged);
    }
    Ok(response)
}

/// Reads the body, stopping as soon as it would exceed `cap` bytes.
#[cfg(not(target_family = "wasm"))]
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, OutboundError> {
    if response
        .content_length()
        .is_some_and(|length| length > cap as u64)
    {
        return Err(OutboundError::TooLarge(cap));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(map_error)? {
        if body.len() + chunk.len() > cap {
            return Err(OutboundError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(not(target_family = "wasm"))]
fn map_error(error: reqwest::Error) -> OutboundError {
    if error.is_timeout() {
        OutboundError::Timeout
    } else {
        OutboundError::Transport(cause_chain(&error.without_url()))
    }
}

/// `error: cause: cause…`: the whole chain, so a log says why (reqwest's own `Display`
/// is often just "error sending request").
/// What went wrong, in the words of the error at the bottom of the chain ("No CA certificates
/// were loaded from the system"), without the wrappers above it (reqwest's "builder error",
/// the "unexpected error: " rustls puts before its general errors).
#[cfg(not(target_family = "wasm"))]
fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    let text = innermost.to_string();
    match text.strip_prefix("unexpected error: ") {
        Some(rest) => rest.to_owned(),
        None => text,
    }
}

pub(crate) fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Text a peer sent, kept only when it is a short token: at most 128 characters of
/// `[A-Za-z0-9_.:-]`. Anything else (a reflected credential, markup, control characters) is
/// dropped, never echoed.
pub(crate) fn sanitized_token(text: &str) -> Option<&str> {
    let ok = !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
    ok.then_some(text)
}

/// A JSON decoding error described without the offending value: serde's messages quote
/// it (`invalid type: string "…"`), and the value may be a reflected secret.
pub(crate) fn json_error(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "an I/O error",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "JSON of the wrong shape",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    format!("{kind} (line {}, column {})", error.line(), error.column())
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn only_short_plain_tokens_survive() {
        assert_eq!(sanitized_token("req_01H:abc-1.2"), Some("req_01H:abc-1.2"));
        for bad in [
            "",
            "wk_live secret",
            "<script>",
            "a\"b",
            "line\nbreak",
            "ünïcode",
            &"x".repeat(129),
        ] {
            assert_eq!(sanitized_token(bad), None, "{bad:?}");
        }
        assert!(sanitized_token(&"x".repeat(128)).is_some());
    }

    #[test]
    fn json_errors_never_quote_the_value() {
        #[derive(serde::Deserialize, Debug)]
        struct Shape {
            #[allow(dead_code)]
            allowed: bool,
        }
        let error = serde_json::from_str::<Shape>(r#"{"allowed":"sk_live_reflected"}"#)
            .expect_err("a string is not a bool");
        let text = json_error(&error);
        assert!(!text.contains("sk_live_reflected"), "{text}");
        assert!(text.contains("wrong shape"), "{text}");
    }
}
