//! The gateway's `POST /v1/authz/check`: API keys, OAuth access tokens, permissions, rate
//! limits and injected faults, answering as the real gateway does.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io;
use std::sync::Mutex;
use std::time::Duration;

use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{
    Answer, CloseConnection, bytes_response, json_response, lock, message, status_or_500,
};
use super::random::{or_panic, random_digits, random_secret};
use crate::Clock;

/// Where the gateway's check is served, below the emulator's URL.
pub(super) const GATEWAY_PATH: &str = "/v1/authz/check";

/// The methods the gateway accepts (after upper-casing).
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Length of the url-safe base64 secret at the end of an API key.
const SECRET_LEN: usize = 43;

// ----- rate-limit rules -----

/// What a [`RateLimitRule`] counts requests per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RateLimitScope {
    /// One count per API key and requested resource (the real gateway's per-key buckets
    /// include the normalized resource).
    #[default]
    PerKey,
    /// One count shared by every key of the same app (`app_slug`), whatever the resource.
    PerApp,
}

/// A fixed-window rate limit on an API key ([`ApiKeySpec::rate_limit`]).
///
/// Windows are aligned on the Unix epoch in whole seconds: a 60-second window runs from
/// `t - t % 60` to the next multiple of 60, "now" being the gateway clock
/// ([`LocalWacht::set_gateway_clock`](super::LocalWacht::set_gateway_clock)). A check is
/// allowed while fewer than `requests` checks were allowed in the current window; refused
/// checks do not count.
///
/// ```
/// use std::time::Duration;
/// use wacht_runtime::testing::{RateLimitRule, RateLimitScope};
///
/// let rule = RateLimitRule::per_key("burst", 5, Duration::from_secs(60));
/// assert_eq!(rule.scope, RateLimitScope::PerKey);
/// assert_eq!(rule.window_secs(), 60);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateLimitRule {
    /// The rule's name: `rate_limits[].rule` and `blocked_rule` in answers.
    pub name: String,
    /// Checks allowed per window.
    pub requests: u32,
    /// The window length, in whole seconds (less than one second counts as one).
    pub window: Duration,
    /// What the count is kept per.
    pub scope: RateLimitScope,
}

impl RateLimitRule {
    /// A rule counting per API key (and resource).
    pub fn per_key(name: impl Into<String>, requests: u32, window: Duration) -> Self {
        Self {
            name: name.into(),
            requests,
            window,
            scope: RateLimitScope::PerKey,
        }
    }

    /// A rule counting per app: every key with the same `app_slug` shares it.
    pub fn per_app(name: impl Into<String>, requests: u32, window: Duration) -> Self {
        Self {
            name: name.into(),
            requests,
            window,
            scope: RateLimitScope::PerApp,
        }
    }

    /// The window in whole seconds, at least 1: the `<n>` of the `X-RateLimit-<n>s-*`
    /// headers.
    #[must_use]
    pub fn window_secs(&self) -> u64 {
        self.window.as_secs().max(1)
    }
}

// ----- API keys -----

/// What an API key created by [`LocalWacht::create_api_key`](super::LocalWacht::create_api_key)
/// holds. Every setter replaces what was there, except [`ApiKeySpec::rate_limit`], which
/// adds a rule.
///
/// Defaults: name `"Test key"`, app slug `"default"`, prefix `"wk_test"`, no permissions,
/// metadata `{}`, active, never expires, no rate limits, no organization or workspace, and
/// generated digit-string ids for the key and its owner. Ids given here should be strings of
/// digits, as the real gateway's are (they are served as given).
///
/// ```
/// use std::time::Duration;
/// use wacht_runtime::testing::{ApiKeySpec, RateLimitRule};
///
/// let spec = ApiKeySpec::new()
///     .name("billing worker")
///     .permissions(["user:read", "user:write"])
///     .organization("1001")
///     .rate_limit(RateLimitRule::per_key("burst", 5, Duration::from_secs(60)));
/// # let _ = spec;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a spec does nothing until passed to `LocalWacht::create_api_key`"]
pub struct ApiKeySpec {
    prefix: String,
    key_id: Option<String>,
    name: String,
    app_slug: String,
    permissions: Vec<String>,
    owner_user: Option<String>,
    organization: Option<String>,
    workspace: Option<String>,
    organization_membership: Option<String>,
    workspace_membership: Option<String>,
    metadata: Value,
    expires_at: Option<i64>,
    active: bool,
    rate_limits: Vec<RateLimitRule>,
}

