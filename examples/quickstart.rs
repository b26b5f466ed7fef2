//! The guide's protected function, on a local Wacht: no account, no network.
//!
//! ```text
//! cargo run --example quickstart            # shows every outcome, exits 0 when each is right
//! cargo run --example quickstart -- --serve # keeps serving and prints curl commands
//! ```
//!
//! It starts the built-in local Wacht (JWKS on 127.0.0.1), installs a configuration
//! pointing at it, serves a `#[wacht::protect]`ed function over HTTP on 127.0.0.1, and sends
//! real requests with real signed session tokens.
#![allow(clippy::print_stdout)]

use std::convert::Infallible;
use std::error::Error;

use http::{Request, Response, StatusCode};
use serde_json::json;
use wacht::Auth;
use wacht::testing::{LocalWacht, serve};

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
    for (name, token, expected) in cases {
        let mut request = http.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let body = response.text().await?;
        let mark = if status == expected { "ok " } else { "BAD" };
        if status != expected {
            wrong += 1;
        }
        println!(
            "[{mark}] {name:<30} -> {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
        println!("      {body}");
    }

    if keep_serving {
        println!("\nServing until Ctrl-C. Try:");
        println!("  curl -i {url}");
        println!("  curl -i -H 'Authorization: Bearer {without_permission}' {url}");
        println!("  curl -i -H 'Authorization: Bearer {with_permission}' {url}");
        tokio::signal::ctrl_c().await?;
    }

    if wrong > 0 {
        return Err(format!("{wrong} outcome(s) differed from the expected status").into());
    }
    println!("\nall outcomes as expected");
    Ok(())
}
