use http::{Request, Response};

#[wacht::protect]
async fn handler(_req: Request<String>, _auth: Option<wacht::Auth>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
