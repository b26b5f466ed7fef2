use http::Response;

#[wacht::machine(permission = "user:read")]
async fn handler() -> Response<String> {
    Response::new(String::new())
}

fn main() {}
