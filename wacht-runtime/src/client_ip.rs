//! Which client IP, if any, is forwarded to the gateway.
//!
//! A caller can set `x-forwarded-for` and `x-nf-client-connection-ip` on any platform that
//! does not overwrite them, so trusting them by default would let a caller choose the IP
//! the gateway's IP rules see. The default is therefore to send none, as the reference SDK
//! does; a deployment opts in with the policy that matches its platform.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{HeaderMap, HeaderName};

/// Where the caller's IP address comes from, for the gateway's `client_ip`.
///
/// | platform | policy |
/// |---|---|
/// | Netlify Functions | [`ClientIp::netlify()`] (`x-nf-client-connection-ip`, set by Netlify) |
/// | behind n proxies that each append to `X-Forwarded-For` (AWS ALB/API Gateway: n = 1) | [`ClientIp::RightmostForwardedFor`]`(n)` |
/// | a proxy that sets one header itself (e.g. `cf-connecting-ip`, `x-real-ip`) | [`ClientIp::Header`] |
/// | anything else, or unsure | [`ClientIp::None`] (the default) |
///
/// A value that is not an IP address is never sent.
///
/// ```
/// use wacht_runtime::ClientIp;
/// let headers: http::HeaderMap = [
///     ("x-forwarded-for".parse().unwrap(), "6.6.6.6, 203.0.113.9".parse().unwrap()),
/// ]
/// .into_iter()
/// .collect();
/// assert_eq!(ClientIp::None.resolve(&headers), None);
/// // One trusted proxy appended the address it saw: the rightmost entry.
/// assert_eq!(
///     ClientIp::RightmostForwardedFor(1).resolve(&headers),
///     Some("203.0.113.9".parse().unwrap())
/// );
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientIp {
    /// Send no client IP (the default, as the reference SDK).
    #[default]
    None,
    /// The value of this header, which the platform sets and a caller cannot (present
    /// exactly once).
    Header(HeaderName),
    /// The n-th `X-Forwarded-For` entry from the right (n ≥ 1): behind n trusted proxies
    /// that each append the address they received the request from. Every
    /// `X-Forwarded-For` header is read, in order.
    RightmostForwardedFor(usize),
}

impl ClientIp {
    /// Netlify's `x-nf-client-connection-ip`, which Netlify's edge sets on every request.
    pub fn netlify() -> Self {
        ClientIp::Header(HeaderName::from_static("x-nf-client-connection-ip"))
    }

    /// Parses the `WACHT_CLIENT_IP` setting: `none`, `netlify`, `header:<name>` or
    /// `forwarded-for:<n>`.
    ///
    /// ```
    /// use wacht_runtime::ClientIp;
    /// assert_eq!(ClientIp::parse("netlify"), Some(ClientIp::netlify()));
    /// assert_eq!(ClientIp::parse("forwarded-for:2"), Some(ClientIp::RightmostForwardedFor(2)));
    /// assert_eq!(ClientIp::parse("forwarded-for:0"), None);
    /// ```
    pub fn parse(setting: &str) -> Option<Self> {
        let setting = setting.trim();
        match setting.split_once(':') {
            None if setting.eq_ignore_ascii_case("none") => Some(ClientIp::None),
            None if setting.eq_ignore_ascii_case("netlify") => Some(ClientIp::netlify()),
            Some((kind, name)) if kind.eq_ignore_ascii_case("header") => {
                HeaderName::try_from(name.trim().to_ascii_lowercase())
                    .ok()
                    .map(ClientIp::Header)
            }
            Some((kind, n)) if kind.eq_ignore_ascii_case("forwarded-for") => n
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .map(ClientIp::RightmostForwardedFor),
            _ => None,
        }
    }

    /// Whether this policy can work (a forwarded-for depth of at least 1).
    pub(crate) fn is_valid(&self) -> bool {
        !matches!(self, ClientIp::RightmostForwardedFor(0))
    }

