//! Checking values: the documented range of every duration and size setting, URLs, and the
//! publishable key. Nothing here reads the environment (`env`) or holds the configuration
//! (`mod`); a value out of range is a [`ConfigError`], never a panic.

use std::ops::RangeInclusive;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use reqwest::Url;

use super::ConfigError;

/// The accepted range of `http_timeout` / `WACHT_HTTP_TIMEOUT_MS`: 1 ms to 5 minutes.
pub const HTTP_TIMEOUT_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(1)..=Duration::from_secs(300);
/// The accepted range of `jwks_ttl` / `WACHT_JWKS_TTL_SECONDS`: 1 s to a day.
pub const JWKS_TTL_RANGE: RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(86_400);
/// The accepted range of `jwks_min_refresh_interval` /
/// `WACHT_JWKS_MIN_REFRESH_INTERVAL_SECONDS`: 1 s to an hour.
pub const JWKS_MIN_REFRESH_INTERVAL_RANGE: RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(3_600);
/// The largest `token_cache_capacity` accepted (tokens).
pub const MAX_TOKEN_CACHE_CAPACITY: usize = 1_000_000;
/// The largest `token_cache_max_bytes` accepted (1 GiB).
pub const MAX_TOKEN_CACHE_MAX_BYTES: usize = 1 << 30;

/// `value` when it lies in `range`, else the error `invalid` builds from a description of
/// the value.
pub(super) fn duration_in(
    value: Duration,
    range: &RangeInclusive<Duration>,
    invalid: fn(String) -> ConfigError,
) -> Result<Duration, ConfigError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(invalid(describe(value)))
    }
}

/// A duration as a user would have written it, for error messages.
fn describe(value: Duration) -> String {
    if value == Duration::MAX {
        "Duration::MAX".to_owned()
    } else if value.subsec_nanos().is_multiple_of(1_000_000) {
        format!("{} ms", value.as_millis())
    } else {
        format!("{value:?}")
    }
}

/// Parses an environment value that is a whole number of `unit`s (`"ms"` or `"s"`).
pub(super) fn whole_number(text: &str, unit: &str) -> Option<Duration> {
    let n = text.parse::<u64>().ok()?;
    Some(match unit {
        "ms" => Duration::from_millis(n),
        _ => Duration::from_secs(n),
    })
}

/// Decodes `pk_test_`/`pk_live_` + base64(URL) to the URL's origin.
pub(super) fn decode_publishable_key(key: &str) -> Result<String, ConfigError> {
    let key = key.trim();
    let encoded = key
        .strip_prefix("pk_test_")
        .or_else(|| key.strip_prefix("pk_live_"))
        .ok_or(ConfigError::InvalidPublishableKey(
            "must start with `pk_test_` or `pk_live_`",
        ))?;
    let bytes = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| {
            ConfigError::InvalidPublishableKey("the part after the prefix is not base64")
        })?;
    let url = String::from_utf8(bytes)
        .map_err(|_| ConfigError::InvalidPublishableKey("the decoded value is not UTF-8"))?;
    origin_of(&url, "WACHT_PUBLISHABLE_KEY")
        .map_err(|_| ConfigError::InvalidPublishableKey("the decoded value is not an http(s) URL"))
}

pub(super) fn parse_http_url(url: &str, setting: &'static str) -> Result<Url, ConfigError> {
    let parsed = Url::parse(url.trim()).map_err(|e| ConfigError::InvalidUrl {
        setting,
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::InvalidUrl {
            setting,
            reason: "must be an absolute http(s) URL with a host".to_owned(),
        });
    }
    Ok(parsed)
}

/// `scheme://host[:port]`, no trailing slash.
pub(super) fn origin_of(url: &str, setting: &'static str) -> Result<String, ConfigError> {
    Ok(parse_http_url(url, setting)?.origin().ascii_serialization())
}

/// An absolute http(s) URL with any trailing slashes removed.
pub(super) fn absolute_url(url: &str, setting: &'static str) -> Result<String, ConfigError> {
    parse_http_url(url, setting)?;
    Ok(url.trim().trim_end_matches('/').to_owned())
}
