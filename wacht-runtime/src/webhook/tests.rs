//! Verification against signatures made elsewhere: the Standard Webhooks specification's
//! published vector, and vectors computed with Python's `hmac` (checked again natively
//! against the reference `standardwebhooks` crate below). They run natively and on wasm32
//! (under Node).

#[cfg(not(target_family = "wasm"))]
use tokio::test;
#[cfg(target_family = "wasm")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use super::*;

const SECRET_A: &str = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const SECRET_B: &str = "whsec_ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q=";
const ID: &str = "msg_7355608823457169408";
const TS: i64 = 1_767_225_600;
const BODY: &[u8] = br#"{"type":"user.created","timestamp":"2026-01-01T00:00:00.000Z","data":{"entity_id":12345,"entity_type":"user","id":"12345","first_name":"Ava"}}"#;
/// HMAC-SHA256 of `ID.TS.BODY` under SECRET_A's key (Python's `hmac`).
const SIG_A: &str = "v1,lt5qB51GaMIudizMzHwFXU+geZfdjDS1AFvuaeq/FQo=";
/// The same under SECRET_B's key.
const SIG_B: &str = "v1,Y9JemTB2eoSWl5mEf+/2rc1ZKubO2bSE4T1dygJxVS4=";
const NON_UTF8_BODY: &[u8] = b"\xff\xfe{\"type\":\"user.created\"}";
/// SECRET_A's signature of `ID.TS.NON_UTF8_BODY`.
const SIG_NON_UTF8: &str = "v1,w79HuZsP2mPuU1ErtcLlZBSB/1I7ab3LtHfIExa/dLA=";

fn webhook(secrets: &str) -> Webhook {
    Webhook::builder()
        .secrets_text(secrets)
        .build()
        .expect("the test secrets parse")
}

fn headers(id: &str, timestamp: &str, signature: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("webhook-id", id),
        ("webhook-timestamp", timestamp),
        ("webhook-signature", signature),
    ] {
        headers.insert(name, HeaderValue::from_str(value).expect("a header value"));
    }
    headers
}

fn delivery(signature: &str) -> HeaderMap {
    headers(ID, &TS.to_string(), signature)
}

/// The reason of a refusal, or "ok".
fn outcome(webhook: &Webhook, headers: &HeaderMap, body: &[u8], now: i64) -> String {
    match webhook.verify_at(headers, Bytes::copy_from_slice(body), now) {
        Ok(_) => "ok".to_owned(),
        Err(rejection) => format!("{} {}", rejection.status().as_u16(), rejection.reason()),
    }
}

