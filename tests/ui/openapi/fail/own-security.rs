use http::{Request, Response};

#[wacht::protect(permission = "user:read")]
#[utoipa::path(get, path = "/users", security(("bearer" = [])), responses((status = 200, description = "Users.")))]
async fn users(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::machine(resource = "/machine/users")]
#[utoipa::path(get, path = "/machine/users", security(()))]
async fn machine_users(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
