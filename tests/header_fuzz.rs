//! Arbitrary bytes in `Authorization`, `x-api-key` and `x-wacht-auth` never get a caller in.
//!
//! For every generated value that `http::HeaderValue::from_bytes` accepts, the value is put
//! in each of the three headers in turn, in all three at once, and twice in the same header,
//! and handed (with a `Wacht` for a local Wacht in the request's extensions, no HTTP
//! server in front) to a `#[wacht::protect]` handler, a
//! `#[wacht::protect(permission = "user:read")]` handler and a
//! `#[wacht::machine(principal = "any")]` handler (API keys and bearer tokens go to the
//! local gateway on 127.0.0.1). Every answer must be the JSON `401 unauthenticated`, and no
//! handler body may ever run. The same value is read by the header bridge
//! (`wacht::bridge::from_request`): it must not panic, and it may only yield an identity when
//! the bytes are JSON of the documented shape, with exactly the fields that JSON holds.
//!
//! Values are random bytes (mostly ones a header can carry), `Bearer ` + random bytes, three
//! random base64url segments, JWTs built from random headers, claims and signatures,
//! correctly signed tokens whose claims are broken in one way, headers that try to choose
//! their own key (`jwk`, `jku`, another `kid` or `alg`, `crit`), real tokens spliced with
//! each other or changed in one byte, JSON-ish identities for `x-wacht-auth`, and deeply
//! nested JSON. A control test shows the same handlers do let a real token in, so the
//! properties are not vacuous. `PROPTEST_CASES` changes the number of cases per strategy
//! (default 256).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use http::{Request, Response};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use wacht::Wacht;
use wacht::bridge::{self, BridgedAuth};
use wacht::testing::{KeyAlgorithm, LocalWacht, TestKey};

/// How often each handler's body ran, for the requests of one case: every request carries
/// its case's counters in its extensions, so tests running side by side never see each
/// other's runs, and a failure does not stick to later cases (shrinking finds the input).
#[derive(Default)]
struct BodyRuns {
    signed_in: AtomicUsize,
    reader: AtomicUsize,
    machine: AtomicUsize,
    control: AtomicUsize,
}

impl BodyRuns {
    fn of(req: &Request<String>) -> &BodyRuns {
        req.extensions().get::<Arc<BodyRuns>>().unwrap()
    }

    fn fuzzed(&self) -> [usize; 3] {
        [&self.signed_in, &self.reader, &self.machine].map(|runs| runs.load(Ordering::SeqCst))
    }
}

#[wacht::protect]
async fn signed_in(req: Request<String>) -> Response<String> {
    BodyRuns::of(&req).signed_in.fetch_add(1, Ordering::SeqCst);
    Response::new("signed in".to_owned())
}

#[wacht::protect(permission = "user:read")]
async fn reader(req: Request<String>) -> Response<String> {
    BodyRuns::of(&req).reader.fetch_add(1, Ordering::SeqCst);
    Response::new("reader".to_owned())
}

#[wacht::machine(principal = "any")]
async fn machine_any(req: Request<String>) -> Response<String> {
    BodyRuns::of(&req).machine.fetch_add(1, Ordering::SeqCst);
    Response::new("machine".to_owned())
}

/// The control: the same handler as `reader`, with its own counter.
#[wacht::protect(permission = "user:read")]
async fn control(req: Request<String>) -> Response<String> {
    BodyRuns::of(&req).control.fetch_add(1, Ordering::SeqCst);
    Response::new("control".to_owned())
}

