//! The cost of feature `metrics` on the hot path: a `protect` whose token is in the token
//! cache, with its metrics recorded (a `metrics-util` `DebuggingRecorder`: atomic counters,
//! histogram values appended to a lock-free bucket), against the same hit without recording
//! (a context built with no recorder installed: its handles do nothing), in the same run.
//!
//! ```text
//! cargo bench --features metrics --bench metrics    # goal 1.02x; fails above 1.10x
//! ```
//!
//! Rounds of the two alternate (best of 7 each; `WACHT_BENCH_MS`, default 2000, is the budget
//! of each side). Results are recorded in `benches/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use metrics_util::debugging::DebuggingRecorder;
use wacht::testing::LocalWacht;
use wacht::{Requirement, Wacht};

/// The goal: what recording may add to a cache hit (reported; too close to this machine's
/// noise to fail on).
const GOAL: f64 = 1.02;
/// The regression guard: above it the bench fails (a name lookup or an allocation per hit
/// costs well over this).
const MAX_RATIO: f64 = 1.10;
const ROUNDS: u32 = 7;

fn main() {
    let budget = Duration::from_millis(
        std::env::var("WACHT_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
    let local = LocalWacht::start().unwrap();
    let token = local.token().organization_permissions(["user:read"]).sign();
    let req = http::Request::builder()
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap();
    let requirement = Requirement::new().permission("user:read");

    let plain = Wacht::new(local.config()).unwrap();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let recorded = metrics::with_local_recorder(&recorder, || Wacht::new(local.config()).unwrap());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for wacht in [&plain, &recorded] {
        runtime.block_on(wacht.protect(&req, &requirement)).unwrap();
    }
    let round = |wacht: &Wacht| {
        let started = Instant::now();
        let mut calls = 0u64;
        while started.elapsed() < budget / ROUNDS {
            for _ in 0..64 {
                runtime
                    .block_on(wacht.protect(black_box(&req), &requirement))
                    .unwrap();
            }
            calls += 64;
        }
        started.elapsed().as_nanos() as f64 / calls as f64
    };
    let (mut without, mut with) = (f64::MAX, f64::MAX);
    for _ in 0..ROUNDS {
        without = without.min(round(&plain));
        with = with.min(round(&recorded));
        // Keeps the histogram's memory bounded between rounds.
        drop(snapshotter.snapshot());
    }
    let ratio = with / without;
    println!("cache-hit protect, no recording:  {without:>8.0} ns");
    println!("cache-hit protect, recorded:      {with:>8.0} ns");
    println!("ratio: {ratio:.3}x (goal <= {GOAL}x; fails above {MAX_RATIO}x)");
    if ratio > MAX_RATIO {
        eprintln!("recording metrics costs more than {MAX_RATIO}x a cache hit");
        std::process::exit(1);
    }
}
