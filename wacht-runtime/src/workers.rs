//! Cloudflare Workers (feature `workers`, wasm32): rejections as `http::Response<worker::Body>`.

use crate::rejection::Rejection;

impl Rejection {
    /// The HTTP response with a [`worker::Body`], the body type of workers-rs's `http`
    /// feature (which has no `From<String>`, so [`Rejection::into_response`] cannot build it).
    ///
    /// Status and headers are always the rejection's. Should the platform fail to make a body
    /// stream of the JSON (it does not in practice), the body is empty: the caller is still
    /// refused with the right status.
    pub fn into_worker_response(self) -> http::Response<worker::Body> {
        let (parts, json) = self.into_response::<String>().into_parts();
        // No content (a 204 `ignored`): a null body, which the platform requires for a 204.
        if json.is_empty() {
            return http::Response::from_parts(parts, worker::Body::empty());
        }
        let body = worker::Response::from_bytes(json.into_bytes())
            .and_then(http::Response::<worker::Body>::try_from)
            .map(http::Response::into_body)
            .unwrap_or_else(|error| {
                tracing::error!(target: "wacht", %error, "a rejection's JSON body could not be made; answering with its status and headers alone");
                worker::Body::empty()
            });
        http::Response::from_parts(parts, body)
    }
}

impl crate::macro_support::ViaWorkers<http::Response<worker::Body>>
    for &crate::macro_support::Reply<http::Response<worker::Body>>
{
    fn reply(&self, rejection: Rejection) -> http::Response<worker::Body> {
        rejection.into_worker_response()
    }
}

impl<E> crate::macro_support::ViaWorkers<Result<http::Response<worker::Body>, E>>
    for &crate::macro_support::Reply<Result<http::Response<worker::Body>, E>>
{
    fn reply(&self, rejection: Rejection) -> Result<http::Response<worker::Body>, E> {
        Ok(rejection.into_worker_response())
    }
}
