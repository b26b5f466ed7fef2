use http::{Request, Response};

#[wacht::protect(optional)]
async fn handler(_req: Request<String>, _auth: wacht::Auth) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
