//! The emulator, exercised over real HTTP on loopback.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::crypto::verify;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Value, json};

use super::*;

const ALL: [KeyAlgorithm; 4] = [
    KeyAlgorithm::Es256,
    KeyAlgorithm::Es384,
    KeyAlgorithm::Rs256,
    KeyAlgorithm::EdDsa,
];

fn jwt_algorithm(algorithm: KeyAlgorithm) -> Algorithm {
    match algorithm {
        KeyAlgorithm::Es256 => Algorithm::ES256,
        KeyAlgorithm::Es384 => Algorithm::ES384,
        KeyAlgorithm::Rs256 => Algorithm::RS256,
        KeyAlgorithm::EdDsa => Algorithm::EdDSA,
    }
}

/// `GET url` → (status, content type, body).
async fn get(url: &str) -> (u16, String, String) {
    let response = reqwest::Client::new().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn fetch_jwks(wacht: &LocalWacht) -> Value {
    let (status, content_type, body) = get(&wacht.jwks_url()).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/json");
    serde_json::from_str(&body).unwrap()
}

fn decode_segment(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

fn split(token: &str) -> (Value, Value, String, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    (
        decode_segment(parts[0]),
        decode_segment(parts[1]),
        format!("{}.{}", parts[0], parts[1]),
        parts[2].to_owned(),
    )
}

/// Verifies `token` against the JWKS served over HTTP, picking the key by the header's kid.
async fn verifies_against_served_jwks(wacht: &LocalWacht, token: &str, alg: Algorithm) -> bool {
    let (header, _, message, signature) = split(token);
    let set: JwkSet = serde_json::from_value(fetch_jwks(wacht).await).unwrap();
    let kid = header["kid"].as_str().unwrap();
    let jwk = set.find(kid).expect("kid is published");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    verify(&signature, message.as_bytes(), &key, alg).unwrap()
}

#[tokio::test]
async fn jwks_is_served_as_json_and_parses() {
    let wacht = LocalWacht::start().unwrap();
    let document = fetch_jwks(&wacht).await;
    let keys = document["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let jwk = &keys[0];
    let current = wacht.current_key();
    assert_eq!(jwk["kid"], current.kid());
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["alg"], "ES256");
    assert_eq!(jwk["use"], "sig");
    for field in ["x", "y"] {
        let value = jwk[field].as_str().unwrap();
        assert!(!value.contains('='), "no padding");
        assert_eq!(URL_SAFE_NO_PAD.decode(value).unwrap().len(), 32);
    }
    assert_eq!(wacht.published_jwks()["keys"][0], *jwk);
    let set: JwkSet = serde_json::from_value(document).unwrap();
    assert!(set.find(current.kid()).is_some());
}

#[test]
fn publishable_key_encodes_the_url() {
    let wacht = LocalWacht::start().unwrap();
    let url = wacht.url();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    let encoded = wacht.publishable_key();
    let decoded = STANDARD
        .decode(encoded.strip_prefix("pk_test_").unwrap())
        .unwrap();
    assert_eq!(decoded, url.as_bytes());
    assert_eq!(wacht.jwks_url(), format!("{url}/.well-known/jwks.json"));
}

#[tokio::test]
async fn minted_tokens_of_every_algorithm_verify_against_the_served_jwks() {
    let wacht = LocalWacht::start().unwrap();
    for algorithm in ALL {
        let key = wacht.add_key(algorithm);
        let jwk = key.public_jwk();
        assert_eq!(jwk["kty"], algorithm.key_type());
        assert_eq!(jwk["alg"], algorithm.jws_name());
        assert_eq!(jwk["use"], "sig");
        let token = wacht.token().key(&key).sign();
        let (header, _, _, _) = split(&token);
        assert_eq!(
            header,
            json!({"alg": algorithm.jws_name(), "typ": "JWT", "kid": key.kid()})
        );
        assert!(
            verifies_against_served_jwks(&wacht, &token, jwt_algorithm(algorithm)).await,
            "{algorithm}"
        );

        // A changed claim breaks the signature.
        let (_, _, message, signature) = split(&token);
        let header_b64 = message.split('.').next().unwrap();
        let forged_claims = base64url(br#"{"sub":"admin"}"#);
        let forged = format!("{header_b64}.{forged_claims}");
        let decoding = DecodingKey::from_jwk(&serde_json::from_value::<Jwk>(jwk).unwrap()).unwrap();
        assert!(
            !verify(
                &signature,
                forged.as_bytes(),
                &decoding,
                jwt_algorithm(algorithm)
            )
            .unwrap()
        );
    }
    assert_eq!(wacht.keys().len(), 5);
}

#[test]
fn public_key_pems_verify_signatures() {
    for algorithm in ALL {
        let key = TestKey::generate(algorithm);
        let pem = key.public_key_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(pem.lines().all(|line| line.len() <= 64));
        let decoding = match algorithm {
            KeyAlgorithm::Es256 | KeyAlgorithm::Es384 => DecodingKey::from_ec_pem(pem.as_bytes()),
            KeyAlgorithm::Rs256 => DecodingKey::from_rsa_pem(pem.as_bytes()),
            KeyAlgorithm::EdDsa => DecodingKey::from_ed_pem(pem.as_bytes()),
        }
        .unwrap();
        let signature = base64url(&key.sign(b"message"));
        assert!(verify(&signature, b"message", &decoding, jwt_algorithm(algorithm)).unwrap());
        assert!(!verify(&signature, b"massage", &decoding, jwt_algorithm(algorithm)).unwrap());
    }
}

#[test]
fn kids_are_unique_and_debug_hides_key_material() {
    let a = TestKey::generate(KeyAlgorithm::Es256);
    let b = TestKey::generate(KeyAlgorithm::Es256);
    assert_ne!(a.kid(), b.kid());
    assert_eq!(a.kid().len(), "key_".len() + 24);
    assert_eq!(a.with_kid("other").kid(), "other");
    assert_eq!(a.with_kid("other").public_jwk()["x"], a.public_jwk()["x"]);
    let debug = format!("{a:?}");
    assert!(
        debug.contains(a.kid()) && debug.contains("Es256"),
        "{debug}"
    );
    assert!(!debug.contains(a.public_jwk()["x"].as_str().unwrap()));
}

#[test]
fn default_claims_and_header() {
    let wacht = LocalWacht::start().unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (header, claims, _, _) = split(&wacht.token().sign());
    assert_eq!(
        header,
        json!({"alg": "ES256", "typ": "JWT", "kid": wacht.current_key().kid()})
    );
    assert_eq!(claims["iss"], wacht.url());
    assert_eq!(claims["sub"], "user_test");
    assert_eq!(claims["sid"], "sess_test");
    let iat = claims["iat"].as_i64().unwrap();
    assert!((before..=before + 5).contains(&iat));
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 3600);
    assert!(claims.get("nbf").is_none());
    assert_eq!(claims.as_object().unwrap().len(), 5);

    let (_, claims, _, _) = split(&wacht.token().now(1_000).sign());
    assert_eq!(
        (claims["iat"].clone(), claims["exp"].clone()),
        (json!(1_000), json!(4_600))
    );
}

#[test]
fn builder_setters_override_and_remove() {
    let wacht = LocalWacht::start().unwrap();
    let builder = wacht
        .token()
        .now(100)
        .subject("user_42")
        .session("sess_9")
        .issuer("https://elsewhere.example")
        .expires_at(500)
        .not_before(90)
        .issued_at(95)
        .organization("org_1")
        .workspace("ws_1")
        .organization_permissions(["user:read", "user:write"])
        .workspace_permissions(Vec::<String>::new())
        .claim("metadata", json!({"plan": "pro"}))
        .remove_claim("sid")
        .header("typ", json!("at+jwt"))
        .header("alg", json!("ES384"))
        .without_kid();
    let (header, claims, _, _) = split(&builder.sign());
    assert_eq!(header, json!({"alg": "ES384", "typ": "at+jwt"}));
    assert_eq!(header, builder.header_json());
    assert_eq!(
        claims,
        json!({
            "iss": "https://elsewhere.example", "sub": "user_42", "iat": 95, "exp": 500,
            "nbf": 90, "organization": "org_1", "workspace": "ws_1",
            "organization_permissions": ["user:read", "user:write"],
            "workspace_permissions": [], "metadata": {"plan": "pro"}
        })
    );
    assert_eq!(claims, builder.claims_json());

    let (_, claims, _, _) = split(
        &wacht
            .token()
            .permissions_object(["org:admin"], ["ws:read"])
            .remove_claim("exp")
            .claim("sub", json!(7))
            .sign(),
    );
    assert_eq!(
        claims["permissions"],
        json!({"organization": ["org:admin"], "workspace": ["ws:read"]})
    );
    assert!(claims.get("exp").is_none());
    assert_eq!(claims["sub"], 7);
}

#[tokio::test]
async fn header_overrides_do_not_change_the_signing_key() {
    let wacht = LocalWacht::start().unwrap();
    let token = wacht.token().header("alg", json!("ES384")).sign();
    // Still an ES256 signature by the current key.
    assert!(verifies_against_served_jwks(&wacht, &token, Algorithm::ES256).await);
}

#[test]
fn hs256_and_unsigned_tokens() {
    let wacht = LocalWacht::start().unwrap();
    let secret = wacht.current_key().public_key_pem();
    let token = wacht
        .token()
        .subject("mallory")
        .sign_hs256(secret.as_bytes());
    let (header, claims, message, signature) = split(&token);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["kid"], wacht.current_key().kid());
    assert_eq!(claims["sub"], "mallory");
    let hmac_key = DecodingKey::from_secret(secret.as_bytes());
    assert!(verify(&signature, message.as_bytes(), &hmac_key, Algorithm::HS256).unwrap());

    let token = wacht.token().unsigned();
    assert!(token.ends_with('.'));
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[2], "");
    assert_eq!(decode_segment(parts[0])["alg"], "none");
    assert_eq!(decode_segment(parts[1])["sub"], "user_test");
}

