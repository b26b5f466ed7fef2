//! A protected HTTP server under mixed load: wrong decisions (must be none), throughput,
//! latency and the server's memory.
//!
//! ```text
//! cargo bench --bench load
//! WACHT_LOAD_REQUESTS=100000 cargo bench --bench load
//! ```
//!
//! The bench starts a local Wacht (JWKS and gateway on 127.0.0.1) in this process, mints
//! session tokens and creates API keys on it, then re-executes itself as the server: a
//! child process serving, with hyper on a loopback port, a
//! `#[wacht::protect(permission = "user:read")]` handler on `/admin/users` and a
//! `#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]`
//! handler on `/machine/users`, configured from the environment (`WACHT_PUBLISHABLE_KEY`,
//! `WACHT_GATEWAY_URL`) as a deployment is. The child prints its URL as one JSON line. The
//! server being its own process, its resident memory is read from `/proc/<pid>/status`
//! (`VmRSS` before the first request and after the last, `VmHWM` the peak), untouched by
//! the emulator and the client, and so is its CPU time (`/proc/<pid>/stat`).
//!
//! The client sends `WACHT_LOAD_REQUESTS` (default 20 000) requests, 32 in flight over one
//! shared `reqwest` client, of seven kinds in a fixed pseudo-random order: valid session
//! tokens of 300 users (200, the body naming that user), expired tokens (401), tokens
//! without `user:read` (403), garbage `Authorization` headers (401), API keys with
//! `user:read` (200, the body naming that key), keys without it (403) and unknown or
//! malformed keys (401). A decision is wrong when the status differs, or a 200's body is
//! not the handler's own answer for that caller. The process exits non-zero on any wrong
//! decision. `WACHT_LOAD_ONLY=<kind>` (`session-valid`, `session-expired`,
//! `session-no-permission`, `session-garbage`, `machine-good`, `machine-no-permission`,
//! `machine-unknown`) sends only that kind, to see what each costs the server.
//!
//! Then the cost seen from outside: the server also serves an unprotected twin of each route
//! (`/open/admin/users`, `/open/machine/users`: the same body shape, no check), and the
//! client sends `WACHT_LOAD_COST_REQUESTS` (default 10 000) requests to a protected route and
//! as many with the same headers to its twin, in alternating order over five rounds, for
//! session tokens seen before, API keys and first-seen tokens; it prints the best round's
//! requests per second of each side and their ratio (goal for a token seen before: ≥ 0.9x).
//! With `--features metrics` the server installs a recorder first, so every metric is
//! recorded as under an exporter: run the bench with and without the feature to see its cost.
//!
//! Results are recorded in `benches/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use wacht::testing::{ApiKeySpec, KeyAlgorithm, LocalWacht, TestKey};
use wacht::{Auth, MachineAuth};

/// Set (to `server`) in the child's environment: run the protected server.
const ROLE_VAR: &str = "WACHT_LOAD_ROLE";
const DEFAULT_REQUESTS: usize = 20_000;
const IN_FLIGHT: usize = 32;
const VALID_USERS: usize = 300;

// ----- the server (child process) -----

/// The session handler's answer for `user`: what a 200 must carry, byte for byte.
fn session_body(user: &str) -> String {
    json!({ "handler": "admin_users", "user": user }).to_string()
}

/// The machine handler's answer for `key_id`.
fn machine_body(key_id: &str) -> String {
    json!({ "handler": "machine_users", "key": key_id }).to_string()
}

#[wacht::protect(permission = "user:read")]
async fn admin_users(
    _req: Request<Incoming>,
    auth: Auth,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from(session_body(
        auth.user_id(),
    )))))
}

#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn machine_users(
    _req: Request<Incoming>,
    auth: MachineAuth,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from(machine_body(
        auth.key_id().unwrap_or("?"),
    )))))
}

/// The unprotected twins' answer: the same shape, no caller to name.
fn open_body(handler: &str) -> String {
    json!({ "handler": handler, "user": "anonymous" }).to_string()
}

/// The unprotected twin of a route: the same server, the same body size, no check.
async fn open_route(handler: &'static str) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from(open_body(handler)))))
}