/// What every case shares: one runtime, one local Wacht, one context, and real tokens and
/// keys to splice, mutate and sign with.
struct Env {
    runtime: tokio::runtime::Runtime,
    _local: LocalWacht,
    wacht: Wacht,
    /// The emulator's URL: the required `iss`.
    issuer: String,
    /// The published signing key, and its `kid`.
    key: TestKey,
    kid: String,
    /// A key the emulator does not publish.
    attacker: TestKey,
    /// The header and claims of the valid `user:read` token (`tokens[0]`), as signed.
    reader_header: Vec<u8>,
    reader_claims: Vec<u8>,
    /// Valid tokens: `user:read`, no permission, expired, signed by the attacker's key.
    /// Each with a different subject, so no two share a claims segment.
    tokens: Vec<String>,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        #[cfg(feature = "metrics")]
        closed_labels::install();
        let local = LocalWacht::start().unwrap();
        let wacht = Wacht::new(local.config()).unwrap();
        let attacker = TestKey::generate(KeyAlgorithm::Es256);
        let tokens = vec![
            local
                .token()
                .subject("user_reader")
                .organization_permissions(["user:read"])
                .sign(),
            local.token().subject("user_nobody").sign(),
            local
                .token()
                .subject("user_expired")
                .organization_permissions(["user:read"])
                .issued_at(1_600_000_000)
                .expires_at(1_600_000_060)
                .sign(),
            local
                .token()
                .subject("user_elsewhere")
                .organization_permissions(["user:read"])
                .key(&attacker)
                .sign(),
        ];
        let segment = |i: usize| {
            URL_SAFE_NO_PAD
                .decode(tokens[0].split('.').nth(i).unwrap())
                .unwrap()
        };
        Env {
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
            issuer: local.url().to_owned(),
            key: local.current_key(),
            kid: local.current_key().kid().to_owned(),
            attacker,
            reader_header: segment(0),
            reader_claims: segment(1),
            _local: local,
            wacht,
            tokens,
        }
    })
}

/// `header.claims` signed with `key`, as `Authorization: Bearer …` bytes.
fn signed(key: &TestKey, header: &[u8], claims: &[u8]) -> Vec<u8> {
    format!("Bearer {}", key.sign_token_bytes(header, claims)).into_bytes()
}

// ----- the checks -----

const API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const BRIDGE: HeaderName = HeaderName::from_static(bridge::HEADER);

fn request(runs: &Arc<BodyRuns>, headers: &[(&HeaderName, &HeaderValue)]) -> Request<String> {
    let mut req = Request::builder()
        .uri("/machine/users")
        .body(String::new())
        .unwrap();
    for (name, value) in headers {
        req.headers_mut().append(*name, (*value).clone());
    }
    req.extensions_mut().insert(env().wacht.clone());
    req.extensions_mut().insert(runs.clone());
    req
}

/// The answer must be the JSON `401 unauthenticated` with a Bearer challenge; or, for a
/// token naming a key the held set lacks while the set may not be refreshed yet, `503
/// keys_unavailable` with `Retry-After` (the key may have been rotated in: "retry", not "sign
/// out"). Either way the handler never runs.
fn assert_refused(handler: &str, sent: &str, response: &Response<String>) {
    if response.status() == 503 {
        let body: Value = serde_json::from_str(response.body()).unwrap();
        assert_eq!(
            (body["error"].as_str(), body["reason"].as_str()),
            (Some("auth_unavailable"), Some("keys_unavailable")),
            "{handler} with {sent}"
        );
        assert!(response.headers().contains_key("retry-after"));
        return;
    }
    assert_eq!(
        response.status(),
        401,
        "{handler} with {sent}: {}",
        response.body()
    );
    let body: Value = serde_json::from_str(response.body()).unwrap();
    assert_eq!(body["error"], "unauthenticated", "{handler} with {sent}");
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer realm=\"wacht\""),
        "{challenge}"
    );
}

async fn assert_all_refused(
    runs: &Arc<BodyRuns>,
    sent: &str,
    headers: &[(&HeaderName, &HeaderValue)],
) {
    assert_refused("#[protect]", sent, &signed_in(request(runs, headers)).await);
    assert_refused(
        "#[protect(user:read)]",
        sent,
        &reader(request(runs, headers)).await,
    );
    assert_refused(
        "#[machine(any)]",
        sent,
        &machine_any(request(runs, headers)).await,
    );
}

