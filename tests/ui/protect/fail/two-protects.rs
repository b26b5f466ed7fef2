use http::{Request, Response};

#[wacht::protect(permission = "user:read")]
#[wacht::protect(permission = "user:write")]
async fn handler(_req: Request<String>, auth: wacht::Auth) -> Response<String> {
    Response::new(auth.user_id().to_owned())
}

fn main() {
    let _ = handler(Request::new(String::new()));
}
