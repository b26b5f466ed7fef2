//! Feature `metrics`: what the checks record, read back from a recording recorder
//! (`metrics-util`'s `DebuggingRecorder`, installed once for this test binary), against the
//! local Wacht on 127.0.0.1 with real signed tokens, real API keys and real HTTP.
//!
//! `cargo test --features metrics --test metrics`
//!
//! The recorder is process-wide and every snapshot drains it, so the tests take one lock
//! and each reads exactly what its own requests recorded (the deltas).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use metrics::Unit;
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use wacht::testing::{ApiKeySpec, GatewayFault, JwksFault, LocalWacht, RateLimitRule, serve_with};
use wacht::{Auth, MachineAuth, MachineRequirement, Requirement, Wacht};

use common::{get, rejected};

#[wacht::protect(permission = "user:read")]
async fn admin_users(_req: Request<String>, auth: Auth) -> Response<String> {
    Response::new(auth.user_id().to_owned())
}

#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn machine_users(_req: Request<String>, _auth: MachineAuth) -> Response<String> {
    Response::new("machine".to_owned())
}

fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().unwrap();
        snapshotter
    })
}

/// One test at a time: they share the recorder.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What was recorded since the last snapshot: counters (non-zero), the number of histogram
/// values, gauges; each keyed `name{label=value,…}`.
#[derive(Debug, Default)]
struct Recorded {
    counters: BTreeMap<String, u64>,
    histograms: BTreeMap<String, usize>,
    gauges: BTreeMap<String, f64>,
    units: BTreeMap<String, Option<Unit>>,
}

impl Recorded {
    fn take() -> Self {
        let mut recorded = Recorded::default();
        for (key, unit, _, value) in snapshotter().snapshot().into_vec() {
            let (kind, key) = key.into_parts();
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            assert_closed(key.name(), &key);
            let name = if labels.is_empty() {
                key.name().to_owned()
            } else {
                format!("{}{{{}}}", key.name(), labels.join(","))
            };
            recorded.units.insert(key.name().to_owned(), unit);
            match (kind, value) {
                (MetricKind::Counter, DebugValue::Counter(n)) if n > 0 => {
                    recorded.counters.insert(name, n);
                }
                (MetricKind::Histogram, DebugValue::Histogram(values)) if !values.is_empty() => {
                    assert!(values.iter().all(|v| v.0 >= 0.0 && v.0.is_finite()));
                    recorded.histograms.insert(name, values.len());
                }
                (MetricKind::Gauge, DebugValue::Gauge(v)) => {
                    recorded.gauges.insert(name, v.0);
                }
                _ => {}
            }
        }
        recorded
    }

    fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    /// The counters of one metric, by labels.
    fn counters_of(&self, metric: &str) -> BTreeMap<String, u64> {
        self.counters
            .iter()
            .filter(|(k, _)| k.split('{').next() == Some(metric))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    fn histograms_of(&self, metric: &str) -> BTreeMap<String, usize> {
        self.histograms
            .iter()
            .filter(|(k, _)| k.split('{').next() == Some(metric))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}

/// Every label of every `wacht_` metric is one of the documented closed sets.
fn assert_closed(name: &str, key: &metrics::Key) {
    use wacht::metrics as m;
    let allowed: &[(&str, &[&str])] = match name {
        m::CHECKS_TOTAL => &[
            ("check", m::CHECKS),
            ("outcome", m::OUTCOMES),
            ("reason", m::REASONS),
        ],
        m::CHECK_DURATION_SECONDS => &[("check", m::CHECKS), ("outcome", m::OUTCOMES)],
        m::JWKS_FETCHES_TOTAL | m::JWKS_FETCH_DURATION_SECONDS => &[("result", m::JWKS_RESULTS)],
        m::GATEWAY_DURATION_SECONDS => &[("status", m::GATEWAY_STATUSES)],
        m::TOKEN_CACHE_HITS_TOTAL | m::TOKEN_CACHE_MISSES_TOTAL => &[],
        m::JWKS_KEYS => &[("state", m::KEY_STATES)],
        other => panic!("a metric this crate does not document: {other}"),
    };
    let labels: Vec<_> = key.labels().collect();
    assert_eq!(labels.len(), allowed.len(), "{key:?}");
    for (label, (expected, values)) in labels.iter().zip(allowed) {
        assert_eq!(label.key(), *expected, "{key:?}");
        assert!(values.contains(&label.value()), "{key:?}");
    }
}

fn map<const N: usize>(entries: [(&str, u64); N]) -> BTreeMap<String, u64> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn counts<const N: usize>(entries: [(&str, usize); N]) -> BTreeMap<String, usize> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

#[tokio::test]
async fn the_quickstart_session_cases_count_once_each() {
    let _serial = SERIAL.lock().await;
    snapshotter();
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let server = serve_with(wacht, admin_users).await.unwrap();
    let url = server.url();
    let now = wacht::Clock::system().now();
    let expired = local
        .token()
        .subject("user_alice")
        .issued_at(now - 7200)
        .expires_at(now - 3600)
        .sign();
    let without = local
        .token()
        .subject("user_bob")
        .organization("org_1")
        .sign();
    let with = local
        .token()
        .subject("user_carol")
        .organization("org_1")
        .organization_permissions(["user:read"])
        .sign();
    Recorded::take();

    let answer = get(&url, &[]).await;
    assert_eq!(rejected(&answer, 401, "unauthenticated"), "missing_token");
    let expired = format!("Bearer {expired}");
    let answer = get(&url, &[("authorization", &expired)]).await;
    assert_eq!(rejected(&answer, 401, "unauthenticated"), "token_expired");
    let without = format!("Bearer {without}");
    let answer = get(&url, &[("authorization", &without)]).await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "missing_permission");
    let with = format!("Bearer {with}");
    for _ in 0..2 {
        let answer = get(&url, &[("authorization", &with)]).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.text, "user_carol");
    }

    let recorded = Recorded::take();
    assert_eq!(
        recorded.counters_of("wacht_checks_total"),
        map([
            (
                "wacht_checks_total{check=session,outcome=allowed,reason=none}",
                2
            ),
            (
                "wacht_checks_total{check=session,outcome=forbidden,reason=missing_permission}",
                1
            ),
            (
                "wacht_checks_total{check=session,outcome=unauthenticated,reason=missing_token}",
                1
            ),
            (
                "wacht_checks_total{check=session,outcome=unauthenticated,reason=token_expired}",
                1
            ),
        ])
    );
    assert_eq!(
        recorded.histograms_of("wacht_check_duration_seconds"),
        counts([
            (
                "wacht_check_duration_seconds{check=session,outcome=allowed}",
                2
            ),
            (
                "wacht_check_duration_seconds{check=session,outcome=forbidden}",
                1
            ),
            (
                "wacht_check_duration_seconds{check=session,outcome=unauthenticated}",
                2
            ),
        ])
    );
    // The token cache: no token, no lookup; the expired token and the two valid ones are
    // looked up and not found; the valid one's second request is found.
    assert_eq!(recorded.counter("wacht_token_cache_misses_total"), 3);
    assert_eq!(recorded.counter("wacht_token_cache_hits_total"), 1);
    // One JWKS fetch, for the first token that needed keys.
    assert_eq!(
        recorded.counters_of("wacht_jwks_fetches_total"),
        map([("wacht_jwks_fetches_total{result=ok}", 1)])
    );
    assert_eq!(
        recorded.histograms_of("wacht_jwks_fetch_duration_seconds"),
        counts([("wacht_jwks_fetch_duration_seconds{result=ok}", 1)])
    );
    let published = local.keys().len() as f64;
    assert_eq!(recorded.gauges["wacht_jwks_keys{state=fresh}"], published);
    assert_eq!(recorded.gauges["wacht_jwks_keys{state=stale}"], 0.0);
    // Units as the exporters' conventions want them.
    assert_eq!(
        recorded.units["wacht_check_duration_seconds"],
        Some(Unit::Seconds)
    );
    assert_eq!(
        recorded.units["wacht_jwks_fetch_duration_seconds"],
        Some(Unit::Seconds)
    );
    assert_eq!(recorded.units["wacht_checks_total"], Some(Unit::Count));
}

