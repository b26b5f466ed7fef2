//! A machine handler's future is `Send` when its parameters are, so multi-threaded servers
//! (tokio, axum, hyper) can run it.

use http::{Request, Response};

fn assert_send<T: Send>(value: T) -> T {
    value
}

#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn handler(req: Request<String>, auth: wacht::MachineAuth) -> Response<String> {
    // Something held across an await in the body, too.
    let path = req.uri().path().to_owned();
    tokio::task::yield_now().await;
    Response::new(format!("{path} {}", auth.request_id().unwrap_or("-")))
}

struct Api;

impl Api {
    #[wacht::machine(principal = "any")]
    async fn method(&self, _req: Request<Vec<u8>>) -> Result<Response<String>, String> {
        Ok(Response::new(String::new()))
    }
}

fn main() {
    let _ = assert_send(handler(Request::new(String::new())));
    let _ = assert_send(Api.method(Request::new(Vec::new())));
}
