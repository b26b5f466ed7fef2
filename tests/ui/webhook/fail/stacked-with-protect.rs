//! A webhook is not a signed-in person: one error, at the second attribute, and none at the
//! call below (the function keeps the signature the outer attribute gives it).
use http::{Request, Response};

#[wacht::webhook(event = "user.created")]
#[wacht::protect(permission = "user:read")]
async fn handler(_req: Request<String>, event: wacht::WebhookEvent, _auth: wacht::Auth) -> Response<String> {
    Response::new(event.id().to_owned())
}

fn main() {
    let _ = handler(Request::new(String::new()));
}
