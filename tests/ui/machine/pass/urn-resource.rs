//! A resource named by a `urn:wacht:` URN instead of a path.

use http::{Request, Response};

#[wacht::machine(resource = "urn:wacht:organization:123", method = "GET")]
async fn organization(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(resource = "urn:wacht:organization:123", permission = "org:read")]
async fn with_permission(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {
    let _ = organization(Request::new(String::new()));
    let _ = with_permission(Request::new(String::new()));
}
