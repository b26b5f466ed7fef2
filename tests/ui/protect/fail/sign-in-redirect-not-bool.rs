use http::{Request, Response};

#[wacht::protect(sign_in_redirect = "no")]
async fn page(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
