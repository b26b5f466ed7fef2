use http::Request;

trait IntoResponse {}

impl IntoResponse for String {}

#[wacht::protect(permission = "user:read")]
async fn handler(_req: Request<String>) -> impl IntoResponse {
    String::new()
}

fn main() {}
