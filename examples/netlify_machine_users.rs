//! The guide's second Netlify function, run against a local Wacht: the function itself is
//! `examples/netlify-site/netlify/functions/machine-users/src/main.rs` (what is deployed),
//! included here as it is; this file adds the local demo.
//!
//! ```text
//! cargo run --example netlify_machine_users   # a local Wacht, every outcome shown
//! ```
//!
//! `main` starts the built-in local Wacht (gateway and backend API on 127.0.0.1), creates two
//! API keys, feeds the handler the event Netlify's tooling sends (`netlify functions:serve`,
//! site not linked), read by `wacht::netlify::request_from_event` as `wacht::netlify::run`
//! reads it, with no key, a key without `user:read` and one with it, prints each answer, and
//! exits non-zero when a status is not the expected one. With `AWS_LAMBDA_RUNTIME_API` set (a
//! test running it as a Lambda function), it serves invocations as the deployed function
//! does.
#![allow(clippy::print_stdout)]

#[path = "netlify-site/netlify/functions/machine-users/src/main.rs"]
#[allow(dead_code)] // its `main`: the binary's entry point
mod function;

use lambda_http::tower::ServiceExt as _;
use lambda_http::{Body, Error, service_fn};
use serde_json::{Value, json};
use wacht::Wacht;
use wacht::testing::{ApiKeySpec, LocalWacht};

pub use function::handler;

/// With `AWS_LAMBDA_RUNTIME_API` set: the deployed function's own serving (function log,
/// `wacht::netlify::run`). Anywhere else: the local demo. Public so tests can run it as a
/// function.
#[tokio::main]
#[allow(dead_code)] // the example's entry point; unused where a test includes this file
pub async fn main() -> Result<(), Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Run as a Lambda function: exactly what the deployed binary does.
        return function::serve().await;
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

/// Calls the function with no API key, a key without `user:read` and one with it, prints
/// each answer, and returns how many statuses differed from 401 / 403 / 200.
pub async fn demo(local: &LocalWacht, wacht: &Wacht) -> Result<usize, Error> {
    let writer = local.create_api_key(
        ApiKeySpec::new()
            .name("billing job")
            .permissions(["billing:write"]),
    );
    let reader = local.create_api_key(
        ApiKeySpec::new()
            .name("reporting job")
            .permissions(["user:read"]),
    );
    let cases = [
        ("no API key", None, 401),
        ("API key without user:read", Some(writer.secret()), 403),
        ("API key with user:read", Some(reader.secret()), 200),
    ];
    let mut wrong = 0;
    for (name, key, expected) in cases {
        let (status, body) = invoke(wacht, key).await?;
        let mark = if status == expected { "ok " } else { "BAD" };
        let shown: String = body.chars().take(160).collect();
        println!("[{mark}] {name:<30} -> {status}  {shown}");
        if status != expected {
            wrong += 1;
        }
    }
    Ok(wrong)
}

/// What `wacht::netlify::run` does with one Netlify event: event → `lambda_http::Request` →
/// `service_fn(handler)`. `wacht` rides in the request's extensions.
pub async fn invoke(wacht: &Wacht, api_key: Option<&str>) -> Result<(u16, String), Error> {
    let mut headers = json!({ "host": "example.netlify.app", "user-agent": "demo" });
    if let Some(key) = api_key {
        headers["x-api-key"] = key.into();
    }
    let event = netlify_event(headers).to_string();
    let mut request = wacht::netlify::request_from_event(event.as_bytes())?;
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

/// The event Netlify's tooling sends (netlify-cli 26.2.0, `netlify functions:serve`, a site
/// not linked) for `GET /.netlify/functions/machine-users`: `x-nf-account-id: [null]` among the
/// headers, `isBase64Encoded: true` and no body, a synthetic `requestContext`.
fn netlify_event(headers: Value) -> Value {
    let path = "/.netlify/functions/machine-users";
    let mut multi = serde_json::Map::new();
    if let Value::Object(headers) = &headers {
        for (name, value) in headers {
            multi.insert(name.clone(), json!([value]));
        }
    }
    multi.insert("x-nf-account-id".to_owned(), json!([null]));
    multi.insert("x-nf-site-id".to_owned(), json!(["unlinked"]));
    json!({
        "resource": "",
        "path": path,
        "httpMethod": "GET",
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "headers": headers,
        "multiValueHeaders": multi,
        "isBase64Encoded": true,
        "rawUrl": format!("http://localhost:9999{path}"),
        "rawQuery": "",
        "requestContext": { "httpMethod": "GET", "requestTimeEpoch": 0 }
    })
}
