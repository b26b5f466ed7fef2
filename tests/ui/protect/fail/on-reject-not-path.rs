use http::{Request, Response};

#[wacht::protect(on_reject = |rejection| rejection.into_response())]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
