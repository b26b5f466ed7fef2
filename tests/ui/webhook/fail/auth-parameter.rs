use http::{Request, Response};

#[wacht::webhook]
async fn with_auth(_req: Request<String>, _auth: wacht::Auth) -> Response<String> {
    Response::new(String::new())
}

#[wacht::webhook]
async fn with_machine_auth(_req: Request<String>, _auth: wacht::MachineAuth) -> Response<String> {
    Response::new(String::new())
}

#[wacht::webhook]
async fn with_optional_event(_req: Request<String>, _event: Option<wacht::WebhookEvent>) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
