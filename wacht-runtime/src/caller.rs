//! One endpoint for people and machines: the caller is either a signed-in user (a session
//! token) or a machine (an API key or OAuth access token the gateway allowed).

use crate::auth::Auth;
use crate::machine::MachineAuth;

/// Who called an endpoint that accepts both people and machines
/// (`#[wacht::protect(…, or_machine(…))]`, [`layer::either`](crate::layer) or
/// [`Wacht::protect_or_machine`](crate::Wacht::protect_or_machine)).
///
/// ```
/// # fn show(caller: wacht_runtime::Caller) -> String {
/// match caller {
///     wacht_runtime::Caller::Session(auth) => format!("user {}", auth.user_id()),
///     wacht_runtime::Caller::Machine(auth) => format!("key {:?}", auth.key_id()),
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub enum Caller {
    /// A signed-in user whose session token verified and met the session requirement.
    Session(Auth),
    /// A machine credential the gateway allowed under the machine requirement.
    Machine(MachineAuth),
}

impl Caller {
    /// The session identity, for a person.
    pub fn session(&self) -> Option<&Auth> {
        match self {
            Caller::Session(auth) => Some(auth),
            Caller::Machine(_) => None,
        }
    }

    /// The machine identity, for a machine.
    pub fn machine(&self) -> Option<&MachineAuth> {
        match self {
            Caller::Machine(auth) => Some(auth),
            Caller::Session(_) => None,
        }
    }
}

impl Caller {
    /// Stores the caller in `extensions`, with its `Auth` or `MachineAuth`, so handlers and
    /// extractors find whichever they ask for. The one place both the attribute and the layer
    /// do this.
    pub(crate) fn insert_into(&self, extensions: &mut http::Extensions) {
        match self {
            Caller::Session(auth) => {
                extensions.insert(auth.clone());
            }
            Caller::Machine(auth) => {
                extensions.insert(auth.clone());
            }
        }
        extensions.insert(self.clone());
    }
}

/// Whether a bearer value has the shape of a compact JWS (three non-empty base64url
/// segments): a session token, as opposed to an opaque OAuth access token.
pub(crate) fn looks_like_jws(token: &str) -> bool {
    let mut segments = token.split('.');
    let well_formed = |segment: Option<&str>| {
        segment.is_some_and(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    well_formed(segments.next())
        && well_formed(segments.next())
        && well_formed(segments.next())
        && segments.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn session_tokens_are_told_from_opaque_access_tokens_by_shape() {
        assert!(looks_like_jws("eyJh.eyJz.c2ln"));
        for opaque in ["oat_abcdef", "a.b", "a.b.c.d", "a..c", "a.b.c=", ""] {
            assert!(!looks_like_jws(opaque), "{opaque}");
        }
    }
}
