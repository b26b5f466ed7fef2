use http::Request;

#[wacht::protect]
async fn handler(_req: Request<String>) {}

fn main() {}
