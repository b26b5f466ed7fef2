//! The guide's first function, reduced to what the measurement needs: `#[wacht::protect]` and,
//! with feature `call`, the backend's user list.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[wacht::protect(permission = "user:read")]
async fn handler(req: Request) -> Result<Response<Body>, Error> {
    #[cfg(feature = "call")]
    let users = {
        let wacht = wacht::Wacht::for_request(&req)?;
        let page = wacht
            .backend_for(&req)
            .users()
            .list(wacht::backend_api::types::UsersListQuery::new().limit(20))
            .await?;
        serde_json::to_value(page.data)?
    };
    #[cfg(not(feature = "call"))]
    let users = {
        let _ = &req;
        serde_json::Value::Array(Vec::new())
    };
    Ok(Response::new(users.to_string().into()))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    wacht::netlify::run(service_fn(handler)).await
}
