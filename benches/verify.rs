//! Cost of a session check, as ratios against a raw ECDSA P-256 verify measured in the same
//! run (these machines are noisy; absolute numbers are printed for orientation only), and the
//! verified-token cache: two-thread scaling of cache hits (ratio to one thread), hit rate with
//! a working set twice the capacity, and the memory 12 000 tokens of 15 KB take (VmRSS
//! growth of a child process, against a cache bounded by count only).
//!
//! ```text
//! cargo bench --bench verify
//! ```
//!
//! Results are recorded in `benches/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::future::Future;
use std::hint::black_box;
use std::process::Command;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use wacht::testing::LocalWacht;
use wacht::{Requirement, Wacht};

/// Set in the child processes that measure memory: `bounded` or `count-only`.
const RSS_CHILD: &str = "WACHT_BENCH_RSS_CHILD";
/// Tokens of the memory measurement, and their length.
const LARGE_TOKENS: usize = 12_000;
const LARGE_TOKEN_LEN: usize = 15_000;

thread_local! {
    /// One current-thread runtime per measuring thread, as a handler's request would have.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
}

fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

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

/// This thread's time on a CPU and waiting for one, in nanoseconds
/// (`/proc/thread-self/schedstat`).
fn sched_times() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().unwrap());
    (fields.next().unwrap(), fields.next().unwrap())
}

/// What `threads` threads calling an operation together achieved.
#[derive(Clone, Copy, Default)]
struct Rate {
    /// Calls per second of wall time, all threads together.
    wall: f64,
    /// Calls per second a thread made while it had a CPU: contention inside the operation
    /// (spinning, cache lines moving between cores) lowers it; other processes taking the
    /// CPU do not.
    on_cpu: f64,
    /// Share of the threads' time spent waiting for a CPU (other processes, or each other).
    waiting: f64,
    /// Share of the threads' time neither on a CPU nor waiting for one: asleep (on a lock).
    asleep: f64,
}

