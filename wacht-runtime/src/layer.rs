//! Tower layers (feature `tower`): the same checks as `#[wacht::protect]`,
//! `#[wacht::machine]` and `#[wacht::webhook]` ([`webhook`]), in front of any `Service<http::Request<B>>` (an axum `Router`, a hyper
//! service, …). Same decisions, same answers, same `wacht.check` span; the verified identity
//! goes into the request's extensions.
//!
//! ```
//! use wacht_runtime::{layer, MachineRequirement, Requirement};
//! let people = layer::protect(Requirement::new().permission("user:read"));
//! let machines = layer::machine(MachineRequirement::new().resource("/machine/users").method("GET"));
//! # let _ = (people, machines);
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

use crate::admitted::{ResponseHeaders, SignedOut};
use crate::context::Wacht;
use crate::head::Head;
use crate::machine::MachineRequirement;
use crate::rejection::Rejection;
use crate::requirement::Requirement;

pub use crate::webhook::tower::{WebhookFuture, WebhookLayer, WebhookService, webhook};

/// A layer putting the session check of `requirement` in front of a service: the counterpart
/// of `#[wacht::protect]`. The [`Auth`](crate::Auth) of an allowed caller is in the request's
/// extensions (an axum handler takes it as a `wacht::Auth` extractor).
pub fn protect(requirement: Requirement) -> WachtLayer {
    WachtLayer {
        check: Check::Session(Arc::new(requirement)),
    }
}

/// A layer putting the gateway check of `requirement` in front of a service: the
/// counterpart of `#[wacht::machine]`. The [`MachineAuth`](crate::MachineAuth) of an allowed
/// caller is in the request's extensions.
pub fn machine(requirement: MachineRequirement) -> WachtLayer {
    WachtLayer {
        check: Check::Machine(Arc::new(requirement)),
    }
}

/// Optional authentication in front of a service: a request without an `Authorization`
/// header passes with no identity in its extensions; a valid token's [`Auth`](crate::Auth) is
/// stored; a present but invalid or expired token gets the usual 401. (Handlers read it as
/// `Option<wacht::Auth>`.)
pub fn optional() -> WachtLayer {
    WachtLayer {
        check: Check::Optional,
    }
}

/// One route for people and machines: a session token meeting `requirement`, or a machine
/// credential meeting `machine` (routing as [`Wacht::protect_or_machine`]). The
/// [`Caller`](crate::Caller) goes into the request's extensions, with its `Auth` or
/// `MachineAuth`.
pub fn either(requirement: Requirement, machine: MachineRequirement) -> WachtLayer {
    WachtLayer {
        check: Check::Either(Arc::new((requirement, machine))),
    }
}

#[derive(Debug, Clone)]
enum Check {
    Session(Arc<Requirement>),
    Optional,
    Machine(Arc<MachineRequirement>),
    Either(Arc<(Requirement, MachineRequirement)>),
}

/// The layer of [`protect`] or [`machine`]. The context used is the [`Wacht`] in the
/// request's extensions, else the process-wide one, as for the attributes.
#[derive(Debug, Clone)]
pub struct WachtLayer {
    check: Check,
}

impl<S> Layer<S> for WachtLayer {
    type Service = WachtService<S>;

    fn layer(&self, inner: S) -> WachtService<S> {
        WachtService {
            inner,
            check: self.check.clone(),
        }
    }
}

/// The service of a [`WachtLayer`]: checks, then calls the inner service with the identity
/// in the request's extensions, or answers the rejection itself. The inner service's
/// readiness and errors pass through; the request body is never cloned or read.
#[derive(Debug, Clone)]
pub struct WachtService<S> {
    inner: S,
    check: Check,
}

/// The future of a [`WachtService`] call.
pub type ResponseFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

impl<S, B, ResBody> Service<http::Request<B>> for WachtService<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    ResBody: From<String> + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        // The service that was polled ready is the one called (tower's clone-and-swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let check = self.check.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let admitted = match Wacht::for_extensions(&parts.extensions) {
                Err(error) => Err(error.rejection()),
                Ok(wacht) => {
                    let head = Head::from_parts(&parts);
                    match &check {
                        Check::Session(requirement) => {
                            wacht.protect_head(head, requirement).await.map(|admitted| {
                                let (auth, headers) = admitted.into_parts();
                                parts.extensions.insert(auth);
                                headers
                            })
                        }
                        Check::Optional => wacht
                            .protect_optional_head(head, &Requirement::new())
                            .await
                            .map(|admitted| {
                                let (auth, headers) = admitted.into_parts();
                                match auth {
                                    Some(auth) => parts.extensions.insert(auth).map(drop),
                                    None => parts.extensions.insert(SignedOut).map(drop),
                                };
                                headers
                            }),
                        Check::Either(requirements) => wacht
                            .protect_or_machine_head(head, &requirements.0, &requirements.1)
                            .await
                            .map(|admitted| {
                                let (caller, headers) = admitted.into_parts();
                                caller.insert_into(&mut parts.extensions);
                                headers
                            }),
                        Check::Machine(requirement) => wacht
                            .authorize_machine_head(head, requirement)
                            .await
                            .map(|auth| {
                                parts.extensions.insert(auth);
                                ResponseHeaders::default()
                            }),
                    }
                }
            };
            match admitted {
                Ok(headers) => {
                    crate::bridge::strip(&mut parts.headers);
                    let mut response = inner.call(http::Request::from_parts(parts, body)).await?;
                    // The cookies of a browser session exchange, the WebSocket subprotocol.
                    headers.apply(&mut response);
                    Ok(response)
                }
                Err(rejection) => Ok(Rejection::into_response(rejection)),
            }
        })
    }
}