/// What the documented bridge format says `bytes` hold: the six fields, or `None` when the
/// bytes are not a JSON object of that shape. Decoded as the bridge documents: UTF-8 when
/// valid, else ISO-8859-1.
type Fields = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    Vec<String>,
);

fn documented_fields(bytes: &[u8]) -> Option<Fields> {
    let text: String = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(&text) else {
        return None;
    };
    match object.get("tokenType") {
        None => {}
        Some(Value::String(kind)) if kind == "session_token" => {}
        Some(_) => return None,
    }
    let user = match object.get("userId") {
        Some(Value::String(user)) if !user.is_empty() => user.clone(),
        _ => return None,
    };
    let id = |name: &str| match object.get(name) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(id)) => Some((!id.is_empty()).then(|| id.clone())),
        Some(_) => None,
    };
    let list = |name: &str| match object.get(name) {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        Some(_) => None,
    };
    Some((
        user,
        id("sessionId")?,
        id("organizationId")?,
        id("workspaceId")?,
        list("organizationPermissions")?,
        list("workspacePermissions")?,
    ))
}

fn fields(identity: &BridgedAuth) -> Fields {
    (
        identity.user_id().to_owned(),
        identity.session_id().map(str::to_owned),
        identity.organization_id().map(str::to_owned),
        identity.workspace_id().map(str::to_owned),
        identity.organization_permissions().to_vec(),
        identity.workspace_permissions().to_vec(),
    )
}

/// The bridge reads an identity only from JSON of the documented shape, and then exactly
/// its fields. With `unique_members` (the bytes are known to hold no duplicate member
/// names), JSON of that shape must be read.
fn check_bridge(value: &HeaderValue, unique_members: bool) {
    let expected = documented_fields(value.as_bytes());
    match bridge::from_request(&request(&Arc::default(), &[(&BRIDGE, value)])) {
        Ok(identity) => assert_eq!(
            Some(fields(&identity)),
            expected,
            "bridge read an identity from {value:?}"
        ),
        Err(error) => {
            assert_eq!(error.rejection().status(), 401);
            if unique_members {
                assert_eq!(expected, None, "bridge refused {value:?}: {error}");
            }
        }
    }
    // Twice: always refused.
    let twice = bridge::from_request(&request(
        &Arc::default(),
        &[(&BRIDGE, value), (&BRIDGE, value)],
    ));
    assert_eq!(twice, Err(bridge::BridgeError::Several));
}

/// Every check on one generated value; values a header cannot carry are skipped.
fn check_bytes(bytes: &[u8], unique_members: bool) {
    let Ok(value) = HeaderValue::from_bytes(bytes) else {
        return;
    };
    let runs = Arc::new(BodyRuns::default());
    env().runtime.block_on(async {
        for name in [&AUTHORIZATION, &API_KEY, &BRIDGE] {
            assert_all_refused(&runs, name.as_str(), &[(name, &value)]).await;
            assert_all_refused(
                &runs,
                &format!("{name} twice"),
                &[(name, &value), (name, &value)],
            )
            .await;
        }
        assert_all_refused(
            &runs,
            "all three headers",
            &[
                (&AUTHORIZATION, &value),
                (&API_KEY, &value),
                (&BRIDGE, &value),
            ],
        )
        .await;
    });
    check_bridge(&value, unique_members);
    #[cfg(feature = "metrics")]
    closed_labels::check();
    assert_eq!(
        runs.fuzzed(),
        [0, 0, 0],
        "a handler body ran ([protect], [protect(user:read)], [machine(any)])"
    );
}

/// With feature `metrics` (`cargo test --features metrics --test header_fuzz`): every label
/// value the fuzzed checks recorded is one of the documented closed sets, whatever the bytes.
#[cfg(feature = "metrics")]
mod closed_labels {
    use std::sync::OnceLock;

    use metrics_util::debugging::{DebuggingRecorder, Snapshotter};
    use wacht::metrics as m;

    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();

