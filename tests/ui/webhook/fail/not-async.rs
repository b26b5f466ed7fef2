use http::{Request, Response};

#[wacht::webhook]
fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
