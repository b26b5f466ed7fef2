use http::{Request, Response};

#[wacht::machine(method = "GET", resource = "/machine/users", method = "POST")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
