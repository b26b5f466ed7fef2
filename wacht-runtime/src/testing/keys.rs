//! Signing keys for the local emulator: generation, public JWKs, PEM, JWS signatures.

use std::fmt;
use std::io;
use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair, RSA_PKCS1_SHA256, RsaPublicKeyComponents,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::random::random_id;

/// The signature algorithm of a [`TestKey`].
///
/// The names are the JWS `alg` values the key signs with (see [`KeyAlgorithm::jws_name`]).
/// ES256 is the default, as for the emulator's first key.
///
/// ```
/// use wacht_runtime::testing::KeyAlgorithm;
///
/// assert_eq!(KeyAlgorithm::default(), KeyAlgorithm::Es256);
/// assert_eq!(KeyAlgorithm::EdDsa.jws_name(), "EdDSA");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (`kty: "EC"`, `crv: "P-256"`).
    #[default]
    Es256,
    /// ECDSA on P-384 with SHA-384 (`kty: "EC"`, `crv: "P-384"`).
    Es384,
    /// RSASSA-PKCS1-v1_5 with SHA-256 on a 2048-bit key (`kty: "RSA"`). Generation takes a
    /// noticeable fraction of a second.
    Rs256,
    /// Ed25519 (`kty: "OKP"`, `crv: "Ed25519"`).
    EdDsa,
}

impl KeyAlgorithm {
    /// The JWS `alg` name: `"ES256"`, `"ES384"`, `"RS256"` or `"EdDSA"`.
    #[must_use]
    pub fn jws_name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The JWK key type: `"EC"`, `"RSA"` or `"OKP"`.
    #[must_use]
    pub fn key_type(self) -> &'static str {
        match self {
            Self::Es256 | Self::Es384 => "EC",
            Self::Rs256 => "RSA",
            Self::EdDsa => "OKP",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jws_name())
    }
}

enum Material {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A freshly generated asymmetric key pair with a key id, as the emulator publishes and signs
/// with.
///
/// Cheap to clone (the key material is shared). Its `Debug` output shows the key id and
/// algorithm only, never key material.
///
/// ```
/// use wacht_runtime::testing::{KeyAlgorithm, TestKey};
///
/// let key = TestKey::generate(KeyAlgorithm::EdDsa);
/// assert!(key.kid().starts_with("key_"));
/// assert_eq!(key.public_jwk()["kty"], "OKP");
/// assert_eq!(key.sign(b"hello").len(), 64);
/// assert!(key.public_key_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
/// ```
#[derive(Clone)]
pub struct TestKey {
    kid: Arc<str>,
    algorithm: KeyAlgorithm,
    material: Arc<Material>,
}

impl fmt::Debug for TestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl TestKey {
    /// Generates a new key pair with a random, unique key id (`key_` and 24 hex digits).
    ///
    /// The key is not published anywhere: sign a token with it
    /// ([`TokenBuilder::key`](super::TokenBuilder::key)) to test an unknown `kid`, or hand it
    /// to [`LocalWacht::add_test_key`](super::LocalWacht::add_test_key).
    ///
    /// # Panics
    ///
    /// When the system's cryptography fails to generate a key (a broken environment; a test
    /// kit panic rather than an error to handle). [`TestKey::try_generate`] returns the error
    /// instead.
    #[must_use]
    pub fn generate(algorithm: KeyAlgorithm) -> Self {
        match Self::try_generate(algorithm) {
            Ok(key) => key,
            Err(err) => panic!("wacht testing: cannot generate a {algorithm} key: {err}"),
        }
    }

