use http::{Request, Response};

#[wacht::protect(or_machine(method = "GET"))]
async fn needs_caller(_req: Request<String>, _auth: wacht::Auth) -> Response<String> {
    Response::new(String::new())
}

#[wacht::protect]
async fn caller_without_or_machine(_req: Request<String>, _caller: wacht::Caller) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