/// Installs a recorder (feature `metrics`) so every metric is really recorded, as under an
/// exporter: before the context is built, which binds its handles to it.
#[cfg(feature = "metrics")]
fn install_recorder() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    // The snapshotter is never read here: recording is what is measured.
    std::mem::forget(recorder.snapshotter());
    recorder.install().expect("the only recorder");
    wacht::metrics::describe();
}

#[cfg(not(feature = "metrics"))]
fn install_recorder() {}

/// Serves both handlers and their unprotected twins (`/open/…`) until stdin closes (the
/// parent's signal to stop).
fn run_server() {
    install_recorder();
    // The process-wide context, from the environment the parent set; built now so a bad
    // configuration fails before the URL is announced.
    wacht::global().expect("the server's configuration");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut stdout = std::io::stdout().lock();
        writeln!(
            stdout,
            "{}",
            json!({ "url": url, "pid": std::process::id() })
        )
        .unwrap();
        stdout.flush().unwrap();
        drop(stdout);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|req: Request<Incoming>| async move {
                    match req.uri().path() {
                        "/machine/users" => machine_users(req).await,
                        "/open/machine/users" => open_route("machine_users").await,
                        "/open/admin/users" => open_route("admin_users").await,
                        _ => admin_users(req).await,
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

// ----- the client (this process) -----

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    SessionValid,
    SessionExpired,
    SessionNoPermission,
    SessionGarbage,
    MachineGood,
    MachineNoPermission,
    MachineUnknown,
}

impl Kind {
    /// Every kind, with its share of the requests (in percent).
    const MIX: [(Kind, u64); 7] = [
        (Kind::SessionValid, 30),
        (Kind::SessionExpired, 10),
        (Kind::SessionNoPermission, 10),
        (Kind::SessionGarbage, 10),
        (Kind::MachineGood, 20),
        (Kind::MachineNoPermission, 10),
        (Kind::MachineUnknown, 10),
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::SessionValid => "session: valid token",
            Kind::SessionExpired => "session: expired token",
            Kind::SessionNoPermission => "session: no user:read",
            Kind::SessionGarbage => "session: garbage Authorization",
            Kind::MachineGood => "machine: good key",
            Kind::MachineNoPermission => "machine: key without user:read",
            Kind::MachineUnknown => "machine: unknown/garbage key",
        }
    }

    /// The name `WACHT_LOAD_ONLY` takes.
    fn slug(self) -> &'static str {
        match self {
            Kind::SessionValid => "session-valid",
            Kind::SessionExpired => "session-expired",
            Kind::SessionNoPermission => "session-no-permission",
            Kind::SessionGarbage => "session-garbage",
            Kind::MachineGood => "machine-good",
            Kind::MachineNoPermission => "machine-no-permission",
            Kind::MachineUnknown => "machine-unknown",
        }
    }

    fn expected_status(self) -> u16 {
        match self {
            Kind::SessionValid | Kind::MachineGood => 200,
            Kind::SessionNoPermission | Kind::MachineNoPermission => 403,
            _ => 401,
        }
    }
}

