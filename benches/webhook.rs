//! Cost of verifying a 64 KiB webhook delivery, as ratios against a bare HMAC-SHA256 of the
//! same 64 KiB with the same crates (RustCrypto `hmac` + `sha2`, the key already absorbed),
//! measured side by side in the same run, interleaved (best of 5 rounds each). aws-lc-rs's
//! HMAC of the same bytes is printed for orientation.
//!
//! ```text
//! cargo bench --bench webhook
//! ```
//!
//! Exits non-zero when the signature check costs more than 1.2x the bare HMAC. Results are
//! recorded in `benches/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use http::HeaderMap;
use http_body_util::Full;
use hyper::body::Bytes;
use sha2::Sha256;
use wacht::testing::{LocalWacht, OutgoingEvent};
use wacht::webhook::{Webhook, WebhookSecret};

/// The delivery's size.
const SIZE: usize = 64 * 1024;
/// The goal: the signature check within this factor of the bare HMAC.
const GOAL: f64 = 1.2;

/// Nanoseconds per call of each of `fs`, measured in turns (round r of every operation, then
/// round r + 1, …), best of 5 rounds of `budget / 5` each: a noisy neighbour slows every
/// operation of a round alike.
fn measure(budget: Duration, fs: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut best = vec![f64::MAX; fs.len()];
    for _ in 0..5 {
        for (f, best) in fs.iter_mut().zip(best.iter_mut()) {
            let mut iterations = 0u64;
            let started = Instant::now();
            while started.elapsed() < budget / 5 {
                for _ in 0..8 {
                    f();
                }
                iterations += 8;
            }
            *best = best.min(started.elapsed().as_nanos() as f64 / iterations as f64);
        }
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
    let local = LocalWacht::start().unwrap();
    let now = wacht::Clock::system().now();

    // A `user.updated` delivery of exactly 64 KiB, signed by the emulator (as Wacht signs).
    let envelope_without_data = OutgoingEvent::new("user.updated", serde_json::json!({}))
        .id("msg_7355608823457169408")
        .timestamp(now);
    let empty = local.webhook_request("/hooks", &envelope_without_data);
    // `{}` in the empty one becomes `{"bio":"…"}`.
    let padding = SIZE - (empty.body().len() - "{}".len()) - r#"{"bio":""}"#.len();
    let event = OutgoingEvent::new(
        "user.updated",
        serde_json::json!({ "bio": "x".repeat(padding) }),
    )
    .id("msg_7355608823457169408")
    .timestamp(now);
    let request = local.webhook_request("/hooks", &event);
    let (parts, body) = request.into_parts();
    let body = Bytes::from(body);
    assert_eq!(body.len(), SIZE);
    let headers: HeaderMap = parts.headers.clone();

    let secret = local.webhook_secret();
    let webhook = Webhook::builder().secrets_text(&secret).build().unwrap();
    // A rotation: the delivery's secret second, so both HMACs are computed.
    let rotating = Webhook::builder()
        .secrets_text(&format!(
            "whsec_ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q= {secret}"
        ))
        .build()
        .unwrap();
    assert!(WebhookSecret::parse(&secret).is_ok());
    webhook
        .verify_signature_at(&headers, &body, now)
        .expect("the delivery verifies");
    webhook
        .verify_at(&headers, body.clone(), now)
        .expect("the delivery is accepted");

    // The bare HMAC: the same crates, the key absorbed once, as the verifier keeps it.
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    let aws_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let mut bare = || {
        let mut mac = mac.clone();
        mac.update(black_box(&body));
        black_box(mac.finalize().into_bytes());
    };
    let mut aws = || {
        black_box(aws_lc_rs::hmac::sign(&aws_key, black_box(&body)));
    };
    let mut signature = || {
        webhook
            .verify_signature_at(black_box(&headers), black_box(&body), now)
            .unwrap();
    };
    let mut verify = || {
        black_box(webhook.verify_at(black_box(&headers), body.clone(), now)).unwrap();
    };
    let mut receive = || {
        let mut req = http::Request::new(Full::new(body.clone()));
        *req.headers_mut() = headers.clone();
        black_box(runtime.block_on(webhook.receive(req))).unwrap();
    };
    let mut rotation = || {
        rotating
            .verify_signature_at(black_box(&headers), black_box(&body), now)
            .unwrap();
    };
    let results = measure(
        budget,
        &mut [
            &mut bare,
            &mut aws,
            &mut signature,
            &mut verify,
            &mut receive,
            &mut rotation,
        ],
    );
    let baseline = results[0];
    println!(
        "{:<62} {:>9} {:>7}",
        "operation (64 KiB delivery)", "ns/op", "ratio"
    );
    for (name, ns) in [
        "bare HMAC-SHA256, RustCrypto (baseline)",
        "bare HMAC-SHA256, aws-lc-rs (orientation)",
        "verify_signature_at: headers + timestamp + HMAC + compare",
        "verify_at: the above + envelope parse (type, data kept raw)",
        "receive: read a Full<Bytes> body + verify_at (block_on)",
        "verify_signature_at, two secrets (rotation)",
    ]
    .into_iter()
    .zip(results.iter())
    {
        println!("{name:<62} {ns:>9.0} {:>7.2}", ns / baseline);
    }
    let ratio = results[2] / baseline;
    if ratio > GOAL {
        eprintln!("the signature check costs {ratio:.2}x the bare HMAC; the goal is {GOAL}x");
        std::process::exit(1);
    }
    println!("\nsignature check: {ratio:.2}x the bare HMAC (goal: at most {GOAL}x)");
}
