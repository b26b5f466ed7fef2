//! The expansion's internal names are hygienic: the user's own parameters and locals named
//! like them neither see nor capture them. (They stand only for a request or identity bound
//! by a pattern or `_`; a module-level *constant* of such a name clashes there, since rustc
//! resolves binding patterns against items whatever the span.)

use http::{Request, Response};

#[wacht::protect(permission = "user:read")]
async fn handler(
    __wacht_request: Request<String>,
    __wacht_auth: wacht::Auth,
) -> Response<String> {
    let __wacht_rejection = "the user's own";
    Response::new(format!(
        "{} {} {}",
        __wacht_request.uri(),
        __wacht_auth.user_id(),
        __wacht_rejection
    ))
}

#[wacht::machine]
async fn machine(_: Request<String>, auth: wacht::MachineAuth) -> Response<String> {
    let __wacht_auth: u8 = 7; // not the identity: the user's own
    Response::new(format!("{:?} {__wacht_auth}", auth.key_id()))
}

fn main() {
    let _ = handler(Request::new(String::new()));
    let _ = machine(Request::new(String::new()));
}
