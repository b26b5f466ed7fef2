use http::{Request, Response};

#[wacht::machine(header = "X-Custom-Key")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
