use http::{Request, Response};

#[wacht::protect(organization_id = "org_1", organization_id = "org_2")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
