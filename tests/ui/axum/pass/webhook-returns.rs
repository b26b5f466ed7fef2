//! With the `axum` feature, `#[wacht::webhook]` handlers return anything `IntoResponse`, with
//! and without a delivery log (which reads the converted answer's status).
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;

#[wacht::webhook(event = "user.created")]
async fn plain(_req: Request, event: wacht::WebhookEvent) -> impl IntoResponse {
    (StatusCode::ACCEPTED, Json(serde_json::json!({ "id": event.id() })))
}

#[wacht::webhook(dedup)]
async fn logged(_req: Request, event: wacht::WebhookEvent) -> Result<Json<String>, StatusCode> {
    if event.event_type().is_empty() {
        return Err(StatusCode::UNPROCESSABLE_ENTITY);
    }
    Ok(Json(event.id().to_owned()))
}

fn main() {
    let _: axum::Router = axum::Router::new()
        .route("/plain", axum::routing::post(plain))
        .route("/logged", axum::routing::post(logged));
}
