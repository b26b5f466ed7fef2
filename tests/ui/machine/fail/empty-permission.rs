use http::{Request, Response};

#[wacht::machine(permission = "")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