#[test]
async fn the_specifications_published_vector_verifies() {
    let webhook = webhook("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
    let headers = headers(
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        "1649367553",
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    );
    let body = br#"{"email":"test@example.com","username":"test_user"}"#;
    assert!(
        webhook
            .verify_signature_at(&headers, body, 1_649_367_553)
            .is_ok()
    );
    let other = br#"{"email":"test@example.com","username":"test_user2"}"#;
    assert_eq!(
        webhook
            .verify_signature_at(&headers, other, 1_649_367_553)
            .map_err(|r| r.reason().to_owned()),
        Err("signature_mismatch".to_owned())
    );
}

#[test]
async fn every_vector_has_its_outcome() {
    let a = webhook(SECRET_A);
    let rotation = webhook(&format!("{SECRET_B}, {SECRET_A}"));
    let now = TS + 10;
    type Case<'a> = (&'a str, &'a Webhook, HeaderMap, &'a [u8], i64, &'a str);
    let cases: Vec<Case<'_>> = vec![
        ("valid", &a, delivery(SIG_A), BODY, now, "ok"),
        ("valid at the same second", &a, delivery(SIG_A), BODY, TS, "ok"),
        ("wrong secret", &a, delivery(SIG_B), BODY, now, "401 signature_mismatch"),
        ("second secret of a rotation", &rotation, delivery(SIG_A), BODY, now, "ok"),
        ("first secret of a rotation", &rotation, delivery(SIG_B), BODY, now, "ok"),
        (
            "tampered body",
            &a,
            delivery(SIG_A),
            &br#"{"type":"user.created","timestamp":"2026-01-01T00:00:00.000Z","data":{"entity_id":12346,"entity_type":"user","id":"12345","first_name":"Ava"}}"#[..],
            now,
            "401 signature_mismatch",
        ),
        (
            "tampered id",
            &a,
            headers("msg_7355608823457169409", &TS.to_string(), SIG_A),
            BODY,
            now,
            "401 signature_mismatch",
        ),
        (
            "tampered timestamp",
            &a,
            headers(ID, &(TS + 1).to_string(), SIG_A),
            BODY,
            now,
            "401 signature_mismatch",
        ),
        ("5 minutes old", &a, delivery(SIG_A), BODY, TS + 300, "ok"),
        ("stale", &a, delivery(SIG_A), BODY, TS + 301, "401 stale_timestamp"),
        ("5 minutes ahead", &a, delivery(SIG_A), BODY, TS - 300, "ok"),
        ("future", &a, delivery(SIG_A), BODY, TS - 301, "401 future_timestamp"),
        (
            "v1a only",
            &a,
            delivery(&SIG_A.replace("v1,", "v1a,")),
            BODY,
            now,
            "401 unsupported_signature_version",
        ),
        (
            "unknown version only",
            &a,
            delivery(&SIG_A.replace("v1,", "v2,")),
            BODY,
            now,
            "401 unsupported_signature_version",
        ),
        (
            "several, one valid",
            &a,
            delivery(&format!(
                "v1a,{} v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= {SIG_A} v1,bm90IGJhc2U2NA",
                &SIG_A[3..]
            )),
            BODY,
            now,
            "ok",
        ),
        (
            "several, none valid",
            &a,
            delivery(&format!("{SIG_B} v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ=")),
            BODY,
            now,
            "401 signature_mismatch",
        ),
        (
            "a v1 signature that is not base64",
            &a,
            delivery("v1,not*base64"),
            BODY,
            now,
            "401 signature_mismatch",
        ),
        (
            "a truncated signature",
            &a,
            delivery(&SIG_A[..20]),
            BODY,
            now,
            "401 signature_mismatch",
        ),
        (
            "a signature without padding",
            &a,
            delivery(SIG_A.trim_end_matches('=')),
            BODY,
            now,
            "401 signature_mismatch",
        ),
        (
            "non-UTF-8 body, valid signature",
            &a,
            delivery(SIG_NON_UTF8),
            NON_UTF8_BODY,
            now,
            "400 malformed_event",
        ),
        (
            "non-UTF-8 body, signature of another body",
            &a,
            delivery(SIG_A),
            NON_UTF8_BODY,
            now,
            "401 signature_mismatch",
        ),
        (
            "timestamp with a sign",
            &a,
            headers(ID, &format!("+{TS}"), SIG_A),
            BODY,
            now,
            "400 malformed_webhook_header",
        ),
        (
            "timestamp with a leading zero",
            &a,
            headers(ID, &format!("0{TS}"), SIG_A),
            BODY,
            now,
            "400 malformed_webhook_header",
        ),
        (
            "timestamp in milliseconds",
            &a,
            headers(ID, &format!("{TS}000"), SIG_A),
            BODY,
            now,
            "401 future_timestamp",
        ),
        (
            "blank signature header",
            &a,
            delivery(" "),
            BODY,
            now,
            "400 malformed_webhook_header",
        ),
        (
            "id with a space",
            &a,
            headers("msg 1", &TS.to_string(), SIG_A),
            BODY,
            now,
            "400 malformed_webhook_header",
        ),
    ];
    for (name, webhook, headers, body, now, expected) in cases {
        assert_eq!(outcome(webhook, &headers, body, now), expected, "{name}");
    }
}

#[test]
async fn each_missing_or_repeated_header_is_a_400() {
    let a = webhook(SECRET_A);
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let mut headers = delivery(SIG_A);
        headers.remove(name);
        assert_eq!(
            outcome(&a, &headers, BODY, TS),
            "400 missing_webhook_header",
            "{name}"
        );
        let rejection = a
            .verify_at(&headers, Bytes::from_static(BODY), TS)
            .expect_err("refused");
        assert!(
            rejection.message().contains(name),
            "{}",
            rejection.message()
        );
    }
    for name in ["webhook-id", "webhook-timestamp"] {
        let mut headers = delivery(SIG_A);
        let value = headers[name].clone();
        headers.append(name, value);
        assert_eq!(
            outcome(&a, &headers, BODY, TS),
            "400 malformed_webhook_header",
            "{name}"
        );
    }
    // Signatures split over two header lines are all read (a proxy may split them).
    let mut headers = delivery(SIG_B);
    headers.append("webhook-signature", HeaderValue::from_static(SIG_A));
    assert_eq!(outcome(&a, &headers, BODY, TS), "ok");
    // More than the cap of signatures: refused before any is computed.
    let many = vec![SIG_B; MAX_SIGNATURES].join(" ");
    assert_eq!(
        outcome(&a, &delivery(&format!("{many} {SIG_A}")), BODY, TS),
        "400 malformed_webhook_header"
    );
}

