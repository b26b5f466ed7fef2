//! The local Wacht for the Cloudflare Workers check (`.ci/workers`): starts the emulator on
//! 127.0.0.1, prints one line of JSON with everything a Worker and its checks need, and keeps
//! serving until its standard input closes (or it is killed).
//!
//! ```text
//! cargo run --example workers_emulator            # Ctrl-D (or closing stdin) stops it
//! ```
//!
//! The line:
//!
//! ```text
//! {"env": {"WACHT_PUBLISHABLE_KEY": …, "WACHT_GATEWAY_URL": …, "WACHT_BACKEND_API_URL": …,
//!          "WACHT_API_KEY": …, "WACHT_WEBHOOK_SECRET": …},
//!  "emulator_url": …, "frontend_api_url": …, "jwks_url": …, "gateway_check_url": …,
//!  "tokens": {"with_user_read": …, "without_user_read": …, "expired": …},
//!  "api_keys": {"with_user_read": …, "without_user_read": …, "unknown": …,
//!               "rate_limited": …},
//!  "rate_limit": {"requests": 1, "window_secs": 3600},
//!  "relay": {"origin": …, "token": …}}
//! ```
//!
//! `relay` is there when `WACHT_WORKERS_RELAY_ORIGIN` names an origin (`http://127.0.0.1:<port>`)
//! where the checks will run a relay of this emulator's JWKS: `token` is a session token with
//! `user:read` issued for that origin, so a Worker whose publishable key points at the relay
//! accepts it (the relay can then misbehave after the first fetch).
//!
//! `env` holds exactly the variables `WachtConfig::from_env` reads, and the webhook signing
//! secret (the same names and values `cargo run --example quickstart -- --serve` prints); the
//! Worker gets them as bindings, and the checks sign deliveries with the secret (Node's
//! crypto). The
//! credentials, against `#[wacht::protect(permission = "user:read")]` and
//! `#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]`:
//!
//! | credential | answer |
//! |---|---|
//! | `tokens.with_user_read` (org `org_1`, organization permission `user:read`, 1 h) | 200 |
//! | `tokens.without_user_read` (org `org_1`, no permission) | 403 `missing_permission` |
//! | `tokens.expired` (expired an hour ago) | 401 `token_expired` |
//! | `api_keys.with_user_read` (no rate limit) | 200, every time |
//! | `api_keys.without_user_read` (holds `billing:write`) | 403 `permission_denied` |
//! | `api_keys.unknown` (well formed, created then revoked: the gateway does not know it) | 401 `invalid_credential` |
//! | `api_keys.rate_limited` (`user:read`, 1 request per hour) | 200 once, then 429 `rate_limited` with `Retry-After` |
//!
//! The rate limit's window is an hour, not a minute: the gateway's windows are aligned on
//! the clock (a 60-second window restarts on every whole minute), so two calls a few
//! milliseconds apart could fall in two windows of a short one.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::io::{Read, Write};
use std::time::Duration;

use serde_json::json;
use wacht::testing::{ApiKeySpec, LocalWacht, RateLimitRule};

/// Requests the rate-limited key may make per window.
const RATE_LIMIT_REQUESTS: u32 = 1;
/// The rate-limited key's window.
const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(3600);

fn main() -> Result<(), Box<dyn Error>> {
    // The emulator serves from its own thread; it stops when `local` is dropped.
    let local = LocalWacht::start()?;
    let now = wacht::Clock::system().now();

    let with_user_read = local
        .token()
        .subject("user_carol")
        .organization("org_1")
        .organization_permissions(["user:read"])
        .sign();
    let without_user_read = local
        .token()
        .subject("user_bob")
        .organization("org_1")
        .sign();
    let expired = local
        .token()
        .subject("user_alice")
        .issued_at(now - 7200)
        .expires_at(now - 3600)
        .sign();

    let reader = local.create_api_key(
        ApiKeySpec::new()
            .name("reporting job")
            .permissions(["user:read"]),
    );
    let writer = local.create_api_key(
        ApiKeySpec::new()
            .name("billing job")
            .permissions(["billing:write"]),
    );
    // A key of the real shape (`wk_test_` + 43 url-safe characters) the gateway no longer
    // knows: 401 "unknown API key", not 401 "malformed API key".
    let unknown = local.create_api_key(ApiKeySpec::new().name("revoked job"));
    local.revoke_api_key(&unknown);
    let limited = local.create_api_key(
        ApiKeySpec::new()
            .name("limited job")
            .permissions(["user:read"])
            .rate_limit(RateLimitRule::per_key(
                "tiny",
                RATE_LIMIT_REQUESTS,
                RATE_LIMIT_WINDOW,
            )),
    );

    let relay = std::env::var("WACHT_WORKERS_RELAY_ORIGIN")
        .ok()
        .map(|origin| {
            let token = local
                .token()
                .issuer(origin.clone())
                .subject("user_carol")
                .organization("org_1")
                .organization_permissions(["user:read"])
                .sign();
            json!({ "origin": origin, "token": token })
        });

    let line = json!({
        "env": {
            "WACHT_PUBLISHABLE_KEY": local.publishable_key(),
            "WACHT_GATEWAY_URL": local.url(),
            "WACHT_BACKEND_API_URL": local.url(),
            "WACHT_API_KEY": local.backend_api_key(),
            "WACHT_WEBHOOK_SECRET": local.webhook_secret(),
        },
        "emulator_url": local.url(),
        "frontend_api_url": local.url(),
        "jwks_url": local.jwks_url(),
        "gateway_check_url": local.gateway_check_url(),
        "tokens": {
            "with_user_read": with_user_read,
            "without_user_read": without_user_read,
            "expired": expired,
        },
        "api_keys": {
            "with_user_read": reader.secret(),
            "without_user_read": writer.secret(),
            "unknown": unknown.secret(),
            "rate_limited": limited.secret(),
        },
        "rate_limit": {
            "requests": RATE_LIMIT_REQUESTS,
            "window_secs": RATE_LIMIT_WINDOW.as_secs(),
        },
        "relay": relay,
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    drop(stdout);

    // Serve until whoever started us closes our standard input (or kills us).
    let mut sink = Vec::new();
    std::io::stdin().read_to_end(&mut sink)?;
    drop(local);
    Ok(())
}