    pub fn install() {
        SNAPSHOTTER.get_or_init(|| {
            let recorder = DebuggingRecorder::new();
            let snapshotter = recorder.snapshotter();
            recorder.install().unwrap();
            snapshotter
        });
    }

    pub fn check() {
        let snapshot = SNAPSHOTTER.get().unwrap().snapshot();
        for (key, _, _, _) in snapshot.into_vec() {
            let key = key.key();
            for label in key.labels() {
                let values = match label.key() {
                    "check" => m::CHECKS,
                    "outcome" => m::OUTCOMES,
                    "reason" => m::REASONS,
                    "result" => m::JWKS_RESULTS,
                    "status" => m::GATEWAY_STATUSES,
                    "state" => m::KEY_STATES,
                    other => panic!("an undocumented label {other} on {key:?}"),
                };
                assert!(values.contains(&label.value()), "{key:?}");
            }
        }
    }
}

// ----- the strategies -----

fn random_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

/// Mostly bytes a header value may hold (visible ASCII, space, tab, obs-text), with the odd
/// control byte, or short fully random strings: values `HeaderValue` mostly accepts.
fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        40 => 0x20u8..=0x7e,
        12 => 0x80u8..=0xff,
        2 => Just(b'\t'),
        1 => any::<u8>(),
    ];
    prop_oneof![
        1 => random_bytes(16),
        4 => vec(byte, 0..max),
    ]
}

/// `Bearer ` mostly, else a near miss (or an accepted variant: case, extra spaces).
fn scheme() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        6 => Just("Bearer "),
        1 => prop::sample::select(vec![
            "bearer ", "BEARER ", "Bearer  ", "Bearer", "Basic ", " Bearer ", "", "Bearer\t",
        ]),
    ]
}

/// `Bearer ` (or a near miss) followed by random bytes.
fn bearer_random() -> impl Strategy<Value = Vec<u8>> {
    (scheme(), header_bytes(200)).prop_map(|(scheme, rest)| [scheme.as_bytes(), &rest].concat())
}

/// Three segments of base64url-ish characters (with the odd stray `=`, `+`, `/`, space).
fn jwt_like() -> impl Strategy<Value = Vec<u8>> {
    let segment = prop_oneof![
        4 => "[A-Za-z0-9_-]{0,90}",
        1 => "[A-Za-z0-9_=+/ -]{0,90}",
    ];
    (scheme(), segment.clone(), segment.clone(), segment)
        .prop_map(|(scheme, h, c, s)| format!("{scheme}{h}.{c}.{s}").into_bytes())
}

fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        "[a-z_:]{0,12}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("[a-zA-Z_]{1,8}", inner, 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// `[[[…]]]` `depth` deep (past serde_json's recursion limit of 128 when deep enough).
fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn encode(bytes: &[u8], how: u8) -> String {
    match how {
        0 => URL_SAFE.encode(bytes),
        1 => STANDARD.encode(bytes),
        _ => URL_SAFE_NO_PAD.encode(bytes),
    }
}

