//! The gateway's test data: API keys, OAuth access tokens and their rate-limit rules, as
//! tests create them and as the gateway answers about them (`identity`, `metadata`).
//!
//! This module imports only [`random`](super::random) from the rest of the emulator.

use std::fmt;
use std::io;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::random::{random_digits, random_secret};

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
    pub(super) fn create(spec: ApiKeySpec, deployment_id: &str) -> io::Result<Self> {
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
    pub(super) fn identity(&self) -> Value {
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
    /// Resolves `spec` into a token: a fresh `oat_` token and the ids the spec left unset.
    pub(super) fn create(spec: OAuthTokenSpec, deployment_id: &str) -> io::Result<Self> {
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
    pub(super) fn identity(&self) -> Value {
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
    pub(super) fn metadata(&self) -> Value {
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