#[tokio::test]
async fn raw_tokens_are_signed_as_given() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.current_key();
    let header = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, key.kid());
    let token = key.sign_token_bytes(header.as_bytes(), br#"{"sub":"a","sub":"b"}"#);
    let claims_b64 = token.split('.').nth(1).unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD.decode(claims_b64).unwrap(),
        br#"{"sub":"a","sub":"b"}"#
    );
    assert!(verifies_against_served_jwks(&wacht, &token, Algorithm::ES256).await);

    let token = key.sign_token(
        &json!({"alg": "ES256", "kid": key.kid()}),
        &json!({"sub": "x"}),
    );
    assert!(verifies_against_served_jwks(&wacht, &token, Algorithm::ES256).await);
}

#[tokio::test]
async fn counters_count_jwks_fetches_and_requests() {
    let wacht = LocalWacht::start().unwrap();
    assert_eq!((wacht.jwks_fetches(), wacht.requests()), (0, 0));
    for _ in 0..3 {
        fetch_jwks(&wacht).await;
    }
    get(&format!("{}/other", wacht.url())).await;
    assert_eq!(wacht.jwks_fetches(), 3);
    assert_eq!(wacht.requests(), 4);

    // Clones share the server and its counters.
    let clone = wacht.clone();
    fetch_jwks(&clone).await;
    assert_eq!(wacht.jwks_fetches(), 4);

    wacht.reset_counters();
    assert_eq!((wacht.jwks_fetches(), wacht.requests()), (0, 0));
}