/// A JWT built from a random header (algorithms, `kid`s, `jku`), random or real claims and
/// a random or real signature, in canonical or non-canonical base64.
fn jwt_shaped() -> impl Strategy<Value = Vec<u8>> {
    let env = env();
    let alg = prop_oneof![
        4 => Just(Value::from("ES256")),
        2 => prop::sample::select(vec![
            "ES384", "RS256", "EdDSA", "HS256", "none", "", "es256", "PS256",
        ])
        .prop_map(Value::from),
        1 => json_scalar(),
    ];
    let kid = prop_oneof![
        4 => Just(Value::from(env.kid.clone())),
        1 => "[a-z_0-9]{0,30}".prop_map(Value::from),
        1 => json_scalar(),
    ];
    let header = (
        prop::option::weighted(0.9, alg),
        prop::option::weighted(0.8, kid),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(alg, kid, typ, jku)| {
            let mut header = Map::new();
            if let Some(alg) = alg {
                header.insert("alg".into(), alg);
            }
            if let Some(kid) = kid {
                header.insert("kid".into(), kid);
            }
            if typ {
                header.insert("typ".into(), "JWT".into());
            }
            if jku {
                header.insert("jku".into(), "http://127.0.0.1:9/jwks.json".into());
            }
            Value::Object(header).to_string().into_bytes()
        });
    let claims = prop_oneof![
        3 => Just(env.reader_claims.clone()),
        1 => json_value().prop_map(|value| value.to_string().into_bytes()),
        1 => (any::<i64>(), "[a-z_]{0,10}").prop_map(|(exp, sub)| {
            json!({"iss": "http://127.0.0.1", "sub": sub, "exp": exp,
                   "organization_permissions": ["user:read"]})
            .to_string()
            .into_bytes()
        }),
        1 => (1usize..3000).prop_map(|depth| format!("{{\"sub\":{}}}", nested(depth)).into_bytes()),
        1 => random_bytes(120),
    ];
    let reader_signature = env.tokens[0].rsplit('.').next().unwrap().to_owned();
    let signature = prop_oneof![
        Just(reader_signature),
        prop::sample::select(vec![0usize, 32, 64, 96, 256])
            .prop_flat_map(|len| vec(any::<u8>(), len..=len))
            .prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes)),
    ];
    // Base64 variants 0 (padded) and 1 (standard alphabet) are not canonical.
    (scheme(), header, claims, signature, 0u8..12, 0u8..12)
        .prop_map(|(scheme, header, claims, signature, how_h, how_c)| {
            format!(
                "{scheme}{}.{}.{signature}",
                encode(&header, how_h),
                encode(&claims, how_c)
            )
            .into_bytes()
        })
        // The real header, claims and signature together are the real token.
        .prop_filter("the real token", |bytes| {
            !bytes.ends_with(env.tokens[0].as_bytes())
        })
}

/// Header, claims and signature segments taken from different real tokens (never the
/// claims and signature of one token together).
fn spliced() -> impl Strategy<Value = Vec<u8>> {
    let count = env().tokens.len();
    (0..count, 0..count, 0..count)
        .prop_filter("claims and signature of one token", |(_, c, s)| c != s)
        .prop_map(|(h, c, s)| {
            let segments: Vec<Vec<&str>> = env()
                .tokens
                .iter()
                .map(|t| t.split('.').collect())
                .collect();
            format!(
                "Bearer {}.{}.{}",
                segments[h][0], segments[c][1], segments[s][2]
            )
            .into_bytes()
        })
}

/// A real `user:read` token with one byte of the token replaced by a different byte.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let token = env().tokens[0].clone();
    let len = token.len();
    (0..len, any::<u8>())
        .prop_filter("a different byte", move |(at, byte)| {
            env().tokens[0].as_bytes()[*at] != *byte
        })
        .prop_map(move |(at, byte)| {
            let mut bytes = format!("Bearer {token}").into_bytes();
            bytes[at + "Bearer ".len()] = byte;
            bytes
        })
}

/// Any JSON value but those `keep` accepts.
fn json_except(keep: fn(&Value) -> bool) -> impl Strategy<Value = Value> {
    json_value().prop_filter("a value that would be valid here", move |v| !keep(v))
}