#[tokio::test]
async fn the_quickstart_machine_cases_count_once_each() {
    let _serial = SERIAL.lock().await;
    snapshotter();
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let server = serve_with(wacht, machine_users).await.unwrap();
    let url = server.url();
    let reader = local.create_api_key(
        ApiKeySpec::new()
            .name("reporting job")
            .permissions(["user:read"])
            .rate_limit(RateLimitRule::per_key(
                "burst",
                3,
                Duration::from_secs(3600),
            )),
    );
    let writer = local.create_api_key(
        ApiKeySpec::new()
            .name("billing job")
            .permissions(["billing:write"]),
    );
    let unknown = format!("wk_test_{}", "x".repeat(43));
    Recorded::take();

    let answer = get(&url, &[]).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "missing_credential"
    );
    let answer = get(&url, &[("x-api-key", &unknown)]).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "invalid_credential"
    );
    let answer = get(&url, &[("x-api-key", writer.secret())]).await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "permission_denied");
    for _ in 0..3 {
        let answer = get(&url, &[("x-api-key", reader.secret())]).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    let answer = get(&url, &[("x-api-key", reader.secret())]).await;
    assert_eq!(rejected(&answer, 429, "rate_limited"), "rate_limited");

    let recorded = Recorded::take();
    assert_eq!(
        recorded.counters_of("wacht_checks_total"),
        map([
            (
                "wacht_checks_total{check=machine,outcome=allowed,reason=none}",
                3
            ),
            (
                "wacht_checks_total{check=machine,outcome=forbidden,reason=permission_denied}",
                1
            ),
            (
                "wacht_checks_total{check=machine,outcome=rate_limited,reason=rate_limited}",
                1
            ),
            (
                "wacht_checks_total{check=machine,outcome=unauthenticated,reason=invalid_credential}",
                1
            ),
            (
                "wacht_checks_total{check=machine,outcome=unauthenticated,reason=missing_credential}",
                1
            ),
        ])
    );
    // No credential: no gateway call. The unknown key is the gateway's 401; every other
    // answer (allowed, denied, rate-limited) is its 200.
    assert_eq!(
        recorded.histograms_of("wacht_gateway_duration_seconds"),
        counts([
            ("wacht_gateway_duration_seconds{status=200}", 5),
            ("wacht_gateway_duration_seconds{status=401}", 1),
        ])
    );
    assert_eq!(
        recorded.units["wacht_gateway_duration_seconds"],
        Some(Unit::Seconds)
    );
    // Machine checks touch neither the token cache nor the keys.
    assert_eq!(recorded.counter("wacht_token_cache_hits_total"), 0);
    assert_eq!(recorded.counter("wacht_token_cache_misses_total"), 0);
    assert!(recorded.counters_of("wacht_jwks_fetches_total").is_empty());
}

