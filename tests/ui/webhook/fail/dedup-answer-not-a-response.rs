//! With a delivery log, the answer's status is read: a return type without one is refused.
use http::Request;

fn answer(_rejection: wacht::Rejection) -> String {
    String::new()
}

#[wacht::webhook(dedup, on_reject = answer)]
async fn handler(_req: Request<String>) -> String {
    String::new()
}

fn main() {}
