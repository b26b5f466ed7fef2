use http::{Request, Response};

// The machine side is checked as `#[wacht::machine]` is.
#[wacht::protect(or_machine(method = "get", organization_id = "o"))]
async fn lowercase(_req: Request<String>, _caller: wacht::Caller) -> Response<String> {
    Response::new(String::new())
}

#[wacht::protect(or_machine(on_reject = reject))]
async fn inner_on_reject(_req: Request<String>, _caller: wacht::Caller) -> Response<String> {
    Response::new(String::new())
}

#[wacht::protect(optional, or_machine(method = "GET"))]
async fn with_optional(_req: Request<String>, _caller: wacht::Caller) -> Response<String> {
    Response::new(String::new())
}

#[wacht::protect(or_machine = "x")]
async fn not_parenthesized(_req: Request<String>, _caller: wacht::Caller) -> Response<String> {
    Response::new(String::new())
}

fn reject(rejection: wacht::Rejection) -> Response<String> {
    rejection.into_response()
}

fn main() {}
