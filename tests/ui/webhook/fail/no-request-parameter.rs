use http::Response;

#[wacht::webhook]
async fn handler(event: wacht::WebhookEvent) -> Response<String> {
    Response::new(event.id().to_owned())
}

fn main() {}
