use http::{Request, Response};

#[wacht::protect(permission = "user:read")]
#[wacht::machine(resource = "/machine/users")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
