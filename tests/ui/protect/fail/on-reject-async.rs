use http::{Request, Response};

async fn reject(rejection: wacht::Rejection) -> Response<String> {
    Response::new(rejection.to_string())
}

#[wacht::protect(on_reject = reject)]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
