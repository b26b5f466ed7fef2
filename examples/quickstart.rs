//! The guide's two protected functions, on a local Wacht: no account, no network.
//!
//! ```text
//! cargo run --example quickstart            # shows every outcome, exits 0 when each is right
//! cargo run --example quickstart -- --serve # keeps serving; prints curl commands and an env file
//! ```
//!
//! It starts the built-in local Wacht (JWKS and gateway on 127.0.0.1), installs a
//! configuration pointing at it, serves a `#[wacht::protect]`ed function, a
//! `#[wacht::machine]` function and a `#[wacht::webhook]` function over HTTP on 127.0.0.1, and
//! sends real requests with real signed session tokens, real API keys and webhook deliveries
//! signed as Wacht signs them.
#![allow(clippy::print_stdout)]

use std::convert::Infallible;
use std::error::Error;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use serde_json::json;
use wacht::testing::{ApiKeySpec, LocalWacht, OutgoingEvent, RateLimitRule, serve};
use wacht::{Auth, MachineAuth, WebhookEvent};

/// The guide's admin function: only signed-in users holding `user:read` get here.
#[wacht::protect(permission = "user:read")]
async fn admin_users(_req: Request<String>, auth: Auth) -> Result<Response<String>, Infallible> {
    let body = json!({
        "message": "the handler ran",
        "user_id": auth.user_id(),
        "session_id": auth.session_id(),
        "organization_id": auth.organization_id(),
    });
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(body.to_string())
        .unwrap_or_default())
}

/// The guide's machine function: only API keys the gateway allows for `GET /machine/users`
/// with `user:read` get here.
#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn machine_users(
    _req: Request<String>,
    auth: MachineAuth,
) -> Result<Response<String>, Infallible> {
    let body = json!({
        "message": "the handler ran",
        "key_name": auth.key_name(),
        "request_id": auth.request_id(),
    });
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(body.to_string())
        .unwrap_or_default())
}

/// Wacht's own call: a `user.created` delivery, run only when its signature verifies.
#[wacht::webhook(event = "user.created")]
async fn user_created(
    _req: Request<String>,
    event: WebhookEvent,
) -> Result<Response<String>, Infallible> {
    let body = json!({
        "message": "the handler ran",
        "webhook_id": event.id(),
        "first_name": event.data()["first_name"],
    });
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(body.to_string())
        .unwrap_or_default())
}

/// Delivers one event and prints the outcome; returns whether the status was the expected one.
async fn show_delivery(
    local: &LocalWacht,
    name: &str,
    url: &str,
    event: &OutgoingEvent,
    expected: StatusCode,
) -> Result<bool, Box<dyn Error>> {
    let delivered = local.deliver(url, event).await?;
    let status = delivered.status;
    let mark = if status == expected { "ok " } else { "BAD" };
    println!(
        "[{mark}] {name:<34} -> {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    if !delivered.body.is_empty() {
        println!("      {}", delivered.body);
    }
    Ok(status == expected)
}