#[tokio::test]
async fn jwks_failures_are_counted_by_result() {
    let _serial = SERIAL.lock().await;
    snapshotter();
    let local = LocalWacht::start().unwrap();
    let token = format!(
        "Bearer {}",
        local
            .token()
            .subject("user_1")
            .organization_permissions(["user:read"])
            .sign()
    );
    let cases = [
        (JwksFault::Down, "unreachable", "keys_unavailable"),
        (JwksFault::Status(500), "http_error", "keys_unavailable"),
        (JwksFault::InvalidJson, "invalid", "keys_unavailable"),
        (
            JwksFault::Slow(Duration::from_secs(2)),
            "timeout",
            "keys_timeout",
        ),
    ];
    for (fault, result, reason) in cases {
        local.set_jwks_fault(fault);
        // A cold context each time: its first request fetches.
        let config = local
            .config_builder()
            .http_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let server = serve_with(Wacht::new(config).unwrap(), admin_users)
            .await
            .unwrap();
        Recorded::take();
        let answer = get(&server.url(), &[("authorization", &token)]).await;
        assert_eq!(rejected(&answer, 503, "auth_unavailable"), reason);
        let recorded = Recorded::take();
        assert_eq!(
            recorded.counters_of("wacht_jwks_fetches_total"),
            map([(
                format!("wacht_jwks_fetches_total{{result={result}}}").as_str(),
                1
            )]),
            "{fault:?}"
        );
        assert_eq!(
            recorded.counters_of("wacht_checks_total"),
            map([(
                format!(
                    "wacht_checks_total{{check=session,outcome=auth_unavailable,reason={reason}}}"
                )
                .as_str(),
                1
            )]),
            "{fault:?}"
        );
        assert_eq!(recorded.counter("wacht_token_cache_misses_total"), 1);
    }
}

