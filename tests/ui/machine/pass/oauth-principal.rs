//! OAuth access tokens (`Authorization: Bearer`) instead of API keys.

use http::{Request, Response};

#[wacht::machine(principal = "oauth_access_token")]
async fn oauth_only(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(
    resource = "/machine/reports",
    method = "DELETE",
    permission = "report:delete",
    principal = "oauth_access_token"
)]
async fn with_requirement(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {
    let _ = oauth_only(Request::new(String::new()));
    let _ = with_requirement(Request::new(String::new()));
}