/// Sends one request and prints its outcome; returns whether the status was the expected one.
async fn show(
    name: &str,
    request: reqwest::RequestBuilder,
    expected: StatusCode,
) -> Result<bool, Box<dyn Error>> {
    let response = request.send().await?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(|v| format!(" (Retry-After: {v})"))
        .unwrap_or_default();
    let body = response.text().await?;
    let mark = if status == expected { "ok " } else { "BAD" };
    println!(
        "[{mark}] {name:<34} -> {} {}{retry_after}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    println!("      {body}");
    Ok(status == expected)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let keep_serving = std::env::args().any(|arg| arg == "--serve");

    // 1. A local Wacht, and the process-wide configuration pointing at it. In production
    //    this step is just the WACHT_PUBLISHABLE_KEY environment variable.
    let local = LocalWacht::start()?;
    wacht::init(local.config())?;

    // 2. The protected function, served over HTTP.
    let server = serve(admin_users).await?;
    let url = format!("{}/.netlify/functions/admin-users", server.url());
    println!("local Wacht:        {}", local.url());
    println!("protected function: {url}\n");

    let now = wacht::Clock::system().now();
    // Session tokens minted by the local Wacht, signed with its key.
    let expired = local
        .token()
        .subject("user_alice")
        .issued_at(now - 7200)
        .expires_at(now - 3600)
        .sign();
    let without_permission = local
        .token()
        .subject("user_bob")
        .organization("org_1")
        .sign();
    let with_permission = local
        .token()
        .subject("user_carol")
        .organization("org_1")
        .organization_permissions(["user:read"])
        .sign();

    let cases = [
        ("no token", None, StatusCode::UNAUTHORIZED),
        ("expired token", Some(&expired), StatusCode::UNAUTHORIZED),
        (
            "signed in, without user:read",
            Some(&without_permission),
            StatusCode::FORBIDDEN,
        ),
        (
            "signed in, with user:read",
            Some(&with_permission),
            StatusCode::OK,
        ),
    ];

    let http = reqwest::Client::new();
    let mut wrong = 0;
    println!("Session tokens (#[wacht::protect(permission = \"user:read\")]):");
    for (name, token, expected) in cases {
        let mut request = http.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if !show(name, request, expected).await? {
            wrong += 1;
        }
    }

    // The machine function: API keys checked by the (local) gateway.
    let machine = serve(machine_users).await?;
    let machine_url = format!("{}/.netlify/functions/machine-users", machine.url());
    let reader = local.create_api_key(
        ApiKeySpec::new()
            .name("reporting job")
            .permissions(["user:read"])
            .rate_limit(RateLimitRule::per_key(
                "burst",
                3,
                Duration::from_secs(3600),
            )),
    );
    let writer = local.create_api_key(
        ApiKeySpec::new()
            .name("billing job")
            .permissions(["billing:write"]),
    );
    let unknown = format!("wk_test_{}", "x".repeat(43));
    println!(
        "\nAPI keys (#[wacht::machine(resource = \"/machine/users\", method = \"GET\", permission = \"user:read\")]):"
    );
    let machine_cases = [
        ("no API key", None, StatusCode::UNAUTHORIZED),
        (
            "unknown API key",
            Some(unknown.as_str()),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "API key without user:read",
            Some(writer.secret()),
            StatusCode::FORBIDDEN,
        ),
        (
            "API key with user:read (1 of 3/hour)",
            Some(reader.secret()),
            StatusCode::OK,
        ),
        (
            "same key (2 of 3/hour)",
            Some(reader.secret()),
            StatusCode::OK,
        ),
        (
            "same key (3 of 3/hour)",
            Some(reader.secret()),
            StatusCode::OK,
        ),
        (
            "same key, past the limit",
            Some(reader.secret()),
            StatusCode::TOO_MANY_REQUESTS,
        ),
    ];
    for (name, key, expected) in machine_cases {
        let mut request = http.get(&machine_url);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        if !show(name, request, expected).await? {
            wrong += 1;
        }
    }

    // Wacht's own calls: webhook deliveries, signed with the endpoint's secret. In production
    // the secret is the WACHT_WEBHOOK_SECRET environment variable; here the local Wacht's
    // secret rides in each request's extensions.
    let secrets = local.webhook_secrets();
    let hooks = serve(move |mut req: Request<String>| {
        req.extensions_mut().insert(secrets.clone());
        user_created(req)
    })
    .await?;
    let hooks_url = format!("{}/.netlify/functions/user-created", hooks.url());
    println!("\nWebhooks (#[wacht::webhook(event = \"user.created\")]):");
    let ava = json!({ "entity_id": 42, "entity_type": "user", "id": "42", "first_name": "Ava" });
    let now = wacht::Clock::system().now();
    let webhook_cases = [
        (
            "delivery signed by Wacht",
            OutgoingEvent::new("user.created", ava.clone()),
            StatusCode::OK,
        ),
        (
            "forged (another secret)",
            OutgoingEvent::new("user.created", ava.clone())
                .signed_with("whsec_ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q="),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "replayed 10 minutes later",
            OutgoingEvent::new("user.created", ava.clone()).timestamp(now - 600),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "user.deleted (not handled here)",
            OutgoingEvent::new("user.deleted", ava.clone()),
            StatusCode::NO_CONTENT,
        ),
    ];
    for (name, event, expected) in webhook_cases {
        if !show_delivery(&local, name, &hooks_url, &event, expected).await? {
            wrong += 1;
        }
    }

    if keep_serving {
        println!("\nServing until Ctrl-C. Try:");
        println!("  curl -i {url}");
        println!("  curl -i -H 'Authorization: Bearer {expired}' {url}");
        println!("  curl -i -H 'Authorization: Bearer {without_permission}' {url}");
        println!("  curl -i -H 'Authorization: Bearer {with_permission}' {url}");
        let fresh = local.create_api_key(ApiKeySpec::new().name("curl").permissions(["user:read"]));
        println!("  curl -i -H 'x-api-key: {}' {machine_url}", fresh.secret());
        // Everything a function needs to run against this local Wacht (e.g. the Netlify
        // examples under `cargo lambda watch --env-file wacht.env`). Values are quoted: the
        // publishable key ends in base64 padding (`=`), which unquoted env-file loaders refuse.
        let env_file = [
            ("WACHT_PUBLISHABLE_KEY", local.publishable_key()),
            ("WACHT_GATEWAY_URL", local.url().to_owned()),
            ("WACHT_BACKEND_API_URL", local.url().to_owned()),
            ("WACHT_API_KEY", local.backend_api_key()),
            (
                "WACHT_TEST_API_KEY_WITH_USER_READ",
                fresh.secret().to_owned(),
            ),
            (
                "WACHT_TEST_API_KEY_WITHOUT_USER_READ",
                writer.secret().to_owned(),
            ),
            ("WACHT_TEST_TOKEN_WITH_USER_READ", with_permission.clone()),
            (
                "WACHT_TEST_TOKEN_WITHOUT_USER_READ",
                without_permission.clone(),
            ),
            ("WACHT_TEST_TOKEN_EXPIRED", expired.clone()),
            ("WACHT_WEBHOOK_SECRET", local.webhook_secret()),
        ];
        println!("\nAs an env file (save it as wacht.env):\n");
        for (name, value) in env_file {
            println!("{name}=\"{value}\"");
        }
        tokio::signal::ctrl_c().await?;
    }

    if wrong > 0 {
        return Err(format!("{wrong} outcome(s) differed from the expected status").into());
    }
    println!("\nall outcomes as expected");
    Ok(())
}
