use http::{Request, Response};

fn reject(rejection: wacht::Rejection) -> Response<String> {
    rejection.into_response()
}

// `on_reject` returns the handler's whole return type: here `Result<…>`, so the function
// must return `Ok(…)` (or `Err(…)`) itself.
#[wacht::protect(on_reject = reject)]
async fn handler(_req: Request<String>) -> Result<Response<String>, std::io::Error> {
    Ok(Response::new(String::new()))
}

fn main() {}
