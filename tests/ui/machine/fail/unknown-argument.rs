use http::{Request, Response};

#[wacht::machine(resourse = "/machine/users")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
