use http::{Request, Response};

#[wacht::machine(principal = "session")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
