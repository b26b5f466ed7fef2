//! Every argument.
use http::{Request, Response};
use wacht::Rejection;

fn answer(rejection: Rejection) -> Response<String> {
    let mut response = Response::new(rejection.reason().to_owned());
    *response.status_mut() = rejection.status();
    response
}

#[wacht::webhook(
    events = ["user.created", "user.updated", "my_app.invoice.paid"],
    secret_env = "BILLING_WEBHOOK_SECRET",
    max_body_bytes = 1_048_576,
    tolerance_seconds = 600,
    dedup,
    on_reject = answer,
    crate = "::wacht"
)]
async fn all(_req: Request<String>, event: wacht::WebhookEvent) -> Response<String> {
    Response::new(event.id().to_owned())
}

#[wacht::webhook(event = "user.deleted")]
async fn one(_req: Request<String>) -> Result<Response<String>, std::convert::Infallible> {
    Ok(Response::new(String::new()))
}

fn main() {
    let _ = all;
    let _ = one;
}
