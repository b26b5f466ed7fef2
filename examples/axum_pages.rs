//! A server-rendered axum app with browser sessions, against the local Wacht:
//!
//! - `/` a public page (signed in or not: `#[wacht::protect(optional)]`),
//! - `/dashboard` a signed-in page (`#[wacht::protect]`; signed out: 303 to sign-in),
//! - `/admin` a permission-gated page (`#[wacht::protect(permission = "user:read")]`),
//! - `/api/users` a JSON API route (`layer::protect`, JSON 401/403, no redirect).
//!
//! ```text
//! cargo run --example axum_pages --features tower,axum             # drives a sign-in, checks every answer
//! cargo run --example axum_pages --features tower,axum -- --serve  # serves until stdin closes
//! ```
//!
//! The first form plays a browser (a cookie jar, each redirect followed by hand): signed out,
//! the dashboard sends it to the emulator's sign-in page; it signs in there as `user_reader`;
//! back on the dashboard the session cookie is exchanged once and cached in `__auth_<scope>`;
//! the admin page and the API answer; `user_plain` gets 403 at the admin page. It exits
//! non-zero when an answer is not the expected one. With `--serve` it prints one JSON line
//! (the app's and the sign-in page's URLs) and serves, for a real browser (`.ci/browser`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Read as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Response, StatusCode};
use reqwest::cookie::Jar;
use wacht::testing::{LocalWacht, SessionUser};
use wacht::{Auth, Requirement, Wacht};

fn page(title: &str, body: &str) -> Response<Body> {
    Response::builder()
        .header("content-type", "text/html; charset=utf-8")
        .body(Body::from(format!(
            "<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
        )))
        .unwrap_or_default()
}

/// Public: anyone; greets a signed-in caller by name.
#[wacht::protect(optional)]
async fn home(req: axum::extract::Request, auth: Option<Auth>) -> Response<Body> {
    let _ = req;
    match auth {
        Some(auth) => page(
            "Home",
            &format!("<p id=\"who\">signed in as {}</p>", auth.user_id()),
        ),
        None => page(
            "Home",
            "<p id=\"who\">signed out</p><a href=\"/dashboard\">dashboard</a>",
        ),
    }
}

/// Signed in: any signed-in user.
#[wacht::protect]
async fn dashboard(req: axum::extract::Request, auth: Auth) -> Response<Body> {
    let _ = req;
    page(
        "Dashboard",
        &format!("<p id=\"who\">dashboard of {}</p>", auth.user_id()),
    )
}

/// Gated: holders of `user:read` only.
#[wacht::protect(permission = "user:read")]
async fn admin(req: axum::extract::Request, auth: Auth) -> Response<Body> {
    let _ = req;
    page(
        "Admin",
        &format!("<p id=\"who\">admin for {}</p>", auth.user_id()),
    )
}

/// JSON API: the layer in front; an API never redirects.
async fn users(auth: Auth) -> Response<Body> {
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(
            serde_json::json!({"users": [], "requested_by": auth.user_id()}).to_string(),
        ))
        .unwrap_or_default()
}

fn app(wacht: Wacht) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/dashboard", get(dashboard))
        .route("/admin", get(admin))
        .route(
            "/api/users",
            get(users).route_layer(wacht::layer::protect(
                Requirement::new()
                    .permission("user:read")
                    .sign_in_redirect(false),
            )),
        )
        .layer(axum::Extension(wacht))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let local = LocalWacht::start()?;
    local.add_session_user(SessionUser::new("user_reader").organization("org_1", ["user:read"]));
    local.add_session_user(SessionUser::new("user_plain"));
    let wacht = Wacht::new(local.config_builder().browser_sessions(true).build()?)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app(wacht)).await });

    if std::env::args().any(|arg| arg == "--serve") {
        println!(
            "{}",
            serde_json::json!({"app": url, "sign_in": local.sign_in_url(), "users": ["user_reader", "user_plain"]})
        );
        // Serves until standard input closes (the driving script holds it open).
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await?;
        return Ok(());
    }

    let mut failures = 0;
    let mut check = |what: &str, status: StatusCode, expected: StatusCode, detail: &str| {
        let mark = if status == expected { "ok  " } else { "FAIL" };
        if status != expected {
            failures += 1;
        }
        println!("{mark} {what:<58} {status} {detail}");
    };

    // A browser: cookies kept, redirects followed by hand so each hop shows.
    let jar = Arc::new(Jar::default());
    let browser = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let get = |url: String| browser.get(url).header("accept", "text/html").send();

    let answer = get(format!("{url}/")).await?;
    check(
        "public page, signed out",
        answer.status(),
        StatusCode::OK,
        "",
    );
    let answer = get(format!("{url}/dashboard")).await?;
    let to_sign_in = answer
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    check(
        "dashboard, signed out: to sign-in",
        answer.status(),
        StatusCode::SEE_OTHER,
        &to_sign_in,
    );
    let answer = get(to_sign_in.clone()).await?;
    check(
        "the emulator's sign-in page",
        answer.status(),
        StatusCode::OK,
        "",
    );
    let redirect_uri = to_sign_in.split("redirect_uri=").nth(1).unwrap_or_default();
    let answer = browser
        .post(local.sign_in_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("user=user_reader&redirect_uri={redirect_uri}"))
        .send()
        .await?;
    let back = answer
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    check(
        "sign in as user_reader: back to the page",
        answer.status(),
        StatusCode::SEE_OTHER,
        &back,
    );
    let answer = get(back).await?;
    let status = answer.status();
    check(
        "dashboard, signed in (one exchange)",
        status,
        StatusCode::OK,
        &answer.text().await?,
    );
    for (path, expected) in [
        ("/dashboard", StatusCode::OK),
        ("/admin", StatusCode::OK),
        ("/", StatusCode::OK),
        ("/api/users", StatusCode::OK),
    ] {
        let answer = get(format!("{url}{path}")).await?;
        check(
            &format!("{path}, signed in (the cache cookie)"),
            answer.status(),
            expected,
            "",
        );
    }
    let exchanges = local.session_exchanges();
    check(
        "exchanges with the frontend API",
        if exchanges == 1 {
            StatusCode::OK
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        },
        StatusCode::OK,
        &exchanges.to_string(),
    );

    // Another browser, signed in without the permission.
    let plain = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let answer = plain
        .get(format!(
            "{}?user=user_plain&redirect_uri={url}/admin",
            local.sign_in_url()
        ))
        .send()
        .await?;
    check(
        "sign in as user_plain",
        answer.status(),
        StatusCode::SEE_OTHER,
        "",
    );
    let answer = plain
        .get(format!("{url}/admin"))
        .header("accept", "text/html")
        .send()
        .await?;
    check(
        "admin page without user:read: 403, no redirect loop",
        answer.status(),
        StatusCode::FORBIDDEN,
        "",
    );
    let answer = reqwest::Client::new()
        .get(format!("{url}/api/users"))
        .send()
        .await?;
    check(
        "API, signed out: JSON 401",
        answer.status(),
        StatusCode::UNAUTHORIZED,
        "",
    );

    if failures > 0 {
        eprintln!("{failures} answers were not the expected ones");
        std::process::exit(1);
    }
    println!("every answer as expected");
    Ok(())
}
