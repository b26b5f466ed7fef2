//! Metrics through the [`metrics`](https://docs.rs/metrics) facade (feature `metrics`): what
//! every check decided and how long it took, the JWKS fetches, the gateway calls, the token
//! cache and the keys held. Any `metrics` exporter reports them (Prometheus, OpenTelemetry,
//! StatsD, …); without one installed, recording does nothing.
//!
//! Every label value is one of the closed sets below ([`CHECKS`], [`OUTCOMES`], [`REASONS`],
//! [`JWKS_RESULTS`], [`GATEWAY_STATUSES`], [`KEY_STATES`]): `&'static str`s chosen by this
//! crate, never a value taken from a request, a token, a key or an answer (a reason code
//! outside [`REASONS`], from a [`Rejection`](crate::Rejection) built by other code, is
//! counted as `other`).
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `wacht_checks_total` | counter | `check`, `outcome`, `reason` |
//! | `wacht_check_duration_seconds` | histogram | `check`, `outcome` |
//! | `wacht_jwks_fetches_total` | counter | `result` |
//! | `wacht_jwks_fetch_duration_seconds` | histogram | `result` |
//! | `wacht_gateway_duration_seconds` | histogram | `status` |
//! | `wacht_token_cache_hits_total`, `wacht_token_cache_misses_total` | counter | — |
//! | `wacht_jwks_keys` | gauge | `state` |
//!
//! The handles of the hot path (allowed checks, the token cache) are registered when a
//! [`Wacht`](crate::Wacht) is built: install the recorder (the exporter) before building the
//! context ([`init`](crate::init), or the first request for the process-wide one). Call
//! [`describe`] after installing it for descriptions and units.
//!
//! This module is the only place that records; without the feature its functions are empty
//! and inlined away.

#[cfg(not(feature = "metrics"))]
use std::time::Duration;

#[cfg(not(feature = "metrics"))]
use crate::rejection::RejectionCode;

/// Which check ran (the `check` label; the `wacht.check` span's `check` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// A session token (`#[protect]`, `Wacht::protect`, the session layer and extractors).
    Session,
    /// A machine credential, decided by the gateway.
    Machine,
    /// People or machines, refused before either check could run (both credentials at once,
    /// none, a malformed header).
    Either,
}

impl Check {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Check::Session => "session",
            Check::Machine => "machine",
            Check::Either => "either",
        }
    }
}

/// How a JWKS fetch ended (the `result` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JwksResult {
    Ok,
    HttpError,
    Redirect,
    Timeout,
    Unreachable,
    TooLarge,
    Invalid,
    NoUsableKeys,
}

impl JwksResult {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn label(self) -> &'static str {
        match self {
            JwksResult::Ok => "ok",
            JwksResult::HttpError => "http_error",
            JwksResult::Redirect => "redirect",
            JwksResult::Timeout => "timeout",
            JwksResult::Unreachable => "unreachable",
            JwksResult::TooLarge => "too_large",
            JwksResult::Invalid => "invalid",
            JwksResult::NoUsableKeys => "no_usable_keys",
        }
    }
}

/// How a gateway call ended (the `status` label): the statuses that decide something, and
/// buckets for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GatewayStatus {
    /// An HTTP status (bucketed by [`GatewayStatus::label`]).
    Http(u16),
    Redirect,
    Timeout,
    Unreachable,
    Invalid,
}

impl GatewayStatus {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn label(self) -> &'static str {
        match self {
            GatewayStatus::Http(200) => "200",
            GatewayStatus::Http(400) => "400",
            GatewayStatus::Http(401) => "401",
            GatewayStatus::Http(403) => "403",
            GatewayStatus::Http(429) => "429",
            GatewayStatus::Http(500..=599) => "5xx",
            GatewayStatus::Http(_) => "other",
            GatewayStatus::Redirect => "redirect",
            GatewayStatus::Timeout => "timeout",
            GatewayStatus::Unreachable => "unreachable",
            GatewayStatus::Invalid => "invalid",
        }
    }
}

#[cfg(feature = "metrics")]
pub use on::*;

#[cfg(feature = "metrics")]
mod on {
    use std::time::Duration;

    use metrics::{Counter, Histogram, Unit};

    use super::{Check, GatewayStatus, JwksResult};
    use crate::rejection::RejectionCode;

