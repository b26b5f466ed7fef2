//! What an outbound call gives back: the answer, which bodies are read, and why a call failed.
//! Plain types, imported by the rules (`super`) and by the wasm32 transport (`super::fetch`);
//! this module imports neither.

use std::fmt;

/// An answer: its status, its headers and its body, read up to the cap.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: http::StatusCode,
    /// The answer's headers (on wasm32, those the frontend-API exchange reads:
    /// `set-cookie`, `retry-after`, `x-development-session`).
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Which answers' bodies [`call`](super::call) reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadBody {
    /// Every answer's (decisions and error descriptions are both in bodies).
    Always,
    /// Only a 2xx answer's (a JWKS error page is not read).
    OnSuccess,
}

/// Why an outbound call failed before a body within the cap was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OutboundError {
    /// No complete answer within the timeout.
    Timeout,
    /// The request did not complete (refused, reset, DNS, TLS); the cause chain.
    Transport(String),
    /// The peer answered with a redirect (never followed).
    Redirect(u16),
    /// The answer came from another URL than the one requested.
    UrlChanged,
    /// The body is larger than the cap (in bytes).
    TooLarge(usize),
}

impl fmt::Display for OutboundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboundError::Timeout => f.write_str("no answer within the timeout"),
            OutboundError::Transport(cause) => write!(f, "the request failed: {cause}"),
            OutboundError::Redirect(status) => {
                write!(
                    f,
                    "answered with a redirect (HTTP {status}), which is never followed"
                )
            }
            OutboundError::UrlChanged => {
                f.write_str("the answer came from another URL than the one requested")
            }
            OutboundError::TooLarge(cap) => write!(f, "the answer is larger than {cap} bytes"),
        }
    }
}
