//! axum extractors (feature `axum`): `wacht::Auth`, `wacht::MachineAuth` and
//! `Option<wacht::Auth>` as handler arguments.
//!
//! Behind [`layer::protect`](crate::layer::protect) / [`layer::machine`](crate::layer::machine)
//! or an attribute, they read the identity the check stored in the request's extensions.
//! With neither, `Auth` verifies the session token itself (authentication only: any
//! signed-in caller), and `MachineAuth` checks the [`MachineRequirement`] in the request's
//! extensions (`axum::Extension(requirement)` on the route), or without one asks the gateway
//! about the path the client called and the request's method, with an API key from
//! `x-api-key` and no permission; [`MachineAuth::check`] then checks permissions in the
//! handler, answering exactly as `layer::machine` does. Refusals are the same JSON answers as everywhere. An admitted
//! request's client-sent `x-wacht-auth` is removed from the parts, so extractors after this
//! one never see it (for every extractor, put a layer or an attribute in front).

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::admitted::{ResponseHeaders, SignedOut};
use crate::auth::Auth;
use crate::context::Wacht;
use crate::head::Head;
use crate::machine::{MachineAuth, MachineRequirement};
use crate::rejection::Rejection;
use crate::requirement::Requirement;

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        Rejection::into_response(self)
    }
}

fn context(parts: &Parts) -> Result<Wacht, Rejection> {
    Wacht::for_extensions(&parts.extensions).map_err(|error| error.rejection())
}

/// What every form does with an admitted caller: the client's `x-wacht-auth` goes, the
/// identity goes into the extensions.
fn admit<T: Clone + Send + Sync + 'static>(parts: &mut Parts, identity: &T) {
    crate::bridge::strip(&mut parts.headers);
    parts.extensions.insert(identity.clone());
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let wacht = context(parts)?;
        let (auth, headers) = wacht
            .protect_head(Head::from_parts(parts), &Requirement::new())
            .await?
            .into_parts();
        refresh_if_cookies(parts, &headers)?;
        admit(parts, &auth);
        Ok(auth)
    }
}

/// An extractor cannot add headers to the handler's answer. When a browser session's check
/// must set cookies (a session exchange: the `__auth_<scope>` cache, a rotated `__session`),
/// the caller is sent to the same URL again with them set (`307`, method and body kept);
/// the next request finds the cache cookie. A layer or an attribute in front sets them on the
/// handler's own answer instead, with no extra round trip.
fn refresh_if_cookies(parts: &Parts, headers: &ResponseHeaders) -> Result<(), Rejection> {
    if headers.set_cookies().is_empty() {
        return Ok(());
    }
    let location = crate::browser::same_site_location(parts.uri.path(), parts.uri.query());
    Err(Rejection::redirect(
        "session_cookies_set",
        "The session is stored in cookies; repeat the request.",
        &location,
    )
    .keeping_method()
    .with_response_headers(headers))
}

/// `Option<wacht::Auth>`: `None` for a request without an `Authorization` header; a present
/// but invalid or expired token is still a 401 (never a silent downgrade to "signed out"),
/// and a configuration that cannot verify tokens is a 500 whether or not a token came
/// (never "signed out" either: signed-in users would be served as anonymous).
impl<S: Send + Sync> OptionalFromRequestParts<S> for Auth {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Rejection> {
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(Some(auth.clone()));
        }
        // A layer or attribute in front already found the caller signed out.
        if parts.extensions.get::<SignedOut>().is_some() {
            return Ok(None);
        }
        let wacht = context(parts)?;
        let (auth, headers) = wacht
            .protect_optional_head(Head::from_parts(parts), &Requirement::new())
            .await?
            .into_parts();
        refresh_if_cookies(parts, &headers)?;
        crate::bridge::strip(&mut parts.headers);
        match &auth {
            Some(auth) => {
                parts.extensions.insert(auth.clone());
            }
            None => {
                parts.extensions.insert(SignedOut);
            }
        }
        Ok(auth)
    }
}

/// `wacht::Caller` behind [`layer::either`](crate::layer) (or an attribute with
/// `or_machine`): who called. Without such a check in front it is a server mistake (500), since
/// an extractor alone cannot know the two requirements.
impl<S: Send + Sync> FromRequestParts<S> for crate::caller::Caller {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        match parts.extensions.get::<crate::caller::Caller>() {
            Some(caller) => Ok(caller.clone()),
            None => {
                tracing::error!(target: "wacht", "a `wacht::Caller` extractor without `wacht::layer::either` in front of it");
                Err(Rejection::misconfigured("missing_either_check"))
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MachineAuth {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        if let Some(auth) = parts.extensions.get::<MachineAuth>() {
            return Ok(auth.clone());
        }
        let wacht = context(parts)?;
        // A requirement put in the extensions (an `axum::Extension` layer) says what this
        // extractor checks; without one: API keys, the called path and method, no permission.
        let requirement = parts
            .extensions
            .get::<MachineRequirement>()
            .cloned()
            .unwrap_or_default();
        let auth = wacht
            .authorize_machine_head(Head::from_parts(parts), &requirement)
            .await?;
        admit(parts, &auth);
        Ok(auth)
    }
}