#[tokio::test]
async fn keys_held_past_their_ttl_are_stale_and_keep_serving() {
    let _serial = SERIAL.lock().await;
    snapshotter();
    let local = LocalWacht::start().unwrap();
    let config = local
        .config_builder()
        .jwks_ttl(Duration::from_secs(1))
        .build()
        .unwrap();
    let server = serve_with(Wacht::new(config).unwrap(), admin_users)
        .await
        .unwrap();
    let token = |subject: &str| {
        format!(
            "Bearer {}",
            local
                .token()
                .subject(subject)
                .organization_permissions(["user:read"])
                .sign()
        )
    };
    let answer = get(&server.url(), &[("authorization", &token("user_1"))]).await;
    assert_eq!(answer.status, StatusCode::OK);
    let published = local.keys().len() as f64;
    assert_eq!(
        Recorded::take().gauges["wacht_jwks_keys{state=fresh}"],
        published
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    local.set_jwks_fault(JwksFault::Status(503));
    let answer = get(&server.url(), &[("authorization", &token("user_2"))]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let recorded = Recorded::take();
    assert_eq!(recorded.gauges["wacht_jwks_keys{state=fresh}"], 0.0);
    assert_eq!(recorded.gauges["wacht_jwks_keys{state=stale}"], published);
    assert_eq!(
        recorded.counters_of("wacht_jwks_fetches_total"),
        map([("wacht_jwks_fetches_total{result=http_error}", 1)])
    );
}

#[tokio::test]
async fn gateway_failures_are_timed_by_status() {
    let _serial = SERIAL.lock().await;
    snapshotter();
    let local = LocalWacht::start().unwrap();
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let config = local
        .config_builder()
        .http_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let server = serve_with(Wacht::new(config).unwrap(), machine_users)
        .await
        .unwrap();
    let cases = [
        (GatewayFault::Down, "unreachable", "gateway_unreachable"),
        (GatewayFault::Status(503), "5xx", "gateway_error"),
        (GatewayFault::Status(403), "403", "gateway_error"),
        (GatewayFault::Status(418), "other", "gateway_error"),
        (
            GatewayFault::GarbageJson,
            "invalid",
            "gateway_invalid_response",
        ),
        (
            GatewayFault::Slow(Duration::from_secs(2)),
            "timeout",
            "gateway_timeout",
        ),
    ];
    for (fault, status, reason) in cases {
        local.set_gateway_fault(fault);
        Recorded::take();
        let answer = get(&server.url(), &[("x-api-key", key.secret())]).await;
        let got = rejected(&answer, 503, "auth_unavailable");
        assert_eq!(got, reason, "{fault:?}");
        let recorded = Recorded::take();
        assert_eq!(
            recorded.histograms_of("wacht_gateway_duration_seconds"),
            counts([(
                format!("wacht_gateway_duration_seconds{{status={status}}}").as_str(),
                1
            )]),
            "{fault:?}"
        );
        assert_eq!(
            recorded.counters_of("wacht_checks_total"),
            map([(
                format!(
                    "wacht_checks_total{{check=machine,outcome=auth_unavailable,reason={reason}}}"
                )
                .as_str(),
                1
            )]),
            "{fault:?}"
        );
    }
}

#[tokio::test]
async fn a_request_refused_before_either_check_counts_as_either() {
    let _serial = SERIAL.lock().await;
    snapshotter();
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let token = local.token().subject("user_1").sign();
    let req = Request::builder()
        .uri("/either")
        .header("authorization", format!("Bearer {token}"))
        .header("x-api-key", key.secret())
        .body(String::new())
        .unwrap();
    Recorded::take();
    let refused = wacht
        .protect_or_machine(&req, &Requirement::new(), &MachineRequirement::new())
        .await
        .unwrap_err();
    assert_eq!(refused.reason(), "ambiguous_credential");
    let recorded = Recorded::take();
    assert_eq!(
        recorded.counters_of("wacht_checks_total"),
        map([(
            "wacht_checks_total{check=either,outcome=unauthenticated,reason=ambiguous_credential}",
            1
        )])
    );
}

/// Webhook deliveries count under `check="webhook"`: a signed one allowed, a forged one and a
/// stale one refused with their reasons (feature `metrics`).
#[tokio::test]
async fn webhook_deliveries_count_as_webhook_checks() {
    let _serial = SERIAL.lock().await;
    snapshotter();
    let local = LocalWacht::start().unwrap();
    let settings = wacht::webhook::Webhook::builder()
        .secrets_text(&local.webhook_secret())
        .build()
        .unwrap();
    let now = 1_767_225_600;
    let event = |id: &str| {
        wacht::testing::OutgoingEvent::new(
            "user.created",
            serde_json::json!({ "entity_id": 1, "entity_type": "user", "id": "1" }),
        )
        .id(id)
        .timestamp(now)
    };
    let forged_secret = "whsec_ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q=";
    Recorded::take();
    for (delivery, allowed) in [
        (event("msg_ok"), true),
        (event("msg_forged").signed_with(forged_secret), false),
        (event("msg_stale").timestamp(now - 3600), false),
    ] {
        let (parts, body) = local.webhook_request("/hooks", &delivery).into_parts();
        let verified = settings.verify_at(&parts.headers, body.into(), now);
        assert_eq!(verified.is_ok(), allowed, "{verified:?}");
    }
    let recorded = Recorded::take();
    assert_eq!(
        recorded.counters_of("wacht_checks_total"),
        map([
            (
                "wacht_checks_total{check=webhook,outcome=allowed,reason=none}",
                1
            ),
            (
                "wacht_checks_total{check=webhook,outcome=unauthenticated,reason=signature_mismatch}",
                1
            ),
            (
                "wacht_checks_total{check=webhook,outcome=unauthenticated,reason=stale_timestamp}",
                1
            ),
        ])
    );
}

/// Every reason code of the rejections guide (which `tests/docs_check.rs` keeps complete for
/// the code) is its own `reason` label, and the label set holds nothing else but `none` and
/// `other`.
#[test]
fn the_reason_labels_are_the_documented_reason_codes() {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rejections.md"),
    )
    .unwrap();
    let mut documented = std::collections::BTreeSet::new();
    let mut in_table = false;
    for line in guide.lines() {
        if line.starts_with("| reason |") {
            in_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        if in_table
            && let Some(code) = line
                .strip_prefix("| `")
                .and_then(|rest| rest.split('`').next())
        {
            documented.insert(code.to_owned());
        }
    }
    assert!(documented.len() > 60, "{documented:?}");
    let labels: std::collections::BTreeSet<String> = wacht::metrics::REASONS
        .iter()
        .filter(|r| !matches!(**r, "none" | "other"))
        .map(|r| (*r).to_owned())
        .collect();
    assert_eq!(labels, documented);
}