#[tokio::test]
async fn other_paths_and_methods_are_404_json() {
    let wacht = LocalWacht::start().unwrap();
    for path in [
        "/",
        "/nope",
        "/.well-known/jwks.json/",
        "/.well-known/openid-configuration",
    ] {
        let (status, content_type, body) = get(&format!("{}{path}", wacht.url())).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(content_type, "application/json");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"message": "not found"})
        );
    }
    let response = reqwest::Client::new()
        .post(wacht.jwks_url())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(wacht.jwks_fetches(), 0);
}

#[tokio::test]
async fn rotate_replaces_every_published_key() {
    let wacht = LocalWacht::start().unwrap();
    let old = wacht.current_key();
    let old_token = wacht.token().sign();
    let added = wacht.add_key(KeyAlgorithm::Es384);
    assert_eq!(
        wacht.current_key().kid(),
        old.kid(),
        "add_key keeps the current key"
    );
    assert_eq!(
        fetch_jwks(&wacht).await["keys"].as_array().unwrap().len(),
        2
    );

    let new = wacht.rotate(KeyAlgorithm::EdDsa);
    assert_eq!(wacht.current_key().kid(), new.kid());
    let document = fetch_jwks(&wacht).await;
    let kids: Vec<&str> = document["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new.kid()]);
    assert!(!kids.contains(&old.kid()) && !kids.contains(&added.kid()));

    let token = wacht.token().sign();
    assert_eq!(split(&token).0["kid"], new.kid());
    assert_eq!(split(&token).0["alg"], "EdDSA");
    assert!(verifies_against_served_jwks(&wacht, &token, Algorithm::EdDSA).await);
    assert_ne!(split(&old_token).0["kid"], new.kid());
}

#[tokio::test]
async fn keys_can_be_removed_and_set_current() {
    let wacht = LocalWacht::start().unwrap();
    let first = wacht.current_key();
    let second = wacht.add_key(KeyAlgorithm::Es256);
    assert!(wacht.remove_key(first.kid()));
    assert!(!wacht.remove_key(first.kid()));
    assert_eq!(split(&wacht.token().sign()).0["kid"], first.kid());
    wacht.set_current_key(&second);
    assert_eq!(split(&wacht.token().sign()).0["kid"], second.kid());
    let document = fetch_jwks(&wacht).await;
    assert_eq!(document["keys"].as_array().unwrap().len(), 1);
    assert_eq!(document["keys"][0]["kid"], second.kid());

    // A duplicate kid can be published.
    wacht.add_test_key(TestKey::generate(KeyAlgorithm::Es256).with_kid(second.kid()));
    let document = fetch_jwks(&wacht).await;
    assert_eq!(document["keys"][1]["kid"], second.kid());
}

#[tokio::test]
async fn raw_documents_are_served_verbatim() {
    let wacht = LocalWacht::start().unwrap();
    let odd = vec![
        json!({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}),
        json!({"kty": "EC", "use": "enc"}),
    ];
    wacht.publish(odd.clone());
    assert_eq!(fetch_jwks(&wacht).await, json!({ "keys": odd }));
    wacht.rotate(KeyAlgorithm::Es256);
    assert_eq!(fetch_jwks(&wacht).await, json!({ "keys": odd }), "sticky");

    wacht.publish_document(json!({"keys": "nope", "extra": 1}));
    assert_eq!(
        fetch_jwks(&wacht).await,
        json!({"keys": "nope", "extra": 1})
    );

    wacht.publish_managed_keys();
    let document = fetch_jwks(&wacht).await;
    assert_eq!(document["keys"][0]["kid"], wacht.current_key().kid());
}

#[tokio::test]
async fn fault_down_closes_the_connection_without_a_response() {
    let wacht = LocalWacht::start().unwrap();
    let client = reqwest::Client::new();
    wacht.set_jwks_fault(JwksFault::Down);
    assert_eq!(wacht.jwks_fault(), JwksFault::Down);
    for _ in 0..2 {
        let err = client.get(wacht.jwks_url()).send().await.unwrap_err();
        assert!(err.status().is_none() && err.is_request(), "{err:?}");
    }
    assert_eq!(wacht.jwks_fetches(), 2);

    // The rest of the emulator still answers.
    let response = client
        .get(format!("{}/other", wacht.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    wacht.set_jwks_fault(JwksFault::None);
    let response = client.get(wacht.jwks_url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(wacht.jwks_fetches(), 3);
}

#[tokio::test]
async fn fault_status_serves_that_status() {
    let wacht = LocalWacht::start().unwrap();
    wacht.set_jwks_fault(JwksFault::Status(503));
    let (status, content_type, body) = get(&wacht.jwks_url()).await;
    assert_eq!(status, 503);
    assert_eq!(content_type, "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"message": "injected fault"})
    );

    wacht.set_jwks_fault(JwksFault::Status(404));
    assert_eq!(get(&wacht.jwks_url()).await.0, 404);
    wacht.set_jwks_fault(JwksFault::Status(1000));
    assert_eq!(get(&wacht.jwks_url()).await.0, 500);
    assert_eq!(wacht.jwks_fetches(), 3);
}

#[tokio::test]
async fn fault_invalid_json_serves_200_garbage() {
    let wacht = LocalWacht::start().unwrap();
    wacht.set_jwks_fault(JwksFault::InvalidJson);
    let (status, content_type, body) = get(&wacht.jwks_url()).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/json");
    assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");
    assert_eq!(wacht.jwks_fetches(), 1);
}

#[tokio::test]
async fn fault_slow_delays_then_serves() {
    let wacht = LocalWacht::start().unwrap();
    wacht.set_jwks_fault(JwksFault::Slow(Duration::from_millis(300)));
    let started = Instant::now();
    let document = fetch_jwks(&wacht).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(document["keys"][0]["kid"], wacht.current_key().kid());

    // A client with a shorter timeout gives up.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let err = client.get(wacht.jwks_url()).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(wacht.jwks_fetches(), 2);
}

#[test]
fn works_across_runtimes_and_stops_with_the_last_handle() {
    let wacht = LocalWacht::start().unwrap();
    let url = wacht.jwks_url();
    for _ in 0..2 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let status = runtime.block_on(async {
            reqwest::Client::new()
                .get(&url)
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(status, 200);
    }
    let clone = wacht.clone();
    drop(wacht);
    assert!(std::net::TcpStream::connect(clone.url().trim_start_matches("http://")).is_ok());

    let address = clone.url().trim_start_matches("http://").to_owned();
    drop(clone);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(&address).is_ok() {
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<LocalWacht>();
    assert_send_sync::<TestKey>();
    assert_send_sync::<TokenBuilder>();
    assert_send_sync::<JwksFault>();
}