/// A correctly signed token (the real header and key) whose claims are broken in exactly
/// one way the verifier must refuse, after random extra members: a missing or wrong `iss`,
/// `sub`, `exp`, a future `nbf`, mistyped ids or permissions, a payload that is not one
/// JSON object (not JSON, another type, nested past the limit, a duplicate member).
fn signed_broken_claims() -> impl Strategy<Value = Vec<u8>> {
    fn is_issuer(v: &Value) -> bool {
        v.as_str() == Some(env().issuer.as_str())
    }
    fn is_user_id(v: &Value) -> bool {
        v.as_str().is_some_and(|s| !s.is_empty())
    }
    fn is_optional_string(v: &Value) -> bool {
        v.is_null() || v.is_string()
    }
    fn is_list(v: &Value) -> bool {
        v.is_null()
            || v.as_array()
                .is_some_and(|items| items.iter().all(Value::is_string))
    }
    fn is_permissions(v: &Value) -> bool {
        v.is_null() || v.is_object()
    }
    let removed = || Just(None::<Value>);
    let member = prop_oneof![
        (prop_oneof![removed(), json_except(is_issuer).prop_map(Some)]).prop_map(|v| ("iss", v)),
        (prop_oneof![
            removed(),
            Just(Some(json!(""))),
            json_except(is_user_id).prop_map(Some)
        ])
        .prop_map(|v| ("sub", v)),
        (prop_oneof![
            removed(),
            json_except(Value::is_number).prop_map(Some),
            (i64::MIN..1_600_000_000).prop_map(|exp| Some(json!(exp))),
            (-1e300f64..1.6e9).prop_map(|exp| Some(json!(exp))),
        ])
        .prop_map(|v| ("exp", v)),
        (prop_oneof![
            json_except(Value::is_number).prop_map(Some),
            (4_000_000_000i64..=i64::MAX).prop_map(|nbf| Some(json!(nbf))),
            (4e9f64..1e300).prop_map(|nbf| Some(json!(nbf))),
        ])
        .prop_map(|v| ("nbf", v)),
        (
            prop::sample::select(vec!["sid", "organization", "workspace"]),
            json_except(is_optional_string)
        )
            .prop_map(|(name, v)| (name, Some(v))),
        (
            prop::sample::select(vec!["organization_permissions", "workspace_permissions"]),
            prop_oneof![
                json_except(is_list),
                Just(json!(["user:read", 1])),
                Just(json!("user:read")),
            ]
        )
            .prop_map(|(name, v)| (name, Some(v))),
        (prop_oneof![
            json_except(is_permissions),
            json_except(is_list).prop_map(|v| json!({ "organization": v })),
            json_except(is_list)
                .prop_map(|v| json!({ "workspace": v, "organization": ["user:read"] })),
        ])
        .prop_map(|v| ("permissions", Some(v))),
    ];
    let extra = btree_map("[a-z_]{1,8}", json_value(), 0..3);
    let in_object = (extra, member).prop_map(|(extra, (name, value))| {
        let mut claims: Map<String, Value> = serde_json::from_slice(&env().reader_claims).unwrap();
        claims.extend(extra);
        if name == "permissions" {
            // A verifier may read a nested list only where the flat one is absent (flat
            // lists win per scope): without them, the broken nested claim is always read.
            claims.remove("organization_permissions");
            claims.remove("workspace_permissions");
        }
        match value {
            Some(value) => claims.insert(name.to_owned(), value),
            None => claims.remove(name),
        };
        Value::Object(claims).to_string().into_bytes()
    });
    let whole = prop_oneof![
        json_except(Value::is_object).prop_map(|v| v.to_string().into_bytes()),
        random_bytes(120).prop_filter("JSON", |b| serde_json::from_slice::<Value>(b).is_err()),
        (200usize..20_000).prop_map(|depth| {
            let claims = String::from_utf8(env().reader_claims.clone()).unwrap();
            format!("{},\"x\":{}}}", claims.trim_end_matches('}'), nested(depth)).into_bytes()
        }),
        prop::sample::select(vec!["iss", "sub", "exp", "organization_permissions", "x"]).prop_map(
            |name| {
                let claims = String::from_utf8(env().reader_claims.clone()).unwrap();
                format!(
                    "{},\"{name}\":1,\"{name}\":1}}",
                    claims.trim_end_matches('}')
                )
                .into_bytes()
            }
        ),
    ];
    prop_oneof![3 => in_object, 1 => whole]
        .prop_map(|claims| signed(&env().key, &env().reader_header, &claims))
}