/// One planned request: its kind, the header to send, and what a 200 must carry.
struct Planned {
    kind: Kind,
    path: &'static str,
    header: (&'static str, Arc<str>),
    ok_body: Option<Arc<str>>,
}

/// Credentials of each kind, minted on the emulator.
struct Credentials {
    /// `(Authorization value, expected body)` per valid user.
    valid: Vec<(Arc<str>, Arc<str>)>,
    expired: Vec<Arc<str>>,
    no_permission: Vec<Arc<str>>,
    garbage: Vec<Arc<str>>,
    /// `(key, expected body)`.
    good_keys: Vec<(Arc<str>, Arc<str>)>,
    weak_keys: Vec<Arc<str>>,
    unknown_keys: Vec<Arc<str>>,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

fn bearer(token: &str) -> Arc<str> {
    format!("Bearer {token}").into()
}

fn mint(local: &LocalWacht) -> Credentials {
    let now = unix_now();
    let valid = (0..VALID_USERS)
        .map(|i| {
            let user = format!("user_{i:04}");
            let token = local
                .token()
                .subject(&user)
                .session(format!("sess_{i:04}"))
                .organization_permissions(["user:read"])
                .sign();
            (bearer(&token), session_body(&user).into())
        })
        .collect();
    let expired = (0..20)
        .map(|i| {
            bearer(
                &local
                    .token()
                    .subject(format!("user_expired_{i}"))
                    .organization_permissions(["user:read"])
                    .issued_at(now - 7200)
                    .expires_at(now - 60 - i)
                    .sign(),
            )
        })
        .collect();
    let no_permission = (0..50)
        .map(|i| {
            bearer(
                &local
                    .token()
                    .subject(format!("user_writer_{i}"))
                    .organization_permissions(["user:write"])
                    .sign(),
            )
        })
        .collect();
    let good = local
        .token()
        .subject("user_0000")
        .organization_permissions(["user:read"])
        .sign();
    let mut tampered = good.clone();
    let last = if tampered.ends_with('A') { "B" } else { "A" };
    tampered.replace_range(tampered.len() - 1.., last);
    let unpublished = TestKey::generate(KeyAlgorithm::Es256);
    let garbage = vec![
        "Bearer not-a-token".into(),
        "Bearer a.b.c".into(),
        "Basic dXNlcjpwYXNzd29yZA==".into(),
        "Bearer".into(),
        "Bearer two words".into(),
        bearer(&tampered),
        // Issued long before any key set was fetched: its unknown key is a plain 401. (One
        // issued now would be 503 + Retry-After inside the refresh interval: the key may
        // have been rotated in.)
        bearer(&local.token().key(&unpublished).issued_at(1).sign()),
        bearer(&local.token().unsigned()),
        bearer(
            &local
                .token()
                .sign_hs256(local.current_key().public_key_pem().as_bytes()),
        ),
        bearer(&format!("{}.", good.rsplit_once('.').unwrap().0)),
    ];
    let good_keys = (0..20)
        .map(|i| {
            let key = local.create_api_key(
                ApiKeySpec::new()
                    .name(format!("reader {i}"))
                    .permissions(["user:read"]),
            );
            (key.secret().into(), machine_body(key.key_id()).into())
        })
        .collect();
    let weak_keys = (0..5)
        .map(|i| {
            let key = local.create_api_key(
                ApiKeySpec::new()
                    .name(format!("writer {i}"))
                    .permissions(["user:write"]),
            );
            key.secret().into()
        })
        .collect();
    let revoked = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    local.revoke_api_key(&revoked);
    let unknown_keys = vec![
        revoked.secret().into(),
        "not-a-key".into(),
        "wk_test_short".into(),
        "Bearer wk_test_0000".into(),
    ];
    Credentials {
        valid,
        expired,
        no_permission,
        garbage,
        good_keys,
        weak_keys,
        unknown_keys,
    }
}

/// splitmix64: a fixed, dependency-free pseudo-random sequence (the same mix every run).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `only`: every request of that kind instead of the mix.
fn plan(credentials: &Credentials, requests: usize, only: Option<Kind>) -> Vec<Planned> {
    let mut mix = Mix(0x5EED);
    (0..requests)
        .map(|_| {
            let mut roll = mix.next() % 100;
            let kind = Kind::MIX
                .iter()
                .find(|(_, share)| {
                    let hit = roll < *share;
                    roll = roll.saturating_sub(*share);
                    hit
                })
                .map_or(Kind::SessionValid, |(kind, _)| *kind);
            let kind = only.unwrap_or(kind);
            let pick = |list: &[Arc<str>], mix: &mut Mix| list[mix.below(list.len())].clone();
            let (header, ok_body) = match kind {
                Kind::SessionValid => {
                    let (value, body) = &credentials.valid[mix.below(credentials.valid.len())];
                    (("authorization", value.clone()), Some(body.clone()))
                }
                Kind::SessionExpired => (
                    ("authorization", pick(&credentials.expired, &mut mix)),
                    None,
                ),
                Kind::SessionNoPermission => (
                    ("authorization", pick(&credentials.no_permission, &mut mix)),
                    None,
                ),
                Kind::SessionGarbage => (
                    ("authorization", pick(&credentials.garbage, &mut mix)),
                    None,
                ),
                Kind::MachineGood => {
                    let (value, body) =
                        &credentials.good_keys[mix.below(credentials.good_keys.len())];
                    (("x-api-key", value.clone()), Some(body.clone()))
                }
                Kind::MachineNoPermission => {
                    (("x-api-key", pick(&credentials.weak_keys, &mut mix)), None)
                }
                Kind::MachineUnknown => (
                    ("x-api-key", pick(&credentials.unknown_keys, &mut mix)),
                    None,
                ),
            };
            let path = if header.0 == "x-api-key" {
                "/machine/users"
            } else {
                "/admin/users"
            };
            Planned {
                kind,
                path,
                header,
                ok_body,
            }
        })
        .collect()
}

/// One answered (or failed) request.
struct Outcome {
    kind: Kind,
    micros: u64,
    wrong: Option<String>,
}

async fn send(client: &reqwest::Client, base: &str, planned: &Planned) -> Outcome {
    let path = planned.path;
    let started = Instant::now();
    let result = async {
        let response = client
            .get(format!("{base}{path}"))
            .header(planned.header.0, &*planned.header.1)
            .send()
            .await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok::<_, reqwest::Error>((status, text))
    }
    .await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let expected = planned.kind.expected_status();
    let wrong = match result {
        Err(error) => Some(format!("transport error: {error}")),
        Ok((status, _)) if status != expected => {
            Some(format!("status {status}, expected {expected}"))
        }
        Ok((_, text)) => match &planned.ok_body {
            Some(body) if text != **body => Some(format!("200 with body {text}, expected {body}")),
            _ => None,
        },
    };
    Outcome {
        kind: planned.kind,
        micros,
        wrong,
    }
}

/// Sends `planned`, [`IN_FLIGHT`] at a time over `client`: the outcomes and the wall time.
async fn run_batch(
    client: &reqwest::Client,
    base: &str,
    planned: Arc<Vec<Planned>>,
) -> (Vec<Outcome>, Duration) {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (client, base, planned, next) = (
                client.clone(),
                base.to_owned(),
                planned.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(request) = planned.get(i) else {
                        break;
                    };
                    outcomes.push(send(&client, &base, request).await);
                }
                outcomes
            })
        })
        .collect();
    let mut all = Vec::with_capacity(planned.len());
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    (all, started.elapsed())
}

