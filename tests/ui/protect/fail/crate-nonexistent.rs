use http::{Request, Response};

#[wacht::protect(crate = "nonexistent")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