/// Valid claims under a header that tries to choose the key: signed with the attacker's
/// key, naming the real `kid`, its own or none, embedding its public key (`jwk`) or a URL
/// to it (`jku`, `x5u`), or `b64: false`; or signed with the real key but naming another
/// algorithm or carrying `crit`.
fn forged_header() -> impl Strategy<Value = Vec<u8>> {
    let attacker = || {
        (
            prop::sample::select(vec![0u8, 1, 2]),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(kid, jwk, jku, b64)| {
                let env = env();
                let mut header = json!({ "alg": "ES256", "typ": "JWT" });
                match kid {
                    0 => header["kid"] = json!(env.kid),
                    1 => header["kid"] = json!(env.attacker.kid()),
                    _ => {}
                }
                if jwk {
                    header["jwk"] = env.attacker.public_jwk();
                }
                if jku {
                    header["jku"] = json!(format!("{}/.well-known/jwks.json", env.issuer));
                    header["x5u"] = json!("http://127.0.0.1:9/cert.pem");
                }
                if b64 {
                    header["b64"] = json!(false);
                }
                signed(
                    &env.attacker,
                    header.to_string().as_bytes(),
                    &env.reader_claims,
                )
            })
    };
    let real_key = (
        prop::sample::select(vec![
            "ES384", "ES512", "RS256", "PS256", "EdDSA", "HS256", "none",
        ]),
        any::<bool>(),
    )
        .prop_map(|(alg, crit)| {
            let env = env();
            let mut header = json!({ "alg": alg, "typ": "JWT", "kid": env.kid });
            if crit {
                header["alg"] = json!("ES256");
                header["crit"] = json!(["exp"]);
            }
            signed(&env.key, header.to_string().as_bytes(), &env.reader_claims)
        });
    prop_oneof![attacker(), real_key]
}

/// A JSON-ish identity for `x-wacht-auth`: the documented members with right and wrong
/// types, extra members, raw UTF-8 or ISO-8859-1 text, sometimes garbled by a few byte
/// replacements. The flag says whether the bytes are known to hold no duplicate members.
fn bridge_json() -> impl Strategy<Value = (Vec<u8>, bool)> {
    let id = || {
        prop_oneof![
            "[a-z_0-9]{1,12}".prop_map(Value::from),
            "\\PC{0,6}".prop_map(Value::from),
            json_value(),
        ]
    };
    let list = || {
        prop_oneof![
            vec("[a-z:]{1,10}", 0..4).prop_map(|items| json!(items)),
            Just(json!(["user:read"])),
            json_value(),
        ]
    };
    let token_type = prop_oneof![
        Just(Value::from("session_token")),
        Just(Value::Null),
        Just(Value::from("api_key")),
        json_value(),
    ];
    let members = (
        prop::option::of(id()),
        prop::option::of(id()),
        prop::option::of(id()),
        prop::option::of(id()),
        prop::option::of(list()),
        prop::option::of(list()),
        prop::option::of(token_type),
        btree_map("[a-z]{1,6}", json_value(), 0..3),
    );
    let garbling = vec((any::<prop::sample::Index>(), any::<u8>()), 0..3);
    (
        members,
        any::<bool>(),
        prop::option::weighted(0.3, garbling),
    )
        .prop_map(
            |((user, session, org, ws, org_perms, ws_perms, kind, extra), latin1, garbling)| {
                let mut object: Map<String, Value> = extra.into_iter().collect();
                for (name, value) in [
                    ("userId", user),
                    ("sessionId", session),
                    ("organizationId", org),
                    ("workspaceId", ws),
                    ("organizationPermissions", org_perms),
                    ("workspacePermissions", ws_perms),
                    ("tokenType", kind),
                ] {
                    if let Some(value) = value {
                        object.insert(name.into(), value);
                    }
                }
                let text = Value::Object(object).to_string();
                let mut bytes = if latin1 && text.chars().all(|c| u32::from(c) <= 0xff) {
                    text.chars()
                        .map(|c| u8::try_from(u32::from(c)).unwrap())
                        .collect()
                } else {
                    text.into_bytes()
                };
                let unique = garbling.is_none();
                for (at, byte) in garbling.unwrap_or_default() {
                    let at = at.index(bytes.len());
                    bytes[at] = byte;
                }
                (bytes, unique)
            },
        )
}

