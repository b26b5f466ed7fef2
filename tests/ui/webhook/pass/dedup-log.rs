//! `dedup = path`: your delivery log, over your store.
use http::{Request, Response};
use wacht::webhook::{Claim, DeliveryLog, DeliveryLogError, LogFuture};

struct Store;

impl DeliveryLog for Store {
    fn claim<'a>(&'a self, _id: &'a str, _now: i64, _until: i64) -> LogFuture<'a, Result<Claim, DeliveryLogError>> {
        Box::pin(async { Ok(Claim::New) })
    }
    fn finish<'a>(&'a self, _id: &'a str, _handled: bool) -> LogFuture<'a, ()> {
        Box::pin(async {})
    }
}

fn store() -> Store {
    Store
}

#[wacht::webhook(dedup = store)]
async fn once(_req: Request<String>) -> Result<Response<String>, std::convert::Infallible> {
    // `return` and `?` keep their meaning in the body run under a log.
    if false {
        return Ok(Response::new("early".to_owned()));
    }
    let n: u8 = Ok::<u8, std::convert::Infallible>(1)?;
    Ok(Response::new(n.to_string()))
}

fn main() {
    let _ = once;
}