impl Default for ApiKeySpec {
    fn default() -> Self {
        Self {
            prefix: "wk_test".into(),
            key_id: None,
            name: "Test key".into(),
            app_slug: "default".into(),
            permissions: Vec::new(),
            owner_user: None,
            organization: None,
            workspace: None,
            organization_membership: None,
            workspace_membership: None,
            metadata: Value::Object(Map::new()),
            expires_at: None,
            active: true,
            rate_limits: Vec::new(),
        }
    }
}

impl ApiKeySpec {
    /// The default spec (see [`ApiKeySpec`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The key's prefix, before the `_` and the secret (default `"wk_test"`). A prefix
    /// shorter than two characters makes a key the gateway refuses as malformed (401).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key id (`identity.key_id`); generated when not set.
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// The key's name (`identity.key_name`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The app the key belongs to (`identity.app_slug`; per-app rate limits count per slug).
    pub fn app_slug(mut self, app_slug: impl Into<String>) -> Self {
        self.app_slug = app_slug.into();
        self
    }

    /// The permissions the key holds (replacing any set before).
    pub fn permissions<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// The user owning the key (`identity.owner_user_id`); generated when not set.
    pub fn owner_user(mut self, user_id: impl Into<String>) -> Self {
        self.owner_user = Some(user_id.into());
        self
    }

    /// The key's organization (`identity.organization_id`); an organization membership id
    /// is generated unless [`ApiKeySpec::organization_membership`] sets one.
    pub fn organization(mut self, organization_id: impl Into<String>) -> Self {
        self.organization = Some(organization_id.into());
        self
    }

    /// The key's workspace (`identity.workspace_id`); a workspace membership id is
    /// generated unless [`ApiKeySpec::workspace_membership`] sets one.
    pub fn workspace(mut self, workspace_id: impl Into<String>) -> Self {
        self.workspace = Some(workspace_id.into());
        self
    }

    /// `identity.organization_membership_id` (served only with an organization).
    pub fn organization_membership(mut self, membership_id: impl Into<String>) -> Self {
        self.organization_membership = Some(membership_id.into());
        self
    }

    /// `identity.workspace_membership_id` (served only with a workspace).
    pub fn workspace_membership(mut self, membership_id: impl Into<String>) -> Self {
        self.workspace_membership = Some(membership_id.into());
        self
    }

    /// The key's metadata, served verbatim as `metadata` (default `{}`).
    pub fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = metadata;
        self
    }

    /// When the key expires (Unix seconds): from that second on, checks answer 401.
    pub fn expires_at(mut self, unix_seconds: i64) -> Self {
        self.expires_at = Some(unix_seconds);
        self
    }

    /// Makes the key inactive: checks answer 401.
    pub fn inactive(mut self) -> Self {
        self.active = false;
        self
    }

    /// Adds a rate-limit rule (rules are evaluated in the order added).
    pub fn rate_limit(mut self, rule: RateLimitRule) -> Self {
        self.rate_limits.push(rule);
        self
    }
}

