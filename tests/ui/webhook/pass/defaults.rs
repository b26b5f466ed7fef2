//! No argument: every verified event; the event parameter is removed from the signature.
use http::{Request, Response};

#[wacht::webhook]
async fn events(req: Request<String>, event: wacht::WebhookEvent) -> Response<String> {
    // The body comes back as it was sent.
    Response::new(format!("{} {} {}", event.id(), event.event_type(), req.body().len()))
}

/// Without an event parameter: the event is in the request's extensions.
#[wacht::webhook]
async fn no_parameter(req: Request<String>) -> Response<String> {
    let event = req.extensions().get::<wacht::WebhookEvent>().cloned();
    Response::new(format!("{:?}", event.map(|event| event.timestamp())))
}

fn main() {
    let _: fn(Request<String>) -> _ = events;
    let _: fn(Request<String>) -> _ = no_parameter;
}
