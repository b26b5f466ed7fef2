//! The first protected requests of a fresh context, with and without `Wacht::warm_up()`, as
//! ratios to the same requests on a warm context, measured in the same run (against the local
//! Wacht on loopback: a real deployment adds the network's round trips to the cold case).
//!
//! ```text
//! cargo bench --bench warm_start
//! ```
//!
//! One "first request" is a session check with a token never seen before plus a machine
//! check: together they need the JWKS, a connection and a gateway answer. A fresh context is
//! what a cold start (a new Lambda instance, a restarted server) has.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use wacht::testing::{ApiKeySpec, LocalWacht};
use wacht::{MachineRequirement, Requirement, Wacht};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("WACHT_WARM_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = LocalWacht::start().unwrap();
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let session = Requirement::new().permission("user:read");
    let machine = MachineRequirement::new().permission("user:read");

    // Both checks for a token never seen before.
    let first_request = |wacht: &Wacht, round: usize| {
        let token = local
            .token()
            .subject(format!("user_{round}_{}", rand_suffix()))
            .organization_permissions(["user:read"])
            .sign();
        let mut people = http::Request::new(());
        people
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let mut machines = http::Request::new(());
        machines
            .headers_mut()
            .insert("x-api-key", key.secret().parse().unwrap());
        let started = Instant::now();
        runtime.block_on(async {
            wacht.protect(&people, &session).await.unwrap();
            wacht.authorize_machine(&machines, &machine).await.unwrap();
        });
        started.elapsed()
    };

    let (mut cold, mut warmed, mut warm) = (Vec::new(), Vec::new(), Vec::new());
    let mut warm_up_cost = Vec::new();
    for round in 0..rounds {
        let fresh = Wacht::new(local.config()).unwrap();
        cold.push(first_request(&fresh, round));
        warm.push(first_request(&fresh, round + rounds));

        let prepared = Wacht::new(local.config()).unwrap();
        let started = Instant::now();
        runtime.block_on(prepared.warm_up()).unwrap();
        warm_up_cost.push(started.elapsed());
        warmed.push(first_request(&prepared, round + 2 * rounds));
    }
    let (cold, warmed, warm, warm_up) = (
        median(cold),
        median(warmed),
        median(warm),
        median(warm_up_cost),
    );
    let ratio = |d: Duration| d.as_secs_f64() / warm.as_secs_f64();
    println!("{rounds} rounds, medians (session check with a new token + machine check):");
    println!(
        "  warm context (baseline)       {:>9.1} µs  1.00",
        warm.as_secs_f64() * 1e6
    );
    println!(
        "  first request, no warm-up     {:>9.1} µs  {:.2}",
        cold.as_secs_f64() * 1e6,
        ratio(cold)
    );
    println!(
        "  first request after warm_up() {:>9.1} µs  {:.2}",
        warmed.as_secs_f64() * 1e6,
        ratio(warmed)
    );
    println!(
        "  warm_up() itself              {:>9.1} µs  {:.2}",
        warm_up.as_secs_f64() * 1e6,
        ratio(warm_up)
    );
}

/// A few random characters, so every token is new to the verified-token cache.
fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}
