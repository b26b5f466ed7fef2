use http::{Request, Response};

#[wacht::protect]
async unsafe fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
