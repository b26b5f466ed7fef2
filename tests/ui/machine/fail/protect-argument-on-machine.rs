use http::{Request, Response};

#[wacht::machine(resource = "/machine/users", organization_id = "org_123")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