    /// Checks by kind, outcome and reason (counter).
    pub const CHECKS_TOTAL: &str = "wacht_checks_total";
    /// How long a check took, by kind and outcome (histogram, seconds).
    pub const CHECK_DURATION_SECONDS: &str = "wacht_check_duration_seconds";
    /// JWKS fetches by result (counter).
    pub const JWKS_FETCHES_TOTAL: &str = "wacht_jwks_fetches_total";
    /// How long a JWKS fetch took, by result (histogram, seconds).
    pub const JWKS_FETCH_DURATION_SECONDS: &str = "wacht_jwks_fetch_duration_seconds";
    /// How long a gateway call took, by status (histogram, seconds).
    pub const GATEWAY_DURATION_SECONDS: &str = "wacht_gateway_duration_seconds";
    /// Session tokens found in the verified-token cache (counter).
    pub const TOKEN_CACHE_HITS_TOTAL: &str = "wacht_token_cache_hits_total";
    /// Session tokens not found in the verified-token cache (counter).
    pub const TOKEN_CACHE_MISSES_TOTAL: &str = "wacht_token_cache_misses_total";
    /// Session keys held, by state (gauge).
    pub const JWKS_KEYS: &str = "wacht_jwks_keys";

    /// The `check` label's values.
    pub const CHECKS: &[&str] = &["session", "machine", "either", "webhook"];

    /// The `outcome` label's values: `allowed`, or the rejection's `error` code.
    pub const OUTCOMES: &[&str] = &[
        "allowed",
        "unauthenticated",
        "forbidden",
        "rate_limited",
        "auth_unavailable",
        "auth_misconfigured",
        "bad_request",
        "payload_too_large",
        "ignored",
        "redirect",
    ];

    /// The `reason` label's values: `none` for an allowed check, `other` for a reason code
    /// this crate does not emit, and every reason code it does (the rejections guide),
    /// sorted.
    pub const REASONS: &[&str] = &[
        "access_denied",
        "algorithm_mismatch",
        "already_initialized",
        "ambiguous_credential",
        "ambiguous_path",
        "body_too_large",
        "credential_too_long",
        "cross_site_request",
        "delivery_in_progress",
        "delivery_log_needs_layer",
        "delivery_log_unavailable",
        "development_session_stored",
        "duplicate_delivery",
        "event_not_handled",
        "future_timestamp",
        "gateway_bad_request",
        "gateway_error",
        "gateway_invalid_response",
        "gateway_timeout",
        "gateway_unreachable",
        "http_client",
        "invalid_authorization_header",
        "invalid_browser_setting",
        "invalid_claims",
        "invalid_client_ip",
        "invalid_credential",
        "invalid_credential_header",
        "invalid_issuer",
        "invalid_jwks_min_refresh_interval",
        "invalid_jwks_ttl",
        "invalid_leeway",
        "invalid_public_signing_key",
        "invalid_publishable_key",
        "invalid_redirect",
        "invalid_requirement",
        "invalid_signature",
        "invalid_timeout",
        "invalid_token_cache",
        "invalid_url",
        "invalid_webhook_secret",
        "invalid_webhook_setting",
        "keys_timeout",
        "keys_unavailable",
        "malformed_event",
        "malformed_token",
        "malformed_webhook_header",
        "missing_credential",
        "missing_permission",
        "missing_publishable_key",
        "missing_subject",
        "missing_token",
        "missing_webhook_header",
        "missing_webhook_secret",
        "none",
        "organization_mismatch",
        "other",
        "permission_denied",
        "rate_limited",
        "session_cookies_set",
        "session_exchange_rate_limited",
        "session_exchange_timeout",
        "session_exchange_unavailable",
        "sign_in_required",
        "signature_mismatch",
        "stale_timestamp",
        "token_expired",
        "token_not_yet_valid",
        "unknown_key",
        "unreadable_body",
        "unsupported_algorithm",
        "unsupported_method",
        "unsupported_signature_version",
        "workspace_mismatch",
    ];

    /// The `result` label's values (JWKS fetches).
    pub const JWKS_RESULTS: &[&str] = &[
        "ok",
        "http_error",
        "redirect",
        "timeout",
        "unreachable",
        "too_large",
        "invalid",
        "no_usable_keys",
    ];