/// Runs `op(thread index)` on `threads` threads together for `round`.
fn rate(threads: usize, round: Duration, op: &(dyn Fn(usize) + Sync)) -> Rate {
    let barrier = Barrier::new(threads);
    let per_thread: Vec<(u64, f64, u64, u64)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                let barrier = &barrier;
                scope.spawn(move || {
                    op(index); // the thread's runtime, built outside the measurement
                    barrier.wait();
                    let (cpu, wait) = sched_times();
                    let started = Instant::now();
                    let mut calls = 0u64;
                    while started.elapsed() < round {
                        for _ in 0..64 {
                            op(index);
                        }
                        calls += 64;
                    }
                    let elapsed = started.elapsed().as_secs_f64();
                    let (cpu_after, wait_after) = sched_times();
                    (calls, elapsed, cpu_after - cpu, wait_after - wait)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let calls: u64 = per_thread.iter().map(|t| t.0).sum();
    let cpu_ns: u64 = per_thread.iter().map(|t| t.2).sum();
    let wait_ns: u64 = per_thread.iter().map(|t| t.3).sum();
    let wall_ns = per_thread.iter().map(|t| t.1).sum::<f64>() * 1e9;
    Rate {
        wall: per_thread.iter().map(|t| t.0 as f64 / t.1).sum(),
        on_cpu: calls as f64 / (cpu_ns as f64 / 1e9),
        waiting: wait_ns as f64 / wall_ns,
        asleep: (1.0 - (cpu_ns + wait_ns) as f64 / wall_ns).max(0.0),
    }
}

/// A pseudo-random sequence (xorshift64), the same in every run.
fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// A session token of about [`LARGE_TOKEN_LEN`] bytes: 150 permissions and a 60-member
/// metadata object, padded to the length.
fn large_token(local: &LocalWacht, n: usize, pad: usize) -> String {
    let permissions: Vec<String> = (0..150)
        .map(|p| format!("org:resource_{p:03}:read"))
        .chain(["user:read".to_owned()])
        .collect();
    let metadata: serde_json::Map<String, Value> = (0..60)
        .map(|k| {
            (
                format!("attribute_{k:02}"),
                json!(format!("value {k:02} {}", "v".repeat(60))),
            )
        })
        .collect();
    local
        .token()
        .subject(format!("user_{n:05}"))
        .organization_permissions(permissions)
        .claim("metadata", Value::Object(metadata))
        .claim("pad", json!("p".repeat(pad)))
        .sign()
}

/// The padding that makes [`large_token`] [`LARGE_TOKEN_LEN`] bytes long.
fn large_token_pad(local: &LocalWacht) -> usize {
    let unpadded = large_token(local, 0, 0).len();
    (LARGE_TOKEN_LEN.saturating_sub(unpadded)) * 3 / 4
}

/// The process's resident memory, from `/proc/self/status`, in bytes.
fn vm_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// In a child process: verifies 12 000 distinct 15 KB tokens through one `Wacht` (capacity
/// 12 000; the default byte bound, or none) and prints the VmRSS growth over the loop and
/// how many of the tokens a second pass finds cached.
fn rss_child(kind: &str) {
    let local = LocalWacht::start().unwrap();
    let builder = local.config_builder().token_cache_capacity(LARGE_TOKENS);
    let builder = match kind {
        // The largest bound accepted (1 GiB): far above what 12 000 tokens of 15 KB take,
        // so only the count bounds the cache.
        "count-only" => builder.token_cache_max_bytes(wacht::MAX_TOKEN_CACHE_MAX_BYTES),
        _ => builder,
    };
    let wacht = Wacht::new(builder.build().unwrap()).unwrap();
    let pad = large_token_pad(&local);
    let tokens: Vec<String> = (0..LARGE_TOKENS)
        .map(|n| large_token(&local, n, pad))
        .collect();
    // Keys fetched, HTTP client and runtime warmed, before the first reading.
    block_on(wacht.verify_token(&large_token(&local, LARGE_TOKENS, pad))).unwrap();
    let before = vm_rss();
    let started = Instant::now();
    for token in &tokens {
        block_on(wacht.verify_token(token)).unwrap();
    }
    let miss = started.elapsed() / LARGE_TOKENS as u32;
    let after = vm_rss();
    // Held = answered without a signature check: in under a tenth of a first verification.
    let mut hit_time = Duration::ZERO;
    let held = tokens
        .iter()
        .rev()
        .filter(|token| {
            let started = Instant::now();
            block_on(wacht.verify_token(token)).unwrap();
            let elapsed = started.elapsed();
            let hit = elapsed < miss / 10;
            hit_time += if hit { elapsed } else { Duration::ZERO };
            hit
        })
        .count();
    let mean_len = tokens.iter().map(String::len).sum::<usize>() / tokens.len();
    let hit_ns = hit_time.as_nanos() / held.max(1) as u128;
    println!(
        "{before} {after} {held} {mean_len} {} {hit_ns}",
        miss.as_nanos()
    );
}

/// What [`rss_child`] measured.
struct Held {
    /// VmRSS growth over the first pass, bytes.
    growth: u64,
    /// Tokens found cached by the second pass.
    held: u64,
    /// Mean token length.
    token_len: u64,
    /// Mean first verification (a miss), ns.
    miss_ns: u64,
    /// Mean cache hit, ns.
    hit_ns: u64,
}

/// Runs [`rss_child`] in a child process of this binary.
fn rss_in_child(kind: &str) -> Held {
    let output = Command::new(std::env::current_exe().unwrap())
        .env(RSS_CHILD, kind)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let fields: Vec<u64> = text
        .split_whitespace()
        .map(|f| f.parse().unwrap())
        .collect();
    Held {
        growth: fields[1].saturating_sub(fields[0]),
        held: fields[2],
        token_len: fields[3],
        miss_ns: fields[4],
        hit_ns: fields[5],
    }
}

fn main() {
    if let Ok(kind) = std::env::var(RSS_CHILD) {
        rss_child(&kind);
        return;
    }
    let budget = Duration::from_millis(
        std::env::var("WACHT_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
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
    block_on(async {
        uncached.verify_token(&token).await.unwrap();
        cached.verify_token(&token).await.unwrap();
    });

    let full = measure(budget, || {
        block_on(uncached.verify_token(black_box(&token))).unwrap();
    });
    let hit = measure(budget, || {
        block_on(cached.verify_token(black_box(&token))).unwrap();
    });
    let protect_full = measure(budget, || {
        block_on(uncached.protect(black_box(&req), &requirement)).unwrap();
    });
    let protect_hit = measure(budget, || {
        block_on(cached.protect(black_box(&req), &requirement)).unwrap();
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

    // ----- The token cache, 1: cache hits on two threads -----
    // Each thread has its own current-thread runtime and calls `protect` through `block_on`,
    // as above; ratios are to one thread, measured in the same rounds.
    let other = local
        .token()
        .subject("user_other")
        .organization_permissions(["user:read"])
        .sign();
    let other_req = http::Request::builder()
        .header("authorization", format!("Bearer {other}"))
        .body(())
        .unwrap();
    // The same tokens, verified with a configured PEM key: no JWKS key cache on the path.
    let static_key = Wacht::new(
        local
            .config_builder()
            .public_signing_key(local.current_key().public_key_pem())
            .build()
            .unwrap(),
    )
    .unwrap();
    for wacht in [&cached, &static_key] {
        block_on(wacht.verify_token(&token)).unwrap();
        block_on(wacht.verify_token(&other)).unwrap();
    }
    let reqs = [&req, &other_req];
    let protect_hit_on = |wacht: &Wacht, req: &http::Request<()>| {
        block_on(wacht.protect(black_box(req), &requirement)).unwrap();
    };
    let round = budget / 5;
    let mut best = [Rate::default(); 7];
    for _ in 0..5 {
        let rates = [
            rate(1, round, &|_| protect_hit_on(&cached, &req)),
            rate(2, round, &|i| protect_hit_on(&cached, reqs[i])),
            rate(2, round, &|_| protect_hit_on(&cached, &req)),
            rate(1, round, &|_| protect_hit_on(&static_key, &req)),
            rate(2, round, &|i| protect_hit_on(&static_key, reqs[i])),
            rate(1, round, &|_| block_on(async { black_box(()) })),
            rate(2, round, &|_| block_on(async { black_box(()) })),
        ];
        for (best, rate) in best.iter_mut().zip(rates) {
            if rate.wall > best.wall {
                *best = rate;
            }
        }
    }
    println!();
    println!(
        "{:<48} {:>10} {:>8} {:>6} {:>10} {:>8} {:>7}",
        "cache-hit protect, threads (best of 5)",
        "M ops/s",
        "ratio",
        "goal",
        "on-CPU r.",
        "waiting",
        "asleep"
    );
    // "on-CPU r.": threads x calls per CPU-second, as a ratio to one thread: the scaling
    // if each thread had a core to itself.
    for (name, threads, rate, base, goal) in [
        ("1 thread (baseline)", 1.0, best[0], best[0], ""),
        (
            "2 threads, distinct tokens",
            2.0,
            best[1],
            best[0],
            ">=1.80",
        ),
        (
            "2 threads, one shared token",
            2.0,
            best[2],
            best[0],
            ">=1.50",
        ),
        (
            "PEM key (no JWKS cache): 1 thread",
            1.0,
            best[3],
            best[3],
            "",
        ),
        (
            "PEM key: 2 threads, distinct tokens",
            2.0,
            best[4],
            best[3],
            "",
        ),
        (
            "harness only, block_on(ready): 1 thread",
            1.0,
            best[5],
            best[5],
            "",
        ),
        ("harness only: 2 threads", 2.0, best[6], best[5], ""),
    ] {
        println!(
            "{name:<48} {:>10.2} {:>8.2} {goal:>6} {:>10.2} {:>7.0}% {:>6.0}%",
            rate.wall / 1e6,
            rate.wall / base.wall,
            threads * rate.on_cpu / base.on_cpu,
            rate.waiting * 100.0,
            rate.asleep * 100.0
        );
    }

    // ----- The token cache, 2: hit rate with a working set twice the capacity -----
    // A lookup is a hit when answered without a signature check: faster than the geometric
    // mean of a hit and a full verify measured above.
    let capacity = 2_000;
    let working_set: Vec<String> = (0..2 * capacity)
        .map(|n| {
            local
                .token()
                .subject(format!("user_{n:05}"))
                .organization_permissions(["user:read"])
                .sign()
        })
        .collect();
    let threshold = Duration::from_nanos((hit * full).sqrt() as u64);
    let hit_rate = |pattern: &mut dyn FnMut(usize) -> usize| {
        let wacht = Wacht::new(
            local
                .config_builder()
                .token_cache_capacity(capacity)
                .build()
                .unwrap(),
        )
        .unwrap();
        let (warm_up, requests) = (2 * capacity, 10 * capacity);
        let mut hits = 0;
        for i in 0..warm_up + requests {
            let token = &working_set[pattern(i)];
            let started = Instant::now();
            block_on(wacht.verify_token(token)).unwrap();
            hits += usize::from(i >= warm_up && started.elapsed() < threshold);
        }
        hits as f64 / requests as f64
    };
    let mut random = xorshift(0x9E37_79B9_7F4A_7C15);
    let uniform = hit_rate(&mut |_| (random() % (2 * capacity as u64)) as usize);
    let looping = hit_rate(&mut |i| i % (2 * capacity));
    println!();
    println!(
        "{:<48} {:>10} {:>8} {:>6}",
        "hit rate, capacity 2 000, 4 000 tokens", "hit %", "ratio", "goal"
    );
    // The ratio is to capacity / working set, the most any cache gets on uniform traffic.
    for (name, rate) in [
        ("uniformly random requests", uniform),
        ("the tokens in a loop", looping),
    ] {
        println!(
            "{name:<48} {:>10.1} {:>8.2} {:>6}",
            rate * 100.0,
            rate / 0.5,
            ">=40 %"
        );
    }

    // ----- The token cache, 3: memory of 12 000 tokens of 15 KB -----
    let bounded = rss_in_child("bounded");
    let count_only = rss_in_child("count-only");
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    // Bytes a cached token takes, from the baseline that keeps (nearly) every token.
    let per_token = count_only.growth as f64 / count_only.held.max(1) as f64;
    println!();
    println!(
        "{:<48} {:>10} {:>8} {:>6} {:>10} {:>8}",
        format!(
            "{LARGE_TOKENS} tokens of {} bytes, VmRSS growth",
            bounded.token_len
        ),
        "MiB",
        "ratio",
        "held",
        "miss ns",
        "hit ns"
    );
    println!(
        "{:<48} {:>10.1} {:>8.2} {:>6} {:>10} {:>8}",
        format!(
            "default bound ({} MiB), capacity {LARGE_TOKENS}",
            wacht::DEFAULT_TOKEN_CACHE_MAX_BYTES >> 20
        ),
        mib(bounded.growth),
        bounded.growth as f64 / count_only.growth as f64,
        format!("~{:.0}", bounded.growth as f64 / per_token),
        bounded.miss_ns,
        bounded.hit_ns
    );
    println!(
        "{:<48} {:>10.1} {:>8.2} {:>6} {:>10} {:>8}",
        format!("no byte bound, capacity {LARGE_TOKENS} (baseline)"),
        mib(count_only.growth),
        1.0,
        count_only.held,
        count_only.miss_ns,
        count_only.hit_ns
    );
    println!(
        "{:.1} KiB of VmRSS per cached token (baseline); held ~ = growth / that; the baseline's \
         held = a second pass's hits",
        per_token / 1024.0
    );
    println!("goal: default bound <= 64 MiB");
}