/// A valid-looking identity carrying arrays nested `depth` deep.
fn deeply_nested() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![100usize..140, 140usize..20_000].prop_map(|depth| {
        format!(
            "{{\"userId\":\"user_1\",\"organizationPermissions\":[\"user:read\"],\"x\":{}}}",
            nested(depth)
        )
        .into_bytes()
    })
}

proptest! {
    #[test]
    fn random_bytes_get_no_one_in(bytes in header_bytes(256)) {
        check_bytes(&bytes, false);
    }

    #[test]
    fn bearer_and_random_bytes_get_no_one_in(bytes in bearer_random()) {
        check_bytes(&bytes, false);
    }

    #[test]
    fn jwt_like_segments_get_no_one_in(bytes in jwt_like()) {
        check_bytes(&bytes, false);
    }

    #[test]
    fn jwts_with_random_headers_claims_and_signatures_get_no_one_in(bytes in jwt_shaped()) {
        check_bytes(&bytes, false);
    }

    #[test]
    fn spliced_real_tokens_get_no_one_in(bytes in spliced()) {
        check_bytes(&bytes, false);
    }

    #[test]
    fn a_real_token_changed_in_one_byte_gets_no_one_in(bytes in mutated()) {
        check_bytes(&bytes, false);
    }

    #[test]
    fn signed_tokens_with_broken_claims_get_no_one_in(bytes in signed_broken_claims()) {
        check_bytes(&bytes, false);
    }

    #[test]
    fn headers_choosing_their_own_key_get_no_one_in(bytes in forged_header()) {
        check_bytes(&bytes, false);
    }

    #[test]
    fn json_identities_are_read_only_when_well_formed((bytes, unique) in bridge_json()) {
        check_bytes(&bytes, unique);
    }

    #[test]
    fn deeply_nested_json_does_not_overflow(bytes in deeply_nested()) {
        check_bytes(&bytes, true);
    }
}

/// The control: the same checks let a real token and a real identity through, so the
/// properties above are not vacuous.
#[test]
fn the_real_thing_is_let_in() {
    let env = env();
    let runs = Arc::new(BodyRuns::default());
    let token = HeaderValue::from_str(&format!("Bearer {}", env.tokens[0])).unwrap();
    let response = env
        .runtime
        .block_on(control(request(&runs, &[(&AUTHORIZATION, &token)])));
    assert_eq!(response.status(), 200, "{}", response.body());
    assert_eq!(runs.control.load(Ordering::SeqCst), 1);
    // Signing by hand, as the broken-claims strategy does, gives a token that passes.
    let by_hand = signed(&env.key, &env.reader_header, &env.reader_claims);
    let by_hand = HeaderValue::from_bytes(&by_hand).unwrap();
    let response = env
        .runtime
        .block_on(control(request(&runs, &[(&AUTHORIZATION, &by_hand)])));
    assert_eq!(response.status(), 200, "{}", response.body());
    assert_eq!(runs.control.load(Ordering::SeqCst), 2);
    let identity = HeaderValue::from_static(
        r#"{"userId":"user_1","sessionId":null,"organizationPermissions":["user:read"]}"#,
    );
    check_bridge(&identity, true);
    assert!(bridge::from_request(&request(&runs, &[(&BRIDGE, &identity)])).is_ok());
    // …but a forged identity next to no token lets no one into a protected handler.
    let response = env
        .runtime
        .block_on(control(request(&runs, &[(&BRIDGE, &identity)])));
    assert_eq!(response.status(), 401);
    assert_eq!(runs.control.load(Ordering::SeqCst), 2);
}