    /// The `status` label's values (gateway calls): the statuses that decide something,
    /// `5xx`, `other` (any other status), and the calls that got no status.
    pub const GATEWAY_STATUSES: &[&str] = &[
        "200",
        "400",
        "401",
        "403",
        "429",
        "5xx",
        "other",
        "redirect",
        "timeout",
        "unreachable",
        "invalid",
    ];

    /// The `state` label's values (`wacht_jwks_keys`): keys within their TTL, and keys held
    /// past it (a refresh is due or failing; they keep serving).
    pub const KEY_STATES: &[&str] = &["fresh", "stale"];

    /// Describes every metric (description and unit) to the installed recorder. Call it once
    /// after installing the recorder; building a [`Wacht`](crate::Wacht) calls it too.
    pub fn describe() {
        metrics::describe_counter!(
            CHECKS_TOTAL,
            Unit::Count,
            "wacht checks by kind (check), outcome (allowed or the error code) and reason code"
        );
        metrics::describe_histogram!(
            CHECK_DURATION_SECONDS,
            Unit::Seconds,
            "how long a wacht check took, by kind and outcome"
        );
        metrics::describe_counter!(
            JWKS_FETCHES_TOTAL,
            Unit::Count,
            "JWKS (session key) fetches by result"
        );
        metrics::describe_histogram!(
            JWKS_FETCH_DURATION_SECONDS,
            Unit::Seconds,
            "how long a JWKS fetch took, by result"
        );
        metrics::describe_histogram!(
            GATEWAY_DURATION_SECONDS,
            Unit::Seconds,
            "how long a call to Wacht's gateway took, by HTTP status (bucketed) or failure"
        );
        metrics::describe_counter!(
            TOKEN_CACHE_HITS_TOTAL,
            Unit::Count,
            "session tokens found in the verified-token cache"
        );
        metrics::describe_counter!(
            TOKEN_CACHE_MISSES_TOTAL,
            Unit::Count,
            "session tokens not found in the verified-token cache"
        );
        metrics::describe_gauge!(
            JWKS_KEYS,
            Unit::Count,
            "session signature keys held, fresh (within the TTL) or stale"
        );
    }

