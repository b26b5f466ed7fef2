use http::{Request, Response};

#[wacht::machine(permission = "user:read", all = ["user:read", "user:write"])]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
