//! Lints still see the user's function through the macro: an unused handler is dead code.
#![deny(dead_code)]

use http::{Request, Response};

#[wacht::protect(permission = "user:read")]
async fn never_called(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