/// Rounds of each comparison in the cost phase (protected and twin alternate which goes
/// first); the best round of each side is kept.
const COST_ROUNDS: usize = 5;
const DEFAULT_COST_REQUESTS: usize = 10_000;

/// One comparison of the cost phase: a protected route against its unprotected twin on the
/// same server, with the same request headers. `protected[r]`/`open[r]` are round `r`.
struct Comparison {
    name: &'static str,
    protected: Vec<Arc<Vec<Planned>>>,
    open: Vec<Arc<Vec<Planned>>>,
}

/// The cost phase's comparisons: `n` requests per side and round.
fn comparisons(local: &LocalWacht, credentials: &Credentials, n: usize) -> Vec<Comparison> {
    let twin = |kind: Kind, path: &'static str, handler: &str, headers: &[Arc<str>]| {
        let name = if kind == Kind::MachineGood {
            "x-api-key"
        } else {
            "authorization"
        };
        let body: Arc<str> = open_body(handler).into();
        Arc::new(
            (0..n)
                .map(|i| Planned {
                    kind,
                    path,
                    header: (name, headers[i % headers.len()].clone()),
                    ok_body: Some(body.clone()),
                })
                .collect::<Vec<_>>(),
        )
    };
    let protected =
        |kind: Kind, path: &'static str, pairs: &[(Arc<str>, Arc<str>)], skip: usize| {
            let name = if kind == Kind::MachineGood {
                "x-api-key"
            } else {
                "authorization"
            };
            Arc::new(
                (0..n)
                    .map(|i| {
                        let (value, body) = &pairs[(skip + i) % pairs.len()];
                        Planned {
                            kind,
                            path,
                            header: (name, value.clone()),
                            ok_body: Some(body.clone()),
                        }
                    })
                    .collect::<Vec<_>>(),
            )
        };
    let headers = |pairs: &[(Arc<str>, Arc<str>)]| -> Vec<Arc<str>> {
        pairs.iter().map(|(value, _)| value.clone()).collect()
    };
    // Tokens never sent before: each protected request verifies a signature.
    let fresh: Vec<(Arc<str>, Arc<str>)> = (0..n * COST_ROUNDS)
        .map(|i| {
            let user = format!("user_fresh_{i:06}");
            let token = local
                .token()
                .subject(&user)
                .organization_permissions(["user:read"])
                .sign();
            (bearer(&token), session_body(&user).into())
        })
        .collect();
    let rounds = |make: &dyn Fn(usize) -> Arc<Vec<Planned>>| (0..COST_ROUNDS).map(make).collect();
    vec![
        Comparison {
            name: "session token seen before",
            protected: rounds(&|_| {
                protected(Kind::SessionValid, "/admin/users", &credentials.valid, 0)
            }),
            open: rounds(&|_| {
                twin(
                    Kind::SessionValid,
                    "/open/admin/users",
                    "admin_users",
                    &headers(&credentials.valid),
                )
            }),
        },
        Comparison {
            name: "API key",
            protected: rounds(&|_| {
                protected(
                    Kind::MachineGood,
                    "/machine/users",
                    &credentials.good_keys,
                    0,
                )
            }),
            open: rounds(&|_| {
                twin(
                    Kind::MachineGood,
                    "/open/machine/users",
                    "machine_users",
                    &headers(&credentials.good_keys),
                )
            }),
        },
        Comparison {
            name: "first-seen tokens",
            protected: rounds(&|round| {
                protected(Kind::SessionValid, "/admin/users", &fresh, round * n)
            }),
            open: rounds(&|_| {
                twin(
                    Kind::SessionValid,
                    "/open/admin/users",
                    "admin_users",
                    &headers(&fresh),
                )
            }),
        },
    ]
}

