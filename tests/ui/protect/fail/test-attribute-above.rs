use http::{Request, Response};

#[tokio::test]
#[wacht::protect]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
