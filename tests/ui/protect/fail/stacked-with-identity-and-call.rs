//! Stacked attributes on a handler with an identity parameter, called as the outer attribute
//! makes it: exactly one error, at the second attribute.
use http::{Request, Response};

#[wacht::protect(permission = "user:read")]
#[wacht::machine(resource = "/machine/users")]
async fn handler(_req: Request<String>, auth: wacht::Auth) -> Response<String> {
    Response::new(auth.user_id().to_owned())
}

async fn call() -> Response<String> {
    handler(Request::new(String::new())).await
}

fn main() {
    let _ = call;
}