    /// Generates a new key pair, returning an error when the system's cryptography fails.
    ///
    /// # Errors
    ///
    /// An [`io::Error`] of kind `Other` when key or key id generation fails.
    pub fn try_generate(algorithm: KeyAlgorithm) -> io::Result<Self> {
        let crypto_error = |_: Unspecified| io::Error::other("key generation failed");
        let material = match algorithm {
            KeyAlgorithm::Es256 => Material::Ec(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(crypto_error)?,
            ),
            KeyAlgorithm::Es384 => Material::Ec(
                EcdsaKeyPair::generate(&ECDSA_P384_SHA384_FIXED_SIGNING).map_err(crypto_error)?,
            ),
            KeyAlgorithm::Rs256 => {
                Material::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).map_err(crypto_error)?)
            }
            KeyAlgorithm::EdDsa => Material::Ed(Ed25519KeyPair::generate().map_err(crypto_error)?),
        };
        Ok(Self {
            kid: random_id("key_")?.into(),
            algorithm,
            material: Arc::new(material),
        })
    }

    /// The same key pair under another key id (for tests of duplicate or reused ids).
    ///
    /// ```
    /// use wacht_runtime::testing::{KeyAlgorithm, TestKey};
    ///
    /// let key = TestKey::generate(KeyAlgorithm::Es256).with_kid("shared-kid");
    /// assert_eq!(key.kid(), "shared-kid");
    /// ```
    #[must_use]
    pub fn with_kid(&self, kid: impl Into<String>) -> Self {
        Self {
            kid: kid.into().into(),
            algorithm: self.algorithm,
            material: Arc::clone(&self.material),
        }
    }

    /// The key id (`kid`), as published in the JWK and put in token headers.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The signature algorithm.
    #[must_use]
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The public key as a JWK: `kid`, `kty`, `alg`, `use: "sig"` and the key's own fields
    /// (EC: `crv`, `x`, `y`; RSA: `n`, `e`; OKP: `crv: "Ed25519"`, `x`), base64url without
    /// padding.
    ///
    /// Edit the returned value and serve it with
    /// [`LocalWacht::publish`](super::LocalWacht::publish) to test odd keys.
    #[must_use]
    pub fn public_jwk(&self) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match &*self.material {
            Material::Ec(pair) => {
                // Uncompressed SEC1 point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                let coordinates = point.get(1..).unwrap_or_default();
                let (x, y) = coordinates.split_at(coordinates.len() / 2);
                let crv = match self.algorithm {
                    KeyAlgorithm::Es384 => "P-384",
                    _ => "P-256",
                };
                json!({ "kty": "EC", "crv": crv, "x": b64(x), "y": b64(y) })
            }
            Material::Rsa(pair) => {
                let components = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({ "kty": "RSA", "n": b64(&components.n), "e": b64(&components.e) })
            }
            Material::Ed(pair) => {
                json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref()) })
            }
        };
        if let Value::Object(fields) = &mut jwk {
            fields.insert("kid".into(), Value::from(self.kid()));
            fields.insert("alg".into(), Value::from(self.algorithm.jws_name()));
            fields.insert("use".into(), Value::from("sig"));
        }
        jwk
    }

    /// The public key as an SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the format of the
    /// optional `WACHT_PUBLIC_SIGNING_KEY` setting.
    ///
    /// # Panics
    ///
    /// When the cryptography library cannot encode its own public key (a test kit panic).
    #[must_use]
    pub fn public_key_pem(&self) -> String {
        let der: Result<PublicKeyX509Der<'static>, Unspecified> = match &*self.material {
            Material::Ec(pair) => pair.public_key().as_der(),
            Material::Rsa(pair) => pair.public_key().as_der(),
            Material::Ed(pair) => pair.public_key().as_der(),
        };
        let der = match der {
            Ok(der) => der,
            Err(err) => panic!("wacht testing: cannot encode a public key: {err}"),
        };
        let body = STANDARD.encode(der.as_ref());
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }

    /// Signs `message` and returns the JWS signature bytes: ECDSA as fixed-size `r || s`,
    /// RSA as PKCS#1 v1.5 with SHA-256, Ed25519 as its 64-byte signature.
    ///
    /// # Panics
    ///
    /// When the cryptography library fails to sign (a test kit panic).
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signed = match &*self.material {
            Material::Ec(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|signature| signature.as_ref().to_vec()),
            Material::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map(|()| signature)
            }
            Material::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        };
        match signed {
            Ok(signature) => signature,
            Err(err) => panic!("wacht testing: signing failed: {err}"),
        }
    }

    /// Builds a compact JWS from exact header and claims values, signed with this key
    /// whatever the header says (for tampering tests: a wrong `alg`, a foreign `kid`, …).
    ///
    /// ```
    /// use serde_json::json;
    /// use wacht_runtime::testing::{KeyAlgorithm, TestKey};
    ///
    /// let key = TestKey::generate(KeyAlgorithm::Es256);
    /// let token = key.sign_token(&json!({"alg": "ES384", "kid": key.kid()}), &json!({"sub": "u"}));
    /// assert_eq!(token.split('.').count(), 3);
    /// ```
    #[must_use]
    pub fn sign_token(&self, header: &Value, claims: &Value) -> String {
        self.sign_token_bytes(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// Builds a compact JWS from exact header and claims bytes (not necessarily valid JSON:
    /// duplicate names, trailing garbage, …), signed with this key.
    ///
    /// ```
    /// use wacht_runtime::testing::{KeyAlgorithm, TestKey};
    ///
    /// let key = TestKey::generate(KeyAlgorithm::Es256);
    /// let header = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, key.kid());
    /// let token = key.sign_token_bytes(header.as_bytes(), br#"{"sub":"a","sub":"b"}"#);
    /// assert_eq!(token.split('.').count(), 3);
    /// ```
    #[must_use]
    pub fn sign_token_bytes(&self, header: &[u8], claims: &[u8]) -> String {
        let signing_input = signing_input(header, claims);
        let signature = self.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", base64url(&signature))
    }
}

/// Encodes bytes as base64url without padding, the encoding of every JWS segment.
///
/// ```
/// assert_eq!(wacht_runtime::testing::base64url(b"\xfb\xff"), "-_8");
/// ```
#[must_use]
pub fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `base64url(header) "." base64url(claims)`: the bytes a JWS signature covers.
pub(super) fn signing_input(header: &[u8], claims: &[u8]) -> String {
    format!("{}.{}", base64url(header), base64url(claims))
}
