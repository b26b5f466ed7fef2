//! A type error in the handler's body is reported in the user's code, as without the macro.

use http::{Request, Response};

#[wacht::machine(resource = "/machine/users", method = "GET")]
async fn handler(_req: Request<String>, auth: wacht::MachineAuth) -> Response<String> {
    let permissions: Vec<&str> = auth.permissions().to_vec();
    Response::new(permissions.join(","))
}

fn main() {
    let _ = handler(Request::new(String::new()));
}
