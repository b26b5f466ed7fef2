use http::Response;

#[wacht::protect(permission = "user:read")]
async fn handler() -> Response<String> {
    Response::new(String::new())
}

fn main() {}
