//! `sign_in_redirect = false`: with browser sessions, signed-out page requests get the JSON 401.
//! Also: a handler that `return`s early and uses `?` keeps its meaning (the body runs in an
//! async closure with the declared return type), and a return type that cannot carry the
//! session cookies (through `on_reject`) still compiles.

use http::{Request, Response};

#[wacht::protect(permission = "user:read", sign_in_redirect = false)]
async fn api(req: Request<String>) -> Result<Response<String>, std::num::ParseIntError> {
    if req.uri().path() == "/early" {
        return Ok(Response::new("early".to_owned()));
    }
    let page: u32 = req.uri().query().unwrap_or("1").parse()?;
    Ok(Response::new(page.to_string()))
}

#[wacht::protect(sign_in_redirect = true)]
async fn page(_req: Request<String>) -> Response<String> {
    Response::new("page".to_owned())
}

struct Custom(u16);

fn custom(rejection: wacht::Rejection) -> Custom {
    Custom(rejection.status().as_u16())
}

#[wacht::protect(on_reject = custom)]
async fn any_type(_req: Request<()>) -> Custom {
    Custom(200)
}

fn main() {
    let _ = api(Request::new(String::new()));
    let _ = page(Request::new(String::new()));
    let _ = any_type(Request::new(()));
}