/// An API key known to the emulator's gateway, made by
/// [`LocalWacht::create_api_key`](super::LocalWacht::create_api_key).
///
/// [`ApiKey::secret`] is the credential a client sends (`x-api-key`); the other accessors
/// are what the gateway answers about it. `Debug` never shows the secret.
///
/// ```
/// use wacht_runtime::testing::{ApiKeySpec, LocalWacht};
///
/// let wacht = LocalWacht::start()?;
/// let key = wacht.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
/// assert!(key.secret().starts_with("wk_test_"));
/// assert_eq!(key.secret().len(), "wk_test_".len() + 43);
/// assert!(key.key_id().bytes().all(|b| b.is_ascii_digit()));
/// assert!(!format!("{key:?}").contains(key.secret()));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct ApiKey {
    secret: String,
    key_id: String,
    deployment_id: String,
    owner_user_id: String,
    organization_membership_id: Option<String>,
    workspace_membership_id: Option<String>,
    spec: ApiKeySpec,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("key_id", &self.key_id)
            .field("name", &self.spec.name)
            .field("app_slug", &self.spec.app_slug)
            .field("permissions", &self.spec.permissions)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// Resolves `spec` into a key: a fresh secret and the ids the spec left unset.
    fn create(spec: ApiKeySpec, deployment_id: &str) -> io::Result<Self> {
        let organization_membership_id = match (&spec.organization, &spec.organization_membership) {
            (None, _) => None,
            (Some(_), Some(id)) => Some(id.clone()),
            (Some(_), None) => Some(random_digits()?),
        };
        let workspace_membership_id = match (&spec.workspace, &spec.workspace_membership) {
            (None, _) => None,
            (Some(_), Some(id)) => Some(id.clone()),
            (Some(_), None) => Some(random_digits()?),
        };
        Ok(Self {
            secret: format!("{}_{}", spec.prefix, random_secret()?),
            key_id: match &spec.key_id {
                Some(id) => id.clone(),
                None => random_digits()?,
            },
            deployment_id: deployment_id.to_owned(),
            owner_user_id: match &spec.owner_user {
                Some(id) => id.clone(),
                None => random_digits()?,
            },
            organization_membership_id,
            workspace_membership_id,
            spec,
        })
    }

    /// The whole key as a client sends it: prefix, `_`, 43 url-safe base64 characters.
    #[must_use]
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// `identity.key_id` (digits).
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// `identity.deployment_id`: the emulator's deployment.
    #[must_use]
    pub fn deployment_id(&self) -> &str {
        &self.deployment_id
    }

    /// `identity.key_name`.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// `identity.app_slug`.
    #[must_use]
    pub fn app_slug(&self) -> &str {
        &self.spec.app_slug
    }

    /// The permissions the key holds, as given to the spec.
    #[must_use]
    pub fn permissions(&self) -> &[String] {
        &self.spec.permissions
    }

    /// `identity.owner_user_id`.
    #[must_use]
    pub fn owner_user_id(&self) -> &str {
        &self.owner_user_id
    }

    /// `identity.organization_id`.
    #[must_use]
    pub fn organization_id(&self) -> Option<&str> {
        self.spec.organization.as_deref()
    }

    /// `identity.workspace_id`.
    #[must_use]
    pub fn workspace_id(&self) -> Option<&str> {
        self.spec.workspace.as_deref()
    }

    /// `identity.organization_membership_id`.
    #[must_use]
    pub fn organization_membership_id(&self) -> Option<&str> {
        self.organization_membership_id.as_deref()
    }

    /// `identity.workspace_membership_id`.
    #[must_use]
    pub fn workspace_membership_id(&self) -> Option<&str> {
        self.workspace_membership_id.as_deref()
    }

    /// `metadata` as served.
    #[must_use]
    pub fn metadata(&self) -> &Value {
        &self.spec.metadata
    }

    /// When the key expires (Unix seconds), if ever.
    #[must_use]
    pub fn expires_at(&self) -> Option<i64> {
        self.spec.expires_at
    }

    /// Whether the key is active (see [`ApiKeySpec::inactive`]).
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.spec.active
    }

    /// The key's rate-limit rules, in order.
    #[must_use]
    pub fn rate_limits(&self) -> &[RateLimitRule] {
        &self.spec.rate_limits
    }

    /// The spec the key was created from (pass a clone to
    /// [`LocalWacht::create_api_key`](super::LocalWacht::create_api_key) for another key
    /// like this one, with a new secret).
    pub fn spec(&self) -> &ApiKeySpec {
        &self.spec
    }

    /// The `identity` object of an answer about this key.
    fn identity(&self) -> Value {
        json!({
            "key_id": self.key_id,
            "deployment_id": self.deployment_id,
            "app_slug": self.spec.app_slug,
            "key_name": self.spec.name,
            "owner_user_id": self.owner_user_id,
            "organization_id": self.spec.organization,
            "workspace_id": self.spec.workspace,
            "organization_membership_id": self.organization_membership_id,
            "workspace_membership_id": self.workspace_membership_id,
        })
    }
}

// ----- OAuth access tokens -----

/// What an OAuth access token created by
/// [`LocalWacht::create_oauth_token`](super::LocalWacht::create_oauth_token) holds. Every
/// setter replaces what was there.
///
/// Defaults: no scopes, no permissions, no granted resource (any resource), never expires,
/// no organization or workspace, name `"OAuth access token"`, app slug `"oauth"`, and
/// generated digit-string ids for the token, its owner and its OAuth client.
///
/// ```
/// use wacht_runtime::testing::OAuthTokenSpec;
///
/// let spec = OAuthTokenSpec::new()
///     .scopes(["users.read"])
///     .permissions(["user:read"])
///     .resource("/machine/users");
/// # let _ = spec;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a spec does nothing until passed to `LocalWacht::create_oauth_token`"]
pub struct OAuthTokenSpec {
    token_id: Option<String>,
    name: String,
    app_slug: String,
    scopes: Vec<String>,
    permissions: Vec<String>,
    resource: Option<String>,
    expires_at: Option<i64>,
    owner_user: Option<String>,
    organization: Option<String>,
    workspace: Option<String>,
    client_id: Option<String>,
}

