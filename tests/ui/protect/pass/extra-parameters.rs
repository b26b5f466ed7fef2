//! Parameters after the request pass through untouched (a Lambda context, server state, …).

use http::{Request, Response};
use std::sync::Arc;

struct Context {
    id: String,
}

#[wacht::protect(any = ["user:read", "user:admin"])]
async fn handler(
    mut req: Request<String>,
    ctx: Context,
    state: Arc<Vec<u8>>,
    (a, b): (u8, u8),
) -> Response<String> {
    req.body_mut().push('!');
    Response::new(format!(
        "{} {} {} {}",
        ctx.id,
        state.len(),
        a + b,
        req.body()
    ))
}

fn main() {
    let ctx = Context { id: String::new() };
    let _ = handler(
        Request::new(String::new()),
        ctx,
        Arc::new(Vec::new()),
        (1, 2),
    );
}
