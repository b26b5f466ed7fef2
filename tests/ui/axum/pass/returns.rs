//! With the `axum` feature, handlers keep axum's idiomatic return types under both
//! attributes: `impl IntoResponse`, `Json<T>`, `(StatusCode, Json<T>)`,
//! `Result<Json<T>, AppError>`, `Html<String>`.

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

struct AppError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, "app error").into_response()
    }
}

fn parse(text: &str) -> Result<u32, AppError> {
    text.parse().map_err(|_| AppError)
}

#[wacht::protect(permission = "user:read")]
async fn opaque(_req: Request, auth: wacht::Auth) -> impl IntoResponse {
    format!("hello {}", auth.user_id())
}

#[wacht::protect]
async fn json(_req: Request) -> Json<Vec<u32>> {
    Json(vec![1, 2])
}

#[wacht::protect]
async fn tuple(_req: Request) -> (StatusCode, Json<u32>) {
    (StatusCode::CREATED, Json(1))
}

#[wacht::protect]
async fn result(req: Request) -> Result<Json<u32>, AppError> {
    // `?` and `return` keep their meaning.
    if req.uri().path() == "/early" {
        return Ok(Json(0));
    }
    let value = parse(req.uri().query().unwrap_or("1"))?;
    Ok(Json(value))
}

#[wacht::protect]
async fn html(_req: Request) -> Html<String> {
    Html("<p>hi</p>".to_owned())
}

#[wacht::machine(resource = "/machine/users", method = "GET")]
async fn machine_opaque(_req: Request, auth: wacht::MachineAuth) -> impl IntoResponse {
    format!("{:?}", auth.key_id())
}

#[wacht::machine]
async fn machine_json(_req: Request) -> Json<u32> {
    Json(1)
}

#[wacht::machine]
async fn machine_tuple(_req: Request) -> (StatusCode, Json<u32>) {
    (StatusCode::ACCEPTED, Json(1))
}

#[wacht::machine]
async fn machine_result(req: Request) -> Result<Json<u32>, AppError> {
    Ok(Json(parse(req.uri().query().unwrap_or("1"))?))
}

#[wacht::machine]
async fn machine_html(_req: Request) -> Html<&'static str> {
    Html("<p>hi</p>")
}

fn main() {
    // Each is an axum handler returning `axum::response::Response`.
    let _: axum::Router = axum::Router::new()
        .route("/opaque", axum::routing::get(opaque))
        .route("/json", axum::routing::get(json))
        .route("/tuple", axum::routing::get(tuple))
        .route("/result", axum::routing::get(result))
        .route("/html", axum::routing::get(html))
        .route("/m/opaque", axum::routing::get(machine_opaque))
        .route("/m/json", axum::routing::get(machine_json))
        .route("/m/tuple", axum::routing::get(machine_tuple))
        .route("/m/result", axum::routing::get(machine_result))
        .route("/m/html", axum::routing::get(machine_html));
}
