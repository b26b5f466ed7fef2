use http::Response;

struct Context;

#[wacht::protect]
async fn handler(_ctx: Context) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
