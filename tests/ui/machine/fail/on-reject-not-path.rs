use http::{Request, Response};

#[wacht::machine(on_reject = "my_rejection")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
