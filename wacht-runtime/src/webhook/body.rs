//! Reading a request body whole, with a cap, from any `http_body::Body`.

use bytes::{Buf, Bytes, BytesMut};
use http_body::Body;
use http_body_util::BodyExt;

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Longer than the cap (announced by `Content-Length` or the body's size hint, or found
    /// while reading).
    TooLarge,
    /// The body stream failed (the client went away, a transport error).
    Unreadable,
}

/// Reads `body` whole, refusing it once it would exceed `cap` bytes: nothing past the cap is
/// buffered. `announced` is the request's `Content-Length`, when it had a valid one.
///
/// The body's error type needs no bounds: a failing stream is [`BodyError::Unreadable`] and
/// its error is dropped at once (so the future stays `Send` for bodies whose error is not,
/// such as `worker::Body`'s).
pub(crate) async fn read_capped<B: Body>(
    body: B,
    cap: usize,
    announced: Option<u64>,
) -> Result<Bytes, BodyError> {
    let cap64 = u64::try_from(cap).unwrap_or(u64::MAX);
    if announced.is_some_and(|length| length > cap64) || body.size_hint().lower() > cap64 {
        return Err(BodyError::TooLarge);
    }
    let mut body = std::pin::pin!(body);
    // Most bodies arrive in one frame (lambda_http, String, a small HTTP/1.1 request): it is
    // kept as it came, without a copy. Later frames are appended to a buffer.
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    let mut total = 0usize;
    loop {
        let data = match body.frame().await {
            None => break,
            Some(Err(_)) => return Err(BodyError::Unreadable),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => data,
                // Trailers carry no body bytes.
                Err(_) => continue,
            },
        };
        let len = data.remaining();
        total = match total.checked_add(len) {
            Some(total) if total <= cap => total,
            _ => return Err(BodyError::TooLarge),
        };
        let mut data = data;
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data.copy_to_bytes(len)),
            (Some(head), None) => {
                let mut buffer = BytesMut::with_capacity(total);
                buffer.extend_from_slice(head);
                while data.has_remaining() {
                    let chunk = data.chunk();
                    let taken = chunk.len();
                    buffer.extend_from_slice(chunk);
                    data.advance(taken);
                }
                rest = Some(buffer);
            }
            (Some(_), Some(buffer)) => {
                while data.has_remaining() {
                    let chunk = data.chunk();
                    let taken = chunk.len();
                    buffer.extend_from_slice(chunk);
                    data.advance(taken);
                }
            }
        }
    }
    Ok(match (first, rest) {
        (_, Some(buffer)) => buffer.freeze(),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    })
}
