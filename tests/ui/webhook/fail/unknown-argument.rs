use http::{Request, Response};

#[wacht::webhook(evnt = "user.created")]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