/// Requests per second of the best round.
fn best_rps(rounds: &[(usize, Duration)]) -> f64 {
    rounds
        .iter()
        .map(|(count, elapsed)| *count as f64 / elapsed.as_secs_f64())
        .fold(0.0, f64::max)
}

/// `VmRSS` and `VmHWM` of a process, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU time of a process (all its threads), in seconds (`USER_HZ` is 100 on
/// Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(micros: u64) -> String {
    format!("{:.2}", micros as f64 / 1000.0)
}

fn main() {
    if std::env::var(ROLE_VAR).as_deref() == Ok("server") {
        run_server();
        return;
    }
    let requests: usize = std::env::var("WACHT_LOAD_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_REQUESTS);

    let only = std::env::var("WACHT_LOAD_ONLY").ok().map(|slug| {
        Kind::MIX
            .iter()
            .map(|(kind, _)| *kind)
            .find(|kind| kind.slug() == slug)
            .unwrap_or_else(|| {
                let slugs: Vec<_> = Kind::MIX.iter().map(|(kind, _)| kind.slug()).collect();
                panic!(
                    "WACHT_LOAD_ONLY={slug}: expected one of {}",
                    slugs.join(", ")
                )
            })
    });

    let cost_requests: usize = std::env::var("WACHT_LOAD_COST_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_COST_REQUESTS)
        .max(1);

    let local = LocalWacht::start().unwrap();
    let credentials = mint(&local);
    let planned = Arc::new(plan(&credentials, requests, only));
    let comparisons = comparisons(&local, &credentials, cost_requests);

    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(ROLE_VAR, "server")
        .env("WACHT_PUBLISHABLE_KEY", local.publishable_key())
        .env("WACHT_GATEWAY_URL", local.url())
        .env_remove("NEXT_PUBLIC_WACHT_PUBLISHABLE_KEY")
        .env_remove("WACHT_PUBLIC_SIGNING_KEY")
        .env_remove("WACHT_API_KEY")
        .env_remove("WACHT_BACKEND_API_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let announced: Value = serde_json::from_str(&line).expect("the server's JSON line");
    let base = announced["url"].as_str().unwrap().to_owned();
    let pid = child.id();
    let (rss_start, _) = memory_kib(pid);
    let cpu_start = cpu_seconds(pid);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(IN_FLIGHT)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let (outcomes, elapsed) = runtime.block_on(run_batch(&client, &base, planned));
    let (rss_end, hwm) = memory_kib(pid);
    let server_cpu = cpu_seconds(pid) - cpu_start;

    // The cost seen from outside: each protected route against its unprotected twin on the
    // same server, same headers, same run. Every seen-before credential is sent once first.
    let mut cost_wrong: Vec<Outcome> = Vec::new();
    let mut cost_rows = Vec::new();
    runtime.block_on(async {
        for warm in [&comparisons[0].protected[0], &comparisons[1].protected[0]] {
            let (warmed, _) = run_batch(&client, &base, warm.clone()).await;
            cost_wrong.extend(warmed.into_iter().filter(|o| o.wrong.is_some()));
        }
        for comparison in &comparisons {
            let mut protected = Vec::new();
            let mut open = Vec::new();
            for round in 0..COST_ROUNDS {
                let sides = [
                    (&comparison.protected[round], &mut protected),
                    (&comparison.open[round], &mut open),
                ];
                let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
                let mut sides = sides.map(Some);
                for side in order {
                    let (batch, results) = sides[side].take().unwrap();
                    let (answered, took) = run_batch(&client, &base, batch.clone()).await;
                    results.push((answered.len(), took));
                    cost_wrong.extend(answered.into_iter().filter(|o| o.wrong.is_some()));
                }
            }
            cost_rows.push((comparison.name, best_rps(&protected), best_rps(&open)));
        }
    });

    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.wait();

    let wrong: Vec<&Outcome> = outcomes.iter().filter(|o| o.wrong.is_some()).collect();
    let mut all_micros: Vec<u64> = outcomes.iter().map(|o| o.micros).collect();
    all_micros.sort_unstable();

    println!(
        "{} requests, {IN_FLIGHT} in flight, {:.2} s: {:.0} requests/s",
        outcomes.len(),
        elapsed.as_secs_f64(),
        outcomes.len() as f64 / elapsed.as_secs_f64()
    );
    println!();
    println!(
        "{:<32} {:>6} {:>6} {:>6} {:>9} {:>9} {:>9}",
        "kind", "status", "count", "wrong", "p50 ms", "p99 ms", "max ms"
    );
    for (kind, _) in Kind::MIX {
        let mut micros: Vec<u64> = outcomes
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| o.micros)
            .collect();
        micros.sort_unstable();
        let wrong_here = wrong.iter().filter(|o| o.kind == kind).count();
        println!(
            "{:<32} {:>6} {:>6} {:>6} {:>9} {:>9} {:>9}",
            kind.name(),
            kind.expected_status(),
            micros.len(),
            wrong_here,
            ms(percentile(&micros, 0.50)),
            ms(percentile(&micros, 0.99)),
            ms(micros.last().copied().unwrap_or(0)),
        );
    }
    println!(
        "{:<32} {:>6} {:>6} {:>6} {:>9} {:>9} {:>9}",
        "all",
        "",
        all_micros.len(),
        wrong.len(),
        ms(percentile(&all_micros, 0.50)),
        ms(percentile(&all_micros, 0.99)),
        ms(all_micros.last().copied().unwrap_or(0)),
    );
    println!();
    println!(
        "server RSS: {:.1} MiB at start, {:.1} MiB at end, {:.1} MiB peak (VmHWM)",
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    println!(
        "server CPU: {server_cpu:.2} s user+sys, {:.0} µs per request (client, server and \
         emulator share the machine's cores)",
        server_cpu * 1e6 / outcomes.len() as f64
    );
    println!(
        "emulator saw: {} JWKS fetches, {} gateway checks, {} connections from the server",
        local.jwks_fetches(),
        local.gateway_checks(),
        local.connections()
    );
    println!();
    println!(
        "cost seen from outside (feature metrics {}): protected / unprotected twin on the \
         same server, best of {COST_ROUNDS} rounds of {cost_requests} requests each, \
         {IN_FLIGHT} in flight",
        if cfg!(feature = "metrics") {
            "on, every metric recorded"
        } else {
            "off"
        }
    );
    println!(
        "{:<32} {:>12} {:>12} {:>7}",
        "route", "protected/s", "twin/s", "ratio"
    );
    for (name, protected, open) in &cost_rows {
        println!(
            "{name:<32} {protected:>12.0} {open:>12.0} {:>6.2}x",
            protected / open
        );
    }
    println!("(goal for a token seen before: >= 0.90x the unprotected twin)");
    let wrong: Vec<&Outcome> = wrong.into_iter().chain(cost_wrong.iter()).collect();
    println!("wrong decisions: {}", wrong.len());
    for outcome in wrong.iter().take(10) {
        println!(
            "  {}: {}",
            outcome.kind.name(),
            outcome.wrong.as_deref().unwrap_or("")
        );
    }
    if !wrong.is_empty() {
        std::process::exit(1);
    }
}
