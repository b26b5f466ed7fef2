use http::{Request, Response};

/// The application's own type, named like the identity.
struct Auth {
    #[allow(dead_code)]
    name: String,
}

#[wacht::protect]
async fn handler(_req: Request<String>, _auth: Auth) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
