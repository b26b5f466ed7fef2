//! The guide's first Netlify function in Rust: an admin endpoint that only signed-in users
//! holding `user:read` reach, listing 20 users through the backend API.
//!
//! ```text
//! cargo run --example netlify_admin_users   # locally: a local Wacht, every outcome shown
//! ```
//!
//! Deployed as a Netlify (or AWS Lambda) function, the platform sets
//! `AWS_LAMBDA_RUNTIME_API` and `main` hands the handler to `lambda_http::run`. The function
//! is configured by the environment:
//!
//! | variable | used for |
//! |---|---|
//! | `WACHT_PUBLISHABLE_KEY` | verifying session tokens (JWKS of the deployment) |
//! | `WACHT_API_KEY` | the backend API (`GET /users`) |
//! | `WACHT_BACKEND_API_URL` | optional, default `https://api.wacht.dev` |
//!
//! Anywhere else, `main` starts the built-in local Wacht (JWKS and backend API on
//! 127.0.0.1), drives the handler the way `lambda_http::run` does (a Netlify event turned
//! into a `lambda_http::Request`) with no token, a token without `user:read` and one with
//! it, prints each answer, and exits non-zero when a status is not the expected one.
#![allow(clippy::print_stdout)]

use lambda_http::tower::ServiceExt as _;
use lambda_http::{Body, Error, Request, Response, service_fn};
use serde_json::{Value, json};
use wacht::testing::LocalWacht;
use wacht::{Auth, ListUsersOptions, Wacht};

/// `/.netlify/functions/admin-users`: the first 20 users, for callers holding `user:read`.
/// Everyone else gets the JSON 401 / 403 of `#[wacht::protect]`; the body never runs for
/// them.
#[wacht::protect(permission = "user:read")]
pub async fn handler(req: Request, auth: Auth) -> Result<Response<Body>, Error> {
    // The context that verified the caller: the process-wide one (from the environment)
    // in production, the one a test put in the request's extensions otherwise.
    let wacht = Wacht::for_request(&req)?;
    // Its calls end before the invocation's deadline (feature `lambda`).
    let listed = wacht
        .backend_for(&req)
        .users()
        .list(ListUsersOptions::new().limit(20))
        .await;
    match listed {
        Ok(page) => json_response(
            200,
            &json!({
                "users": page.data,
                "total": page.total,
                "has_more": page.has_more,
                "requested_by": auth.user_id(),
            }),
        ),
        Err(error) => {
            // The status and message go to the function's log; the API key never does.
            tracing::error!(reason = error.reason(), %error, "listing users failed");
            json_response(
                502,
                &json!({
                    "error": "backend_unavailable",
                    "message": "The user list could not be fetched.",
                }),
            )
        }
    }
}

fn json_response(status: u16, body: &Value) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string().into())?)
}

/// Deployed (`AWS_LAMBDA_RUNTIME_API` set): installs the function log and serves
/// invocations. Anywhere else: the local demo. Public so tests can run it as a function.
#[tokio::main]
#[allow(dead_code)] // the example's entry point; unused where a test includes this file
pub async fn main() -> Result<(), Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Deployed: Netlify / AWS Lambda invoke the function.
        init_function_log();
        return lambda_http::run(service_fn(handler)).await;
    }
    let local = LocalWacht::start()?;
    let wacht = Wacht::new(local.config())?;
    println!("local Wacht: {}\n", local.url());
    let wrong = demo(&local, &wacht).await?;
    if wrong > 0 {
        return Err(format!("{wrong} outcome(s) differed from the expected status").into());
    }
    println!("\nall outcomes as expected");
    Ok(())
}

/// The function's log: events at `info` and above (every refusal as a `wacht.check` event,
/// configuration errors, this function's own errors) on stdout, which Netlify and Lambda
/// collect. `AWS_LAMBDA_LOG_LEVEL` (`DEBUG`, `WARN`, …) changes the level. Tokens and keys
/// are never in it.
fn init_function_log() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|level| level.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    // `try_init`: a host that installed its own subscriber keeps it.
    let _ = tracing_subscriber::fmt()
        .with_ansi(false)
        .without_time()
        .with_max_level(level)
        .try_init();
}

/// Calls the function with no token, a token without `user:read` and one with it, prints
/// each answer, and returns how many statuses differed from 401 / 403 / 200.
pub async fn demo(local: &LocalWacht, wacht: &Wacht) -> Result<usize, Error> {
    let without_permission = local.token().subject("user_bob").sign();
    let reader = local
        .token()
        .subject("user_carol")
        .organization("org_1")
        .organization_permissions(["user:read"])
        .sign();
    let cases = [
        ("no token", None, 401),
        (
            "signed in, without user:read",
            Some(without_permission),
            403,
        ),
        ("signed in, with user:read", Some(reader), 200),
    ];
    let mut wrong = 0;
    for (name, token, expected) in cases {
        let authorization = token.map(|token| format!("Bearer {token}"));
        let (status, body) = invoke(wacht, authorization.as_deref()).await?;
        let mark = if status == expected { "ok " } else { "BAD" };
        let shown: String = body.chars().take(160).collect();
        println!("[{mark}] {name:<30} -> {status}  {shown}");
        if status != expected {
            wrong += 1;
        }
    }
    Ok(wrong)
}

/// What `lambda_http::run` does with one Netlify event: event → `lambda_http::Request` →
/// `service_fn(handler)`. `wacht` rides in the request's extensions.
pub async fn invoke(wacht: &Wacht, authorization: Option<&str>) -> Result<(u16, String), Error> {
    let mut headers = json!({ "host": "example.netlify.app", "user-agent": "demo" });
    if let Some(value) = authorization {
        headers["authorization"] = value.into();
    }
    let mut request = lambda_http::request::from_str(&netlify_event(headers).to_string())?;
    request.extensions_mut().insert(wacht.clone());
    let response = service_fn(handler).oneshot(request).await?;
    let status = response.status().as_u16();
    let body = match response.into_body() {
        Body::Text(text) => text,
        Body::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    };
    Ok((status, body))
}

/// The event Netlify Functions receive (API Gateway REST, payload 1.0) for
/// `GET /.netlify/functions/admin-users`.
fn netlify_event(headers: Value) -> Value {
    let path = "/.netlify/functions/admin-users";
    json!({
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {},
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "body": null,
        "isBase64Encoded": false,
        "requestContext": {
            "accountId": "000000000000",
            "resourceId": "admin-users",
            "stage": "prod",
            "requestId": "demo-1",
            "identity": { "sourceIp": "203.0.113.7", "userAgent": "demo" },
            "resourcePath": path,
            "httpMethod": "GET",
            "apiId": "netlify"
        },
        "resource": path
    })
}