    /// The caller's IP under this policy, if the request carries a usable one.
    pub fn resolve(&self, headers: &HeaderMap) -> Option<IpAddr> {
        let parse = |value: &str| value.trim().parse::<IpAddr>().ok();
        match self {
            ClientIp::None => None,
            ClientIp::Header(name) => {
                let mut values = headers.get_all(name).iter();
                let value = values.next()?;
                if values.next().is_some() {
                    return None;
                }
                parse(value.to_str().ok()?)
            }
            ClientIp::RightmostForwardedFor(n) => {
                // Split the raw bytes: the entries left of the selected one are the client's
                // to write, and a byte there that is not ASCII must not void the entry the
                // trusted proxies appended. Only the selected entry must be an IP.
                let mut entries = Vec::new();
                for value in headers.get_all("x-forwarded-for") {
                    entries.extend(value.as_bytes().split(|b| *b == b','));
                }
                let index = entries.len().checked_sub(*n)?;
                parse(std::str::from_utf8(entries.get(index)?).ok()?)
            }
        }
    }
}

/// Logs, once per process, that a configured policy found no client IP in a request (the
/// platform does not set the header, or fewer proxies appended than configured): the gateway
/// then sees no `client_ip`, and its IP rules cannot apply.
pub(crate) fn warn_unresolved_once(policy: &ClientIp) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !matches!(policy, ClientIp::None) && !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(target: "wacht", policy = ?policy, "the configured client-IP policy found no usable IP in a request; the gateway gets none (logged once)");
    }
}

impl fmt::Debug for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientIp::None => f.write_str("ClientIp::None"),
            ClientIp::Header(name) => write!(f, "ClientIp::Header({:?})", name.as_str()),
            ClientIp::RightmostForwardedFor(n) => write!(f, "ClientIp::RightmostForwardedFor({n})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(HeaderName::try_from(*name).unwrap(), value.parse().unwrap());
        }
        map
    }

    #[test]
    fn no_client_ip_is_sent_by_default_whatever_the_caller_claims() {
        let spoofed = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-nf-client-connection-ip", "5.6.7.8"),
        ]);
        assert_eq!(ClientIp::default().resolve(&spoofed), None);
    }

    #[test]
    fn a_platform_header_is_read_only_when_present_once_and_an_ip() {
        let netlify = ClientIp::netlify();
        assert_eq!(
            netlify.resolve(&headers(&[("x-nf-client-connection-ip", "2001:db8::1")])),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            netlify.resolve(&headers(&[
                ("x-nf-client-connection-ip", "1.1.1.1"),
                ("x-nf-client-connection-ip", "2.2.2.2"),
            ])),
            None
        );
        assert_eq!(
            netlify.resolve(&headers(&[("x-nf-client-connection-ip", "<script>")])),
            None
        );
        assert_eq!(
            netlify.resolve(&headers(&[("x-forwarded-for", "1.1.1.1")])),
            None
        );
    }

    #[test]
    fn forwarded_for_is_read_from_the_right_across_headers() {
        let request = headers(&[
            ("x-forwarded-for", "6.6.6.6, 203.0.113.9"),
            ("x-forwarded-for", "10.0.0.2"),
        ]);
        let nth = |n| ClientIp::RightmostForwardedFor(n).resolve(&request);
        assert_eq!(nth(1), Some("10.0.0.2".parse().unwrap()));
        assert_eq!(nth(2), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(nth(3), Some("6.6.6.6".parse().unwrap()));
        assert_eq!(nth(4), None, "fewer entries than trusted proxies");
        assert_eq!(nth(0), None);
        assert!(!ClientIp::RightmostForwardedFor(0).is_valid());
    }

    #[test]
    fn only_the_selected_forwarded_for_entry_must_be_an_ascii_ip() {
        let mut request = HeaderMap::new();
        request.append(
            "x-forwarded-for",
            http::HeaderValue::from_bytes(b"\xff caller \xe9, 10.0.0.1").unwrap(),
        );
        request.append("x-forwarded-for", "203.0.113.9".parse().unwrap());
        let nth = |n| ClientIp::RightmostForwardedFor(n).resolve(&request);
        assert_eq!(nth(1), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(nth(2), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(nth(3), None, "the caller's own bytes are no IP");
    }

    #[test]
    fn settings_parse() {
        assert_eq!(ClientIp::parse(" none "), Some(ClientIp::None));
        assert_eq!(
            ClientIp::parse("header:CF-Connecting-IP"),
            Some(ClientIp::Header(HeaderName::from_static(
                "cf-connecting-ip"
            )))
        );
        for bad in [
            "",
            "header:",
            "header:bad header",
            "forwarded-for:x",
            "xff:1",
            "yes",
        ] {
            assert_eq!(ClientIp::parse(bad), None, "{bad:?}");
        }
    }
}
