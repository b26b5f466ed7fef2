//! A type error in the handler's body is reported in the user's code, as without the macro.

use http::{Request, Response};

#[wacht::protect(permission = "user:read")]
async fn handler(req: Request<String>, auth: wacht::Auth) -> Response<String> {
    let length: u32 = req.body().len();
    Response::new(format!("{length} {}", auth.user_id()))
}

fn main() {
    let _ = handler(Request::new(String::new()));
}
