use http::{Request, Response};

#[wacht::protect]
async fn handler(req: &Request<String>) -> Response<String> {
    Response::new(req.body().clone())
}

fn main() {}