#[test]
async fn the_event_filter_size_cap_and_configuration_errors() {
    let filtered = Webhook::builder()
        .secrets_text(SECRET_A)
        .events(["user.updated", "user.deleted"])
        .build()
        .expect("builds");
    assert_eq!(
        outcome(&filtered, &delivery(SIG_A), BODY, TS),
        "204 event_not_handled"
    );
    // A forged delivery of a filtered-out type is still a 401: the filter runs after the
    // signature.
    assert_eq!(
        outcome(&filtered, &delivery(SIG_B), BODY, TS),
        "401 signature_mismatch"
    );
    let taken = Webhook::builder()
        .secrets_text(SECRET_A)
        .events(["user.created"])
        .build()
        .expect("builds");
    let event = taken
        .verify_at(&delivery(SIG_A), Bytes::from_static(BODY), TS)
        .expect("taken");
    assert_eq!(event.id(), ID);
    assert_eq!(event.timestamp(), TS);
    assert_eq!(event.event_type(), "user.created");
    assert_eq!(event.raw(), BODY);
    assert_eq!(event.data()["first_name"], "Ava");
    match event.event().expect("typed") {
        WachtEvent::UserCreated(user) => {
            assert_eq!(user.user_id(), Some("12345"));
            assert_eq!(user.entity_id.as_ref().map(|id| id.as_str()), Some("12345"));
            assert_eq!(user.first_name.as_deref(), Some("Ava"));
        }
        other => panic!("{other:?}"),
    }

    let capped = Webhook::builder()
        .secrets_text(SECRET_A)
        .max_body_bytes(BODY.len() - 1)
        .build()
        .expect("builds");
    assert_eq!(
        outcome(&capped, &delivery(SIG_A), BODY, TS),
        "413 body_too_large"
    );
    let exact = Webhook::builder()
        .secrets_text(SECRET_A)
        .max_body_bytes(BODY.len())
        .build()
        .expect("builds");
    assert_eq!(outcome(&exact, &delivery(SIG_A), BODY, TS), "ok");

    let missing = Webhook::builder()
        .secret_lookup("WACHT_WEBHOOK_SECRET", |_| None)
        .build_lenient();
    assert_eq!(
        outcome(&missing, &delivery(SIG_A), BODY, TS),
        "500 missing_webhook_secret"
    );
    let broken = Webhook::builder()
        .secret_lookup("WACHT_WEBHOOK_SECRET", |_| {
            Some(format!("{SECRET_A} whsec_short"))
        })
        .build_lenient();
    assert_eq!(
        outcome(&broken, &delivery(SIG_A), BODY, TS),
        "500 invalid_webhook_secret"
    );
    assert!(matches!(
        Webhook::builder()
            .secrets_text(SECRET_A)
            .tolerance(Duration::ZERO)
            .build(),
        Err(WebhookConfigError::Tolerance(_))
    ));
    assert!(matches!(
        Webhook::builder()
            .secrets_text(SECRET_A)
            .max_body_bytes(0)
            .build(),
        Err(WebhookConfigError::MaxBodyBytes(0))
    ));
    let wide = Webhook::builder()
        .secrets_text(SECRET_A)
        .tolerance(Duration::from_secs(3600))
        .build()
        .expect("builds");
    assert_eq!(outcome(&wide, &delivery(SIG_A), BODY, TS + 3600), "ok");
    assert_eq!(
        outcome(&wide, &delivery(SIG_A), BODY, TS + 3601),
        "401 stale_timestamp"
    );
}

