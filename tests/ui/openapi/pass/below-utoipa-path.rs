//! Every form above `#[utoipa::path]`, with the attribute's own arguments and other attributes
//! in between; the handlers still run as handlers.
use http::{Request, Response};
use utoipa::OpenApi;
use wacht::openapi::WachtSecurity;

#[wacht::protect(all = ["a", "b"])]
/// Doc comments and other attributes may stand between the two.
#[allow(clippy::unused_async)]
#[utoipa::path(get, path = "/all", responses((status = 200, description = "ok")))]
async fn all(_req: Request<String>, auth: wacht::Auth) -> Response<String> {
    Response::new(auth.user_id().to_owned())
}

#[wacht::protect(optional)]
#[utoipa::path(get, path = "/optional")]
async fn optional(_req: Request<String>, _auth: Option<wacht::Auth>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::protect(or_machine(principal = "any"))]
#[utoipa::path(get, path = "/either")]
async fn either(_req: Request<String>, _caller: wacht::Caller) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(principal = "oauth_access_token", any = ["r", "w"])]
#[utoipa::path(delete, path = "/m", responses())]
async fn machine(_req: Request<String>, _auth: wacht::MachineAuth) -> Result<Response<String>, std::io::Error> {
    Ok(Response::new(String::new()))
}

#[derive(OpenApi)]
#[openapi(paths(all, optional, either, machine), modifiers(&WachtSecurity))]
struct Api;

fn main() {
    let _ = Api::openapi();
    let _ = all(Request::new(String::new()));
    let _ = machine(Request::new(String::new()));
}
