use http::Request;

#[wacht::machine(resource = "/machine/users")]
async fn handler(_req: Request<String>) -> impl std::fmt::Display {
    String::new()
}

fn main() {}
