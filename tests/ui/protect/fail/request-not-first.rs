use http::{Request, Response};

struct Context;

#[wacht::protect]
async fn handler(_ctx: Context, _req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
