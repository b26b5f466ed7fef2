//! Generic handlers, bounds in a where clause, lifetimes: kept as written.

use http::{Request, Response};

#[wacht::protect(all = ["user:read", "user:write"])]
async fn generic<B, S>(req: Request<B>, state: &S) -> Response<String>
where
    B: Send + 'static,
    S: AsRef<str> + ?Sized,
{
    Response::new(format!("{} {}", req.uri(), state.as_ref()))
}

#[wacht::protect]
async fn generic_response<'a, T>(_req: Request<&'a [u8]>, _tag: T) -> Response<T>
where
    T: From<String>,
{
    Response::new(T::from(String::new()))
}

fn main() {
    let _ = generic(Request::new(()), "state");
    let _ = generic_response::<String>(Request::new(&[][..]), String::new());
}
