//! `optional`: signed-out callers reach the handler with `None`.

use http::{Request, Response};

#[wacht::protect(optional)]
async fn home(_req: Request<String>, auth: Option<wacht::Auth>) -> Response<String> {
    Response::new(match auth {
        Some(auth) => format!("hello {}", auth.user_id()),
        None => "hello stranger".to_owned(),
    })
}

#[wacht::protect(optional, on_reject = reject)]
async fn with_options(req: Request<()>, first: Option<wacht::Auth>, again: Option<wacht::Auth>) -> Response<String> {
    Response::new(format!("{} {} {}", req.uri(), first.is_some(), again.is_some()))
}

fn reject(rejection: wacht::Rejection) -> Response<String> {
    rejection.into_response()
}

fn main() {
    let _ = home(Request::new(String::new()));
    let _ = with_options(Request::new(()));
}
