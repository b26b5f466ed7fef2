//! Random ids and secrets for the emulator's keys, credentials and deployments.
//!
//! This module imports nothing from the rest of the emulator.

use std::io;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `N` random bytes.
fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut bytes = [0_u8; N];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| io::Error::other("random generation failed"))?;
    Ok(bytes)
}

/// 32 random bytes (a webhook signing key).
pub(super) fn random_bytes_32() -> io::Result<[u8; 32]> {
    random_bytes::<32>()
}

/// A random id of 18 decimal digits (no leading zero), the shape of Wacht's ids.
pub(super) fn random_digits() -> io::Result<String> {
    let value = u64::from_be_bytes(random_bytes::<8>()?);
    Ok((100_000_000_000_000_000 + value % 900_000_000_000_000_000).to_string())
}

/// 43 random url-safe base64 characters (256 bits).
pub(super) fn random_secret() -> io::Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// `prefix` followed by 24 random hex digits.
pub(super) fn random_id(prefix: &str) -> io::Result<String> {
    let bytes = random_bytes::<12>()?;
    let mut id = String::with_capacity(prefix.len() + 2 * bytes.len());
    id.push_str(prefix);
    for byte in bytes {
        id.push_str(&format!("{byte:02x}"));
    }
    Ok(id)
}

/// Unwraps a random generation, panicking like [`TestKey::generate`](super::TestKey::generate)
/// when the system's randomness fails (a broken environment, not an error to handle).
pub(super) fn or_panic<T>(generated: io::Result<T>) -> T {
    match generated {
        Ok(value) => value,
        Err(err) => panic!("wacht testing: {err}"),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn random_ids_are_18_digits() {
        for _ in 0..100 {
            let id = random_digits().unwrap();
            assert_eq!(id.len(), 18);
            assert!(id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0'));
        }
        let secret = random_secret().unwrap();
        assert_eq!(secret.len(), 43);
    }
}