#[test]
async fn bodies_that_are_not_the_envelope() {
    // Signed (so: sent by the holder of the secret), but not Wacht's envelope.
    let a = webhook(SECRET_A);
    for body in [
        &b"[]"[..],
        br#"{"type":"","data":{}}"#,
        br#"{"type":7,"data":{}}"#,
        br#"{"type":"user.created"}"#,
        br#"{"type":"a","type":"b","data":{}}"#,
        br#"{"type":"user.created","data":{}"#,
    ] {
        let secret = WebhookSecret::parse(SECRET_A).expect("parses");
        let signature = secret.sign(ID, &TS.to_string(), body).header_entry();
        assert_eq!(
            outcome(&a, &delivery(&signature), body, TS),
            "400 malformed_event",
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
async fn secrets_parse_strictly() {
    assert!(WebhookSecret::parse(SECRET_A).is_ok());
    // Without the prefix too, as Wacht's own signer accepts.
    assert!(WebhookSecret::parse(&SECRET_A["whsec_".len()..]).is_ok());
    assert!(WebhookSecret::parse(&format!("  {SECRET_A}\n")).is_ok());
    assert_eq!(
        WebhookSecret::parse("whsec_").map(drop),
        Err(WebhookSecretError::Empty)
    );
    assert_eq!(
        WebhookSecret::parse("whsec_AQID*").map(drop),
        Err(WebhookSecretError::NotBase64)
    );
    // Unpadded base64 is not the format Wacht shows.
    assert_eq!(
        WebhookSecret::parse(SECRET_A.trim_end_matches('=')).map(drop),
        Err(WebhookSecretError::NotBase64)
    );
    assert_eq!(
        WebhookSecret::parse("whsec_AQIDBA==").map(drop),
        Err(WebhookSecretError::Length(4))
    );
    assert_eq!(
        WebhookSecret::parse_list(" , ").map(drop),
        Err(WebhookSecretError::Empty)
    );
    assert_eq!(
        WebhookSecret::parse_list(&format!("{SECRET_A},{SECRET_B}\n{SECRET_A}"))
            .map(|secrets| secrets.len()),
        Ok(3)
    );
    // The key never shows.
    let debug = format!("{:?}", webhook(SECRET_A));
    assert!(!debug.contains("AQID"), "{debug}");
    let error = WebhookConfigError::InvalidSecret {
        source_name: "WACHT_WEBHOOK_SECRET".to_owned(),
        error: WebhookSecretError::NotBase64,
    };
    assert!(!error.to_string().contains("AQID"));
}

#[test]
async fn timestamps_are_canonical_decimal() {
    assert_eq!(canonical_seconds("0"), Some(0));
    assert_eq!(canonical_seconds("1767225600"), Some(1_767_225_600));
    assert_eq!(canonical_seconds("9223372036854775807"), Some(i64::MAX));
    for refused in [
        "",
        "-1",
        "+1",
        "01",
        "1.0",
        "1e9",
        " 1",
        "9223372036854775808",
        "12345678901234567890",
    ] {
        assert_eq!(canonical_seconds(refused), None, "{refused:?}");
    }
}

/// A body in several frames, failing, or announcing a length.
mod bodies {
    use super::*;
    use futures_util::stream;
    use http_body::Frame;
    use http_body_util::StreamBody;
    #[cfg(not(target_family = "wasm"))]
    use tokio::test;
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn frames(chunks: Vec<&'static [u8]>) -> impl http_body::Body<Data = Bytes> {
        StreamBody::new(stream::iter(chunks.into_iter().map(|chunk| {
            Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(chunk)))
        })))
    }

    #[test]
    async fn read_whole_or_refused_at_the_cap() {
        assert_eq!(
            body::read_capped(frames(vec![b"ab", b"", b"cd", b"e"]), 5, None).await,
            Ok(Bytes::from_static(b"abcde"))
        );
        assert_eq!(
            body::read_capped(frames(vec![b"ab", b"cd", b"ef"]), 5, None).await,
            Err(BodyError::TooLarge)
        );
        assert_eq!(
            body::read_capped(frames(vec![b"abcdef"]), 5, None).await,
            Err(BodyError::TooLarge)
        );
        // A Content-Length over the cap is refused before reading.
        assert_eq!(
            body::read_capped(frames(vec![b"ab"]), 5, Some(6)).await,
            Err(BodyError::TooLarge)
        );
        assert_eq!(
            body::read_capped(String::from("hello"), 5, Some(5)).await,
            Ok(Bytes::from_static(b"hello"))
        );
        assert_eq!(
            body::read_capped(frames(vec![]), 5, None).await,
            Ok(Bytes::new())
        );
        let failing = StreamBody::new(stream::iter(vec![
            Ok(Frame::data(Bytes::from_static(b"ab"))),
            Err(std::io::Error::other("reset")),
        ]));
        assert_eq!(
            body::read_capped(failing, 5, None).await,
            Err(BodyError::Unreadable)
        );
    }

    #[test]
    async fn receive_reads_verifies_and_gives_the_request_back() {
        let a = webhook(SECRET_A);
        let mut builder = http::Request::post("/webhooks");
        for (name, value) in delivery(SIG_A).iter() {
            builder = builder.header(name, value);
        }
        let (head, tail) = BODY.split_at(40);
        let request = builder
            .header("x-wacht-auth", "forged")
            .extension(
                crate::Wacht::new(
                    crate::WachtConfig::builder()
                        .clock(Clock::fixed(TS + 1))
                        .build_scoped(),
                )
                .expect("a context"),
            )
            .body(frames(vec![head, tail]))
            .expect("a request");
        let received = a.receive(request).await.expect("verified");
        assert_eq!(received.body, Bytes::from_static(BODY));
        assert_eq!(received.event.event_type(), "user.created");
        assert!(received.parts.extensions.get::<WebhookEvent>().is_some());
        assert!(!received.parts.headers.contains_key("x-wacht-auth"));
        assert!(received.claim.is_none());
    }
}

/// A request's `WebhookSecrets` are used instead of the configured secrets.
mod secrets_in_extensions {
    use super::*;
    #[cfg(not(target_family = "wasm"))]
    use tokio::test;
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn request(signature: &str, secrets: Option<&str>) -> http::Request<String> {
        let mut builder = http::Request::post("/webhooks");
        for (name, value) in delivery(signature).iter() {
            builder = builder.header(name, value);
        }
        let mut request = builder
            .body(String::from_utf8(BODY.to_vec()).expect("UTF-8"))
            .expect("a request");
        if let Some(secrets) = secrets {
            request
                .extensions_mut()
                .insert(WebhookSecrets::parse(secrets).expect("parses"));
        }
        request
    }

    async fn reason(webhook: &Webhook, request: http::Request<String>) -> String {
        match webhook.receive(request).await {
            Ok(_) => "ok".to_owned(),
            Err(rejection) => rejection.reason().to_owned(),
        }
    }

    #[test]
    async fn they_replace_the_configured_ones() {
        let configured_b = Webhook::builder()
            .secrets_text(SECRET_B)
            .clock(Clock::fixed(TS))
            .build()
            .expect("builds");
        assert_eq!(reason(&configured_b, request(SIG_B, None)).await, "ok");
        assert_eq!(
            reason(&configured_b, request(SIG_A, Some(SECRET_A))).await,
            "ok"
        );
        assert_eq!(
            reason(&configured_b, request(SIG_B, Some(SECRET_A))).await,
            "signature_mismatch"
        );
        // With none configured, a request's secrets still verify it.
        let unconfigured = Webhook::builder()
            .secret_lookup("WACHT_WEBHOOK_SECRET", |_| None)
            .clock(Clock::fixed(TS))
            .build_lenient();
        assert_eq!(
            reason(&unconfigured, request(SIG_A, None)).await,
            "missing_webhook_secret"
        );
        assert_eq!(
            reason(&unconfigured, request(SIG_A, Some(SECRET_A))).await,
            "ok"
        );
        // A setting that cannot work is a 500 whatever the request brings.
        let broken = Webhook::builder()
            .secrets_text(SECRET_A)
            .max_body_bytes(0)
            .build_lenient();
        assert_eq!(
            reason(&broken, request(SIG_A, Some(SECRET_A))).await,
            "invalid_webhook_setting"
        );
    }
}

/// The vectors above agree with the reference crate, and the reference crate with us on
/// fresh inputs (native only: the crate reads the system clock).
#[cfg(not(target_family = "wasm"))]
mod reference {
    use super::*;
    use tokio::test;

    #[test]
    async fn the_vectors_are_the_reference_crates() {
        for (secret, signature) in [(SECRET_A, SIG_A), (SECRET_B, SIG_B)] {
            let reference = standardwebhooks::Webhook::new(secret).expect("the reference parses");
            assert_eq!(reference.sign(ID, TS, BODY).expect("signs"), signature);
        }
    }

    #[test]
    async fn we_accept_what_the_reference_signs_and_it_accepts_what_we_sign() {
        let now = Clock::system().now();
        for (index, secret) in [SECRET_A, SECRET_B].into_iter().enumerate() {
            let ours = webhook(secret);
            let reference = standardwebhooks::Webhook::new(secret).expect("parses");
            for size in [0usize, 1, 63, 64, 65, 1000, 65_536] {
                let data = "x".repeat(size);
                let body = format!(r#"{{"type":"user.updated","timestamp":"t","data":"{data}"}}"#);
                let id = format!("msg_{index}_{size}");
                let signature = reference.sign(&id, now, body.as_bytes()).expect("signs");
                let headers = headers(&id, &now.to_string(), &signature);
                assert!(
                    ours.verify_at(&headers, Bytes::from(body.clone()), now)
                        .is_ok(),
                    "{size}"
                );
                let mine = WebhookSecret::parse(secret)
                    .expect("parses")
                    .sign(&id, &now.to_string(), body.as_bytes())
                    .header_entry();
                assert_eq!(mine, signature);
                assert!(reference.verify(body.as_bytes(), &headers).is_ok());
            }
        }
    }
}
