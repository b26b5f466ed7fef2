use http::{Request, Response};

#[wacht::machine(resource = "urn:wacht:")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
