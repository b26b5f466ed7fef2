//! The handler shapes of the runtimes: lambda_http, axum (request last, after `State`),
//! hyper's read-only `Incoming` (vercel_runtime's `Request`), each future `Send`.
use std::convert::Infallible;

mod lambda {
    use lambda_http::{Body, Error, Request, Response, service_fn};

    #[wacht::webhook(event = "user.created")]
    pub async fn user_created(req: Request, event: wacht::WebhookEvent) -> Result<Response<Body>, Error> {
        // The body comes back as lambda_http's `Body`.
        let _: &Body = req.body();
        Ok(Response::new(event.event_type().into()))
    }

    pub fn deployable() {
        drop(lambda_http::run(service_fn(user_created)));
    }
}

mod axum_router {
    use axum::extract::{Request, State};
    use axum::response::Response;

    #[wacht::webhook]
    pub async fn hook(State(name): State<String>, event: wacht::WebhookEvent, req: Request) -> Response {
        let _: axum::body::Body = req.into_body();
        Response::new(format!("{name} {}", event.id()).into())
    }

    pub fn router() -> axum::Router {
        axum::Router::new()
            .route("/hooks", axum::routing::post(hook))
            .with_state(String::from("app"))
    }
}

mod hyper_incoming {
    use super::Infallible;
    use http_body_util::{BodyExt, Full};
    use hyper::body::{Bytes, Incoming};
    use hyper::{Request, Response};

    #[wacht::webhook]
    pub async fn hook(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        // `Incoming` cannot be made again: the body comes back as `Full<Bytes>`.
        let body: Full<Bytes> = req.into_body();
        let bytes = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        Ok(Response::new(Full::new(bytes)))
    }
}

fn send_handler<F: std::future::Future + Send>(_: fn(hyper::Request<hyper::body::Incoming>) -> F) {}

fn main() {
    lambda::deployable();
    let _ = axum_router::router();
    send_handler(hyper_incoming::hook);
}
