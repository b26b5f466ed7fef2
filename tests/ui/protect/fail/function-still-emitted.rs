//! With wrong arguments the function is still emitted as written: the only error is the
//! argument's, not a cascade of "cannot find function `handler`" where it is used.

use http::{Request, Response};

#[wacht::protect(permision = "user:read")]
async fn handler(req: Request<String>) -> Response<String> {
    Response::new(req.into_body())
}

fn main() {
    let _ = handler(Request::new(String::new()));
}