impl Default for OAuthTokenSpec {
    fn default() -> Self {
        Self {
            token_id: None,
            name: "OAuth access token".into(),
            app_slug: "oauth".into(),
            scopes: Vec::new(),
            permissions: Vec::new(),
            resource: None,
            expires_at: None,
            owner_user: None,
            organization: None,
            workspace: None,
            client_id: None,
        }
    }
}

impl OAuthTokenSpec {
    /// The default spec (see [`OAuthTokenSpec`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The token's id (`identity.key_id`); generated when not set.
    pub fn token_id(mut self, token_id: impl Into<String>) -> Self {
        self.token_id = Some(token_id.into());
        self
    }

    /// `identity.key_name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// `identity.app_slug`.
    pub fn app_slug(mut self, app_slug: impl Into<String>) -> Self {
        self.app_slug = app_slug.into();
        self
    }

    /// The granted scopes (`metadata.scopes`).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The permissions the token holds (checked against `required_permissions`).
    pub fn permissions<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// The resource the token was granted for (`metadata.oauth_resource` and
    /// `metadata.granted_resource`): a check for
    /// any other resource (compared after the same normalization) is `permission_denied`.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// When the token expires (Unix seconds): from that second on, checks answer 401.
    pub fn expires_at(mut self, unix_seconds: i64) -> Self {
        self.expires_at = Some(unix_seconds);
        self
    }

    /// `identity.organization_id`.
    pub fn organization(mut self, organization_id: impl Into<String>) -> Self {
        self.organization = Some(organization_id.into());
        self
    }

    /// `identity.workspace_id`.
    pub fn workspace(mut self, workspace_id: impl Into<String>) -> Self {
        self.workspace = Some(workspace_id.into());
        self
    }

    /// `identity.owner_user_id`; generated when not set.
    pub fn owner_user(mut self, user_id: impl Into<String>) -> Self {
        self.owner_user = Some(user_id.into());
        self
    }

    /// The OAuth client id, served as `identity.key_name` (as the gateway does); generated
    /// when not set.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }
}

/// An OAuth access token known to the emulator's gateway, made by
/// [`LocalWacht::create_oauth_token`](super::LocalWacht::create_oauth_token). The token is an
/// opaque random string (`oat_` and 43 url-safe base64 characters); `Debug` never shows it.
///
/// ```
/// use wacht_runtime::testing::{LocalWacht, OAuthTokenSpec};
///
/// let wacht = LocalWacht::start()?;
/// let token = wacht.create_oauth_token(OAuthTokenSpec::new().scopes(["users.read"]));
/// assert!(token.token().starts_with("oat_"));
/// assert!(!format!("{token:?}").contains(token.token()));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthToken {
    token: String,
    token_id: String,
    deployment_id: String,
    owner_user_id: String,
    client_id: String,
    spec: OAuthTokenSpec,
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthToken")
            .field("token_id", &self.token_id)
            .field("client_id", &self.client_id)
            .field("scopes", &self.spec.scopes)
            .finish_non_exhaustive()
    }
}

impl OAuthToken {
    fn create(spec: OAuthTokenSpec, deployment_id: &str) -> io::Result<Self> {
        let or_generate = |id: &Option<String>| match id {
            Some(id) => Ok(id.clone()),
            None => random_digits(),
        };
        Ok(Self {
            token: format!("oat_{}", random_secret()?),
            token_id: or_generate(&spec.token_id)?,
            deployment_id: deployment_id.to_owned(),
            owner_user_id: or_generate(&spec.owner_user)?,
            client_id: or_generate(&spec.client_id)?,
            spec,
        })
    }

    /// The token as a client sends it (`Authorization: Bearer <token>`).
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `identity.key_id` (digits).
    #[must_use]
    pub fn token_id(&self) -> &str {
        &self.token_id
    }

    /// The OAuth client id (`identity.key_name`).
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// `identity.owner_user_id`.
    #[must_use]
    pub fn owner_user_id(&self) -> &str {
        &self.owner_user_id
    }

    /// `metadata.scopes`.
    #[must_use]
    pub fn scopes(&self) -> &[String] {
        &self.spec.scopes
    }

    /// The permissions the token holds.
    #[must_use]
    pub fn permissions(&self) -> &[String] {
        &self.spec.permissions
    }

    /// `metadata.granted_resource`.
    #[must_use]
    pub fn granted_resource(&self) -> Option<&str> {
        self.spec.resource.as_deref()
    }

