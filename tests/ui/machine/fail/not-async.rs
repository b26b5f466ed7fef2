use http::{Request, Response};

#[wacht::machine(resource = "/machine/users", method = "GET")]
fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