    /// `reason` as a label: itself when it is one of [`REASONS`] (as the `&'static str`
    /// there), else `other`.
    pub(crate) fn reason_label(reason: &str) -> &'static str {
        match REASONS.binary_search(&reason) {
            Ok(at) => REASONS[at],
            Err(_) => "other",
        }
    }

    /// One check kind's handles for an allowed check (the hot path: no lookup, no
    /// allocation).
    struct Allowed {
        total: Counter,
        duration: Histogram,
    }

    impl Allowed {
        fn register(check: Check) -> Self {
            let check = check.label();
            Allowed {
                total: metrics::counter!(CHECKS_TOTAL, "check" => check, "outcome" => "allowed", "reason" => "none"),
                duration: metrics::histogram!(CHECK_DURATION_SECONDS, "check" => check, "outcome" => "allowed"),
            }
        }
    }

    /// The handles a [`Wacht`](crate::Wacht) records through, registered with the recorder
    /// installed when it is built.
    pub(crate) struct Handles {
        session: Allowed,
        machine: Allowed,
        either: Allowed,
        hits: Counter,
        misses: Counter,
    }

    impl Handles {
        pub(crate) fn new() -> Self {
            describe();
            Handles {
                session: Allowed::register(Check::Session),
                machine: Allowed::register(Check::Machine),
                either: Allowed::register(Check::Either),
                hits: metrics::counter!(TOKEN_CACHE_HITS_TOTAL),
                misses: metrics::counter!(TOKEN_CACHE_MISSES_TOTAL),
            }
        }

        /// A check ended: allowed (`None`), or refused with this code and reason.
        #[inline]
        pub(crate) fn check(
            &self,
            check: Check,
            refused: Option<(RejectionCode, &str)>,
            elapsed: Duration,
        ) {
            match refused {
                None => {
                    let allowed = match check {
                        Check::Session => &self.session,
                        Check::Machine => &self.machine,
                        Check::Either => &self.either,
                    };
                    allowed.total.increment(1);
                    allowed.duration.record(elapsed.as_secs_f64());
                }
                Some((code, reason)) => {
                    let (check, outcome) = (check.label(), code.as_str());
                    let reason = reason_label(reason);
                    metrics::counter!(CHECKS_TOTAL, "check" => check, "outcome" => outcome, "reason" => reason)
                        .increment(1);
                    metrics::histogram!(CHECK_DURATION_SECONDS, "check" => check, "outcome" => outcome)
                        .record(elapsed.as_secs_f64());
                }
            }
        }

        /// A session token was looked up in the verified-token cache.
        #[inline]
        pub(crate) fn token_cache(&self, hit: bool) {
            if hit {
                self.hits.increment(1);
            } else {
                self.misses.increment(1);
            }
        }
    }

    /// A webhook delivery was verified (`None`) or refused. Not the hot path of a check:
    /// recorded by name, with `check` = `webhook`.
    pub(crate) fn webhook(refused: Option<(RejectionCode, &str)>, elapsed: Duration) {
        let (outcome, reason) = match refused {
            None => ("allowed", "none"),
            Some((code, reason)) => (code.as_str(), reason_label(reason)),
        };
        metrics::counter!(CHECKS_TOTAL, "check" => "webhook", "outcome" => outcome, "reason" => reason)
            .increment(1);
        metrics::histogram!(CHECK_DURATION_SECONDS, "check" => "webhook", "outcome" => outcome)
            .record(elapsed.as_secs_f64());
    }

    /// A JWKS fetch ended.
    pub(crate) fn jwks_fetch(result: JwksResult, elapsed: Duration) {
        let result = result.label();
        metrics::counter!(JWKS_FETCHES_TOTAL, "result" => result).increment(1);
        metrics::histogram!(JWKS_FETCH_DURATION_SECONDS, "result" => result)
            .record(elapsed.as_secs_f64());
    }

    /// The keys held changed (or were found stale).
    pub(crate) fn jwks_keys(fresh: usize, stale: usize) {
        // Key counts are small (a JWKS is capped at 512 KiB): exact as f64.
        metrics::gauge!(JWKS_KEYS, "state" => "fresh").set(fresh as f64);
        metrics::gauge!(JWKS_KEYS, "state" => "stale").set(stale as f64);
    }

    /// A gateway call ended.
    pub(crate) fn gateway(status: GatewayStatus, elapsed: Duration) {
        metrics::histogram!(GATEWAY_DURATION_SECONDS, "status" => status.label())
            .record(elapsed.as_secs_f64());
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn label_sets_are_sorted_where_searched_and_cover_the_enums() {
            assert!(REASONS.windows(2).all(|w| w[0] < w[1]), "REASONS unsorted");
            assert_eq!(reason_label("missing_token"), "missing_token");
            assert_eq!(reason_label("a_reason_from_elsewhere"), "other");
            assert_eq!(reason_label(""), "other");
            for code in [
                RejectionCode::Unauthenticated,
                RejectionCode::Forbidden,
                RejectionCode::RateLimited,
                RejectionCode::AuthUnavailable,
                RejectionCode::AuthMisconfigured,
                RejectionCode::BadRequest,
                RejectionCode::PayloadTooLarge,
                RejectionCode::Ignored,
                RejectionCode::Redirect,
            ] {
                assert!(OUTCOMES.contains(&code.as_str()), "{code:?}");
            }
            for status in [
                0, 200, 201, 302, 400, 401, 403, 404, 429, 500, 503, 599, 600,
            ] {
                assert!(GATEWAY_STATUSES.contains(&GatewayStatus::Http(status).label()));
            }
            for check in [Check::Session, Check::Machine, Check::Either] {
                assert!(CHECKS.contains(&check.label()));
            }
        }
    }
}

/// Without the feature: nothing is recorded, and these are empty.
#[cfg(not(feature = "metrics"))]
pub(crate) struct Handles;

#[cfg(not(feature = "metrics"))]
impl Handles {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Handles
    }

    #[inline(always)]
    pub(crate) fn check(&self, _: Check, _: Option<(RejectionCode, &str)>, _: Duration) {}

    #[inline(always)]
    pub(crate) fn token_cache(&self, _: bool) {}
}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn jwks_fetch(_: JwksResult, _: Duration) {}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn jwks_keys(_: usize, _: usize) {}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn gateway(_: GatewayStatus, _: Duration) {}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn webhook(_: Option<(RejectionCode, &str)>, _: Duration) {}