    /// When the token expires (Unix seconds); served as `metadata.expires_at`, an RFC 3339
    /// time.
    #[must_use]
    pub fn expires_at(&self) -> Option<i64> {
        self.spec.expires_at
    }

    /// The spec the token was created from.
    pub fn spec(&self) -> &OAuthTokenSpec {
        &self.spec
    }

    /// The `identity` object of an answer about this token: as the gateway sends it, the
    /// OAuth client id is `key_name`.
    fn identity(&self) -> Value {
        json!({
            "key_id": self.token_id,
            "deployment_id": self.deployment_id,
            "app_slug": self.spec.app_slug,
            "key_name": self.client_id,
            "owner_user_id": self.owner_user_id,
            "organization_id": self.spec.organization,
            "workspace_id": self.spec.workspace,
            "organization_membership_id": null,
            "workspace_membership_id": null,
        })
    }

    /// The `metadata` of an answer about this token: the OAuth grant, in the gateway's
    /// layout (`expires_at` as an RFC 3339 time).
    fn metadata(&self) -> Value {
        let expires_at = self.spec.expires_at.and_then(|seconds| {
            time::OffsetDateTime::from_unix_timestamp(seconds)
                .ok()?
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
        json!({
            "principal_type": "oauth_access_token",
            "scopes": self.spec.scopes,
            "oauth_resource": self.spec.resource,
            "granted_resource": self.spec.resource,
            "expires_at": expires_at,
        })
    }
}

// ----- faults -----

/// A fault injected into the emulator's gateway
/// ([`LocalWacht::set_gateway_fault`](super::LocalWacht::set_gateway_fault)).
///
/// A fault stays until replaced; [`GatewayFault::None`] restores normal service. Faulted
/// checks still count in [`LocalWacht::gateway_checks`](super::LocalWacht::gateway_checks)
/// and their bodies are still recorded
/// ([`LocalWacht::gateway_requests`](super::LocalWacht::gateway_requests)). Faults other
/// than `Slow` and `NonBooleanAllowed` answer before the request is even parsed, and do not
/// count towards rate limits.
///
/// ```
/// use wacht_runtime::testing::{GatewayFault, LocalWacht};
///
/// let wacht = LocalWacht::start()?;
/// wacht.set_gateway_fault(GatewayFault::Status(502));
/// assert_eq!(wacht.gateway_fault(), GatewayFault::Status(502));
/// wacht.set_gateway_fault(GatewayFault::None);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GatewayFault {
    /// Normal service.
    #[default]
    None,
    /// The gateway looks down: the request is read, then the connection is closed without a
    /// single response byte (see [`JwksFault::Down`](super::JwksFault::Down)).
    Down,
    /// Waits this long, then answers normally.
    Slow(Duration),
    /// Answers with this HTTP status and a small JSON body `{"message":"injected fault"}`.
    /// A number that is not a valid status gives 500.
    Status(u16),
    /// Answers `401` with `Content-Type: text/plain` and the body `Unauthorized`, as some
    /// gateway deployments do for a refused credential.
    PlainText401,
    /// Answers with this status, `Content-Type: application/json` and an empty body.
    EmptyBody(u16),
    /// Answers `200 OK` with `Content-Type: application/json` and a body that is not JSON.
    GarbageJson,
    /// Decides normally, but every `200` answer carries `"allowed": "true"` (a string, not a
    /// boolean), whatever the decision; other answers are unchanged.
    NonBooleanAllowed,
}

// ----- state -----

/// One fixed window of one rate-limit bucket.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Unix second the window started at.
    start: i64,
    /// Checks allowed in it so far.
    count: u64,
}

/// Credentials, rate-limit counts, fault and records of the gateway endpoint.
pub(super) struct GatewayState {
    /// The emulator's deployment id (`identity.deployment_id`).
    pub(super) deployment_id: String,
    /// API keys by secret.
    api_keys: HashMap<String, ApiKey>,
    /// OAuth access tokens by token.
    oauth_tokens: HashMap<String, OAuthToken>,
    /// Rate-limit buckets by key.
    windows: HashMap<String, Window>,
    /// Time for expiry and rate-limit windows.
    pub(super) clock: Clock,
    /// The injected fault.
    pub(super) fault: GatewayFault,
    /// Check requests received (`POST`), faulted or not.
    pub(super) checks: usize,
    /// Every check body that parsed as JSON, in order.
    pub(super) requests: Vec<Value>,
}

