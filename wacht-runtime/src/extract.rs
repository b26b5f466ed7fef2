//! axum extractors (feature `axum`): `wacht::Auth`, `wacht::MachineAuth` and
//! `Option<wacht::Auth>` as handler arguments.
//!
//! Behind [`layer::protect`](crate::layer::protect) / [`layer::machine`](crate::layer::machine)
//! or an attribute, they read the identity the check stored in the request's extensions.
//! With neither, `Auth` verifies the session token itself (authentication only: any
//! signed-in caller), and `MachineAuth` asks the gateway about the request's own path and
//! method with an API key from `x-api-key`. Refusals are the same JSON answers as everywhere.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

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

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let wacht = context(parts)?;
        let auth = wacht
            .protect_head(Head::from_parts(parts), &Requirement::new())
            .await?;
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}

/// `Option<wacht::Auth>`: `None` for a request without an `Authorization` header; a present
/// but invalid or expired token is still a 401 (never a silent downgrade to "signed out").
impl<S: Send + Sync> OptionalFromRequestParts<S> for Auth {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Rejection> {
        if parts.extensions.get::<Auth>().is_none()
            && !parts.headers.contains_key(http::header::AUTHORIZATION)
        {
            return Ok(None);
        }
        <Auth as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(Some)
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
        let auth = wacht
            .authorize_machine_head(Head::from_parts(parts), &MachineRequirement::new())
            .await?;
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}
