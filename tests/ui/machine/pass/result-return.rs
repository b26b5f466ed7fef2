//! `Result<http::Response<B>, E>`: a rejection comes back as `Ok`; `?` in the body still
//! means the handler's own error.

use http::{Request, Response};

#[derive(Debug)]
struct MyError;

impl From<std::num::ParseIntError> for MyError {
    fn from(_: std::num::ParseIntError) -> Self {
        MyError
    }
}

#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn handler(req: Request<String>) -> Result<Response<String>, MyError> {
    let n: u32 = req.body().parse()?;
    if n == 0 {
        return Err(MyError);
    }
    Ok(Response::new(n.to_string()))
}

type AppResult<T> = Result<T, MyError>;

#[wacht::machine(principal = "oauth_access_token")]
async fn aliased(_req: Request<String>) -> AppResult<Response<String>> {
    Ok(Response::new(String::new()))
}

fn main() {
    let _ = handler(Request::new(String::new()));
    let _ = aliased(Request::new(String::new()));
}