impl GatewayState {
    /// An empty gateway for a new deployment id.
    pub(super) fn new() -> io::Result<Self> {
        Ok(Self {
            deployment_id: random_digits()?,
            api_keys: HashMap::new(),
            oauth_tokens: HashMap::new(),
            windows: HashMap::new(),
            clock: Clock::system(),
            fault: GatewayFault::None,
            checks: 0,
            requests: Vec::new(),
        })
    }

    /// Creates and registers an API key.
    ///
    /// # Panics
    ///
    /// When the system's randomness fails.
    pub(super) fn create_api_key(&mut self, spec: ApiKeySpec) -> ApiKey {
        let key = or_panic(ApiKey::create(spec, &self.deployment_id));
        self.api_keys.insert(key.secret.clone(), key.clone());
        key
    }

    /// Creates and registers an OAuth access token.
    ///
    /// # Panics
    ///
    /// When the system's randomness fails.
    pub(super) fn create_oauth_token(&mut self, spec: OAuthTokenSpec) -> OAuthToken {
        let token = or_panic(OAuthToken::create(spec, &self.deployment_id));
        self.oauth_tokens.insert(token.token.clone(), token.clone());
        token
    }

    /// Forgets an API key; returns whether it was known.
    pub(super) fn revoke_api_key(&mut self, secret: &str) -> bool {
        self.api_keys.remove(secret).is_some()
    }

    /// Forgets an OAuth access token; returns whether it was known.
    pub(super) fn revoke_oauth_token(&mut self, token: &str) -> bool {
        self.oauth_tokens.remove(token).is_some()
    }

    /// Forgets every rate-limit count.
    pub(super) fn reset_rate_limits(&mut self) {
        self.windows.clear();
    }
}

// ----- the endpoint -----

/// The request body, parsed as strictly as the real gateway does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    principal: PrincipalBody,
    resource: String,
    method: String,
    // Accepted (the real gateway logs them) but not used by the emulator; recorded in
    // `gateway_requests` like the rest of the body.
    #[allow(dead_code)]
    client_ip: Option<String>,
    #[allow(dead_code)]
    user_agent: Option<String>,
    required_permissions: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalBody {
    #[serde(rename = "type")]
    kind: PrincipalKind,
    value: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PrincipalKind {
    ApiKey,
    OauthAccessToken,
}

/// `/v1/authz/check`, any method (only `POST` is a check).
pub(super) async fn serve(state: &Mutex<GatewayState>, req: Request<Incoming>) -> Answer {
    if req.method() != Method::POST {
        return Ok(message(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ));
    }
    let json_content = is_json(req.headers());
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(CloseConnection),
    };
    let fault = {
        let mut gateway = lock(state);
        gateway.checks += 1;
        if let Ok(value) = serde_json::from_slice::<Value>(&body) {
            gateway.requests.push(value);
        }
        gateway.fault
    };
    match fault {
        GatewayFault::None | GatewayFault::NonBooleanAllowed => {}
        GatewayFault::Down => return Err(CloseConnection),
        GatewayFault::Slow(delay) => tokio::time::sleep(delay).await,
        GatewayFault::Status(code) => {
            return Ok(message(status_or_500(code), "injected fault"));
        }
        GatewayFault::PlainText401 => {
            return Ok(bytes_response(
                StatusCode::UNAUTHORIZED,
                "text/plain",
                "Unauthorized",
            ));
        }
        GatewayFault::EmptyBody(code) => {
            return Ok(bytes_response(status_or_500(code), "application/json", ""));
        }
        GatewayFault::GarbageJson => {
            return Ok(bytes_response(
                StatusCode::OK,
                "application/json",
                "{\"allowed\": tru <html>this is not JSON",
            ));
        }
    }
    if !json_content {
        return Ok(message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected a request with `Content-Type: application/json`",
        ));
    }
    let request: CheckRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            return Ok(message(
                StatusCode::BAD_REQUEST,
                &format!("invalid request body: {err}"),
            ));
        }
    };
    let (status, mut body) = {
        let mut gateway = lock(state);
        let now = gateway.clock.now();
        decide(&mut gateway, &request, now)
    };
    if fault == GatewayFault::NonBooleanAllowed && status == StatusCode::OK {
        body["allowed"] = Value::from("true");
    }
    Ok(json_response(status, &body))
}

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// A fresh `req_<digits>` id.
fn request_id() -> String {
    match random_digits() {
        Ok(digits) => format!("req_{digits}"),
        Err(_) => "req_unknown".to_owned(),
    }
}

