use http::{Request, Response};

#[wacht::webhook(
    event = "user.created",
    events = ["user.updated"],
    secret_env = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    max_body_bytes = 0,
    tolerance_seconds = "300",
    dedup = true
)]
async fn handler(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::webhook(events = [], secret_env = "MY SECRET", max_body_bytes = 100_000_000, tolerance_seconds = 60u32)]
async fn more(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::webhook(events = ["user.created", "user.created", "a b", ""])]
async fn list(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
