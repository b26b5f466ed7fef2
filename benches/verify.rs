//! Cost of a session check, as ratios against a raw ECDSA P-256 verify measured in the same
//! run (these machines are noisy; absolute numbers are printed for orientation only).
//!
//! ```text
//! cargo bench --bench verify
//! ```
//!
//! Results are recorded in `benches/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use wacht::testing::LocalWacht;
use wacht::{Requirement, Wacht};

/// Runs `f` repeatedly for about `budget` and returns nanoseconds per call (best of 5 rounds).
fn measure(budget: Duration, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut iterations = 0u64;
        let started = Instant::now();
        while started.elapsed() < budget / 5 {
            for _ in 0..64 {
                f();
            }
            iterations += 64;
        }
        let per_call = started.elapsed().as_nanos() as f64 / iterations as f64;
        best = best.min(per_call);
    }
    best
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("WACHT_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = LocalWacht::start().unwrap();
    let token = local.token().organization_permissions(["user:read"]).sign();

    // Baseline: the bare signature check on the same signing input and key.
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let jwk = local.current_key().public_jwk();
    let point: Vec<u8> = [
        vec![4u8],
        URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap(),
        URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap(),
    ]
    .concat();
    let public_key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point);
    let baseline = measure(budget, || {
        public_key
            .verify(black_box(signing_input.as_bytes()), black_box(&signature))
            .unwrap();
    });

    let uncached = Wacht::new(
        local
            .config_builder()
            .token_cache_capacity(0)
            .build()
            .unwrap(),
    )
    .unwrap();
    let cached = Wacht::new(local.config()).unwrap();
    let req = http::Request::builder()
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap();
    let requirement = Requirement::new().permission("user:read");
    runtime.block_on(async {
        uncached.verify_token(&token).await.unwrap();
        cached.verify_token(&token).await.unwrap();
    });

    let full = measure(budget, || {
        runtime
            .block_on(uncached.verify_token(black_box(&token)))
            .unwrap();
    });
    let hit = measure(budget, || {
        runtime
            .block_on(cached.verify_token(black_box(&token)))
            .unwrap();
    });
    let protect_full = measure(budget, || {
        runtime
            .block_on(uncached.protect(black_box(&req), &requirement))
            .unwrap();
    });
    let protect_hit = measure(budget, || {
        runtime
            .block_on(cached.protect(black_box(&req), &requirement))
            .unwrap();
    });

    println!(
        "{:<48} {:>10} {:>8}",
        "operation (ES256 token)", "ns/op", "ratio"
    );
    for (name, ns) in [
        ("raw aws-lc-rs ECDSA P-256 verify (baseline)", baseline),
        ("verify_token, cache off (parse+sig+claims)", full),
        ("verify_token, cache hit", hit),
        ("protect (header+verify+decision), cache off", protect_full),
        ("protect, cache hit", protect_hit),
    ] {
        println!("{name:<48} {ns:>10.0} {:>8.2}", ns / baseline);
    }
}