/// Normalizes a resource: a `urn:wacht:…` as is, else a path without query or fragment, with
/// a leading `/`. `None` when empty or containing whitespace.
pub(super) fn normalize_resource(resource: &str) -> Option<String> {
    let trimmed = resource.trim();
    if let Some(rest) = trimmed.strip_prefix("urn:wacht:") {
        let valid = !rest.is_empty() && !rest.chars().any(char::is_whitespace);
        return valid.then(|| trimmed.to_owned());
    }
    let path = trimmed.split(['#', '?']).next().unwrap_or_default().trim();
    if path.is_empty() || path.chars().any(char::is_whitespace) {
        return None;
    }
    Some(if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    })
}

/// The real gateway's API key shape: a prefix, `_`, and a 43-character url-safe base64
/// secret, at least 46 characters in all (so a prefix of two characters or more).
pub(super) fn is_valid_api_key_format(key: &str) -> bool {
    let bytes = key.as_bytes();
    if bytes.len() < SECRET_LEN + 3 {
        return false;
    }
    let (head, secret) = bytes.split_at(bytes.len() - SECRET_LEN);
    let url_safe = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    head.last() == Some(&b'_') && secret.iter().all(url_safe)
}

/// Who a check is about.
enum Resolved {
    Key(ApiKey),
    Token(OAuthToken),
}

/// The decision for a parsed request: status and JSON body.
fn decide(gateway: &mut GatewayState, request: &CheckRequest, now: i64) -> (StatusCode, Value) {
    let method = request.method.trim().to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        let text = format!("invalid method `{}`", request.method);
        return (StatusCode::BAD_REQUEST, json!({ "message": text }));
    }
    let Some(resource) = normalize_resource(&request.resource) else {
        let text = format!("invalid resource `{}`", request.resource);
        return (StatusCode::BAD_REQUEST, json!({ "message": text }));
    };
    let resolved = match resolve(
        gateway,
        request.principal.kind,
        &request.principal.value,
        now,
    ) {
        Ok(resolved) => resolved,
        Err(text) => {
            let body = json!({
                "request_id": request_id(),
                "allowed": false,
                "reason": "unauthenticated",
                "message": text,
            });
            return (StatusCode::UNAUTHORIZED, body);
        }
    };
    let (identity, held, metadata) = match &resolved {
        Resolved::Key(key) => (
            key.identity(),
            &key.spec.permissions,
            key.spec.metadata.clone(),
        ),
        Resolved::Token(token) => (token.identity(), &token.spec.permissions, token.metadata()),
    };
    let held: BTreeSet<&str> = held.iter().map(String::as_str).collect();
    let permissions: Vec<&str> = held.iter().copied().collect();
    let mut headers = identity_headers(&identity, &permissions);

    let resource_denied = match &resolved {
        Resolved::Token(token) => token
            .spec
            .resource
            .as_deref()
            .is_some_and(|granted| normalize_resource(granted).as_deref() != Some(&resource)),
        Resolved::Key(_) => false,
    };
    let missing_permission = request
        .required_permissions
        .iter()
        .flatten()
        .map(|permission| permission.trim())
        .filter(|permission| !permission.is_empty())
        .any(|permission| !held.contains(permission));

    let mut allowed = true;
    let mut reason = Value::Null;
    let mut blocked_rule = Value::Null;
    let mut retry_after: Option<i64> = None;
    let mut rate_limits = Vec::new();
    if resource_denied || missing_permission {
        allowed = false;
        reason = "permission_denied".into();
        blocked_rule = "permission_denied".into();
        headers.insert("X-Wacht-Permission-Denied".into(), "true".into());
    } else if let Resolved::Key(key) = &resolved {
        for rule in &key.spec.rate_limits {
            let window = i64::try_from(rule.window_secs()).unwrap_or(i64::MAX);
            let start = now - now.rem_euclid(window);
            let bucket = match rule.scope {
                RateLimitScope::PerKey => {
                    format!("key:{}:{resource}:{}:{window}", key.key_id, rule.name)
                }
                RateLimitScope::PerApp => {
                    format!("app:{}:{}:{window}", key.spec.app_slug, rule.name)
                }
            };
            let entry = gateway
                .windows
                .entry(bucket)
                .or_insert(Window { start, count: 0 });
            if entry.start != start {
                *entry = Window { start, count: 0 };
            }
            let limit = u64::from(rule.requests);
            let label = format!("X-RateLimit-{window}s");
            if entry.count < limit {
                entry.count += 1;
            } else {
                let wait = start.saturating_add(window) - now;
                headers.insert(format!("{label}-Reset"), wait.to_string().into());
                retry_after = Some(retry_after.map_or(wait, |current| current.min(wait)));
                if allowed {
                    allowed = false;
                    reason = "rate_limited".into();
                    blocked_rule = rule.name.clone().into();
                }
            }
            let remaining = limit.saturating_sub(entry.count);
            headers.insert(format!("{label}-Limit"), limit.to_string().into());
            headers.insert(format!("{label}-Remaining"), remaining.to_string().into());
            rate_limits.push(json!({
                "rule": rule.name,
                "remaining": remaining,
                "limit": limit,
            }));
        }
    }
    let body = json!({
        "request_id": request_id(),
        "allowed": allowed,
        "reason": reason,
        "blocked_rule": blocked_rule,
        "identity": identity,
        "permissions": permissions,
        "metadata": metadata,
        "rate_limits": rate_limits,
        "retry_after": retry_after,
        "headers": headers,
    });
    (StatusCode::OK, body)
}

