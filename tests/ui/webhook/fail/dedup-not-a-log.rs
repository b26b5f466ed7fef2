use http::{Request, Response};

fn not_a_log() -> u8 {
    7
}

#[wacht::webhook(dedup = not_a_log)]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
