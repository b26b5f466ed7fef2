use http::Request;

#[wacht::protect(permission = "user:read")]
async fn handler(_req: Request<String>) -> Result<String, std::io::Error> {
    Ok(String::new())
}

fn main() {}
