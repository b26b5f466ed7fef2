use http::{Request, Response};

#[wacht::webhook(event = "user.craeted")]
async fn one(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

#[wacht::webhook(events = ["user.created", "User.Updated", "organisation.created"])]
async fn several(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