/// Finds the credential, or says (for a 401 message) why it is refused.
fn resolve(
    gateway: &GatewayState,
    kind: PrincipalKind,
    value: &str,
    now: i64,
) -> Result<Resolved, &'static str> {
    let value = value.trim();
    if value.is_empty() {
        return Err("a credential is required");
    }
    let (expires_at, resolved) = match kind {
        PrincipalKind::ApiKey => {
            if !is_valid_api_key_format(value) {
                return Err("malformed API key");
            }
            let Some(key) = gateway.api_keys.get(value) else {
                return Err("unknown API key");
            };
            if !key.spec.active {
                return Err("inactive API key");
            }
            (key.spec.expires_at, Resolved::Key(key.clone()))
        }
        PrincipalKind::OauthAccessToken => {
            let Some(token) = gateway.oauth_tokens.get(value) else {
                return Err("unknown OAuth access token");
            };
            (token.spec.expires_at, Resolved::Token(token.clone()))
        }
    };
    if expires_at.is_some_and(|expires_at| now >= expires_at) {
        return Err("expired credential");
    }
    Ok(resolved)
}

/// The real gateway's identity headers (`X-Wacht-*`), which it also reports in `headers`.
fn identity_headers(identity: &Value, permissions: &[&str]) -> Map<String, Value> {
    let mut headers = Map::new();
    for (name, field) in [
        ("X-Wacht-Key-ID", "key_id"),
        ("X-Wacht-Deployment-ID", "deployment_id"),
        ("X-Wacht-App-Slug", "app_slug"),
        ("X-Wacht-Key-Name", "key_name"),
        ("X-Wacht-Organization-ID", "organization_id"),
        ("X-Wacht-Workspace-ID", "workspace_id"),
        (
            "X-Wacht-Organization-Membership-ID",
            "organization_membership_id",
        ),
        ("X-Wacht-Workspace-Membership-ID", "workspace_membership_id"),
    ] {
        if let Some(value) = identity.get(field).and_then(Value::as_str) {
            headers.insert(name.into(), value.into());
        }
    }
    if !permissions.is_empty() {
        headers.insert("X-Wacht-Permissions".into(), permissions.join(",").into());
    }
    headers
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn resources_normalize_like_the_gateway() {
        let cases = [
            ("/machine/users", Some("/machine/users")),
            ("machine/users", Some("/machine/users")),
            ("/a?x=1#f", Some("/a")),
            ("/a#f?x", Some("/a")),
            ("  /a  ", Some("/a")),
            (
                "urn:wacht:organization:42",
                Some("urn:wacht:organization:42"),
            ),
            ("urn:wacht:", None),
            ("", None),
            ("   ", None),
            ("?x=1", None),
            ("/a b", None),
            ("urn:wacht:a b", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_resource(input).as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn api_key_format() {
        let secret = "A".repeat(43);
        assert!(is_valid_api_key_format(&format!("wk_test_{secret}")));
        // At least 46 characters: a prefix of two or more.
        assert!(is_valid_api_key_format(&format!("wk_{secret}")));
        assert!(!is_valid_api_key_format(&format!("k_{secret}")));
        assert!(is_valid_api_key_format(&format!(
            "k__{}",
            "-_".repeat(21) + "z"
        )));
        assert!(!is_valid_api_key_format(&format!("_{secret}")));
        assert!(!is_valid_api_key_format(&format!("wk_test{secret}")));
        assert!(!is_valid_api_key_format(&format!("wk_test_{secret}A")));
        assert!(!is_valid_api_key_format(&format!(
            "wk_test_{}",
            "A".repeat(42)
        )));
        assert!(!is_valid_api_key_format(&format!(
            "wk_test_{}+",
            "A".repeat(42)
        )));
        assert!(!is_valid_api_key_format(""));
    }
}
