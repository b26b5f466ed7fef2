use http::{Request, Response};

#[wacht::machine(permission = "user:read")]
async fn handler(_req: Request<String>, auth: wacht::Auth) -> Response<String> {
    Response::new(auth.user_id().to_owned())
}

fn main() {}
