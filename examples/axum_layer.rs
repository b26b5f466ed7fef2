//! An axum server protected with layers and extractors instead of attributes, on the built-in
//! local Wacht (no account needed):
//!
//! ```text
//! cargo run --example axum_layer --features tower,axum
//! ```
//!
//! - `/admin/users`: `wacht::layer::protect` with `user:read`; the handler takes `wacht::Auth`.
//! - `/me`: no layer; the `wacht::Auth` extractor checks the session token itself.
//! - `/home`: `wacht::layer::optional()`; the handler takes `Option<wacht::Auth>`.
//! - `/machine/users`: `wacht::layer::machine`; the handler takes `wacht::MachineAuth`.
//!
//! It sends each route a few requests, prints the answers, and exits non-zero when a status
//! differs from the expected one.
#![allow(clippy::print_stdout)]

use axum::Router;
use axum::routing::get;
use wacht::testing::{ApiKeySpec, LocalWacht};
use wacht::{Auth, MachineAuth, MachineRequirement, Requirement, Wacht};

async fn admin_users(auth: Auth) -> String {
    format!("users, for {}", auth.user_id())
}

async fn me(auth: Auth) -> String {
    format!("you are {}", auth.user_id())
}

async fn home(auth: Option<Auth>) -> String {
    match auth {
        Some(auth) => format!("welcome back, {}", auth.user_id()),
        None => "welcome, stranger".to_owned(),
    }
}

async fn machine_users(auth: MachineAuth) -> String {
    format!("users, for key {}", auth.key_id().unwrap_or("?"))
}

/// The application: the layers go on the routes they protect (`route_layer`), the context on
/// the whole router (in production, leave the `Extension` out: the process-wide context from
/// the environment is used).
fn app(wacht: Wacht) -> Router {
    Router::new()
        .route(
            "/admin/users",
            get(admin_users).route_layer(wacht::layer::protect(
                Requirement::new().permission("user:read"),
            )),
        )
        .route("/me", get(me))
        .route("/home", get(home).route_layer(wacht::layer::optional()))
        .route(
            "/machine/users",
            get(machine_users).route_layer(wacht::layer::machine(
                MachineRequirement::new()
                    .resource("/machine/users")
                    .method("GET")
                    .permission("user:read"),
            )),
        )
        .layer(axum::Extension(wacht))
}

/// A path, the credential header sent (if any), and the status expected.
type Case = (&'static str, Option<(&'static str, String)>, u16);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let local = LocalWacht::start()?;
    let wacht = Wacht::new(local.config())?;
    wacht.warm_up().await?; // keys fetched, gateway connection open: before serving
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app(wacht)).await });

    let reader = local
        .token()
        .subject("user_carol")
        .organization_permissions(["user:read"])
        .sign();
    let plain = local.token().subject("user_bob").sign();
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let cases: [Case; 8] = [
        ("/admin/users", None, 401),
        (
            "/admin/users",
            Some(("authorization", format!("Bearer {plain}"))),
            403,
        ),
        (
            "/admin/users",
            Some(("authorization", format!("Bearer {reader}"))),
            200,
        ),
        (
            "/me",
            Some(("authorization", format!("Bearer {plain}"))),
            200,
        ),
        ("/home", None, 200),
        (
            "/home",
            Some(("authorization", "Bearer not.a.token".to_owned())),
            401,
        ),
        ("/machine/users", None, 401),
        (
            "/machine/users",
            Some(("x-api-key", key.secret().to_owned())),
            200,
        ),
    ];
    let http = reqwest::Client::new();
    let mut wrong = 0;
    for (path, header, expected) in cases {
        let mut request = http.get(format!("{url}{path}"));
        if let Some((name, value)) = &header {
            request = request.header(*name, value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response.text().await?;
        let mark = if status == expected { "ok " } else { "BAD" };
        let sent = header.map_or("no credential", |(name, _)| name);
        println!("[{mark}] GET {path:<15} ({sent:<13}) -> {status}  {body}");
        if status != expected {
            wrong += 1;
        }
    }
    if wrong > 0 {
        return Err(format!("{wrong} answer(s) differed from the expected status").into());
    }
    println!("\nall answers as expected");
    Ok(())
}
