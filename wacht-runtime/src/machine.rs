//! Machine callers (API keys, OAuth access tokens): credential extraction, the gateway
//! decision, and its mapping to answers.

use std::fmt;
use std::sync::Arc;

use http::header::{HeaderName, HeaderValue};
use serde_json::Value;

use crate::client_ip::ClientIp;
use crate::gateway::{
    AuthzRequest, AuthzResponse, GatewayError, Identity, Principal, PrincipalType, RateLimitState,
};
use crate::head::{BearerError, CredentialError, Head, bearer_token, single_header};
use crate::rejection::{Rejection, RejectionCode};
use crate::requirement::{PermissionRule, invalid_requirement};
use crate::secret::Secret;

/// Machine credentials longer than this are refused without a gateway call.
pub const MAX_CREDENTIAL_LEN: usize = 4 * 1024;

/// The methods the gateway knows.
pub const GATEWAY_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Which credentials a machine endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AcceptedPrincipal {
    /// API keys, from `x-api-key` (or the configured header). The default.
    #[default]
    ApiKey,
    /// OAuth access tokens, from `Authorization: Bearer`.
    OauthAccessToken,
    /// Either; a request carrying both is refused rather than guessed at.
    Any,
}

/// What `authorize_machine` demands.
///
/// ```
/// use wacht_runtime::MachineRequirement;
/// let requirement = MachineRequirement::new()
///     .resource("/machine/users")
///     .method("GET")
///     .permission("user:read");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineRequirement {
    resource: Option<String>,
    method: Option<String>,
    permissions: PermissionRule,
    principal: AcceptedPrincipal,
    header: HeaderName,
}

impl Default for MachineRequirement {
    fn default() -> Self {
        MachineRequirement {
            resource: None,
            method: None,
            permissions: PermissionRule::None,
            principal: AcceptedPrincipal::ApiKey,
            header: HeaderName::from_static("x-api-key"),
        }
    }
}

impl MachineRequirement {
    /// API keys from `x-api-key`, the request's own path and method, no permission.
    pub fn new() -> Self {
        Self::default()
    }

    /// The resource to check (a path or a `urn:wacht:…`); default: the path the client
    /// called (axum's `OriginalUri` inside `Router::nest`, with feature `axum`; the event's
    /// raw path on Lambda, with feature `lambda`; else the request URI's path). A default path
    /// with dot segments (`.`, `..`, percent-encoded too) or an encoded `/` or `\` is refused
    /// with `400 bad_request` (`ambiguous_path`) before any gateway call.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// The method to check (one of [`GATEWAY_METHODS`]); default: the request's method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into().to_ascii_uppercase());
        self
    }

    /// Requires this permission (sent to the gateway as `required_permissions`).
    pub fn permission(self, permission: impl Into<String>) -> Self {
        self.all([permission.into()])
    }

    /// Requires every one of `permissions` (sent as `required_permissions`, which the gateway
    /// ANDs).
    pub fn all<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions = PermissionRule::all(permissions);
        self
    }

    /// Requires at least one of `permissions`, checked on the permissions the gateway
    /// returns (the gateway has no OR).
    pub fn any<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions = PermissionRule::any(permissions);
        self
    }

    /// Requires the permissions of `rule` (`All` is sent as `required_permissions`, `Any` is
    /// checked on the permissions the gateway returns).
    pub fn permission_rule(mut self, rule: PermissionRule) -> Self {
        self.permissions = rule;
        self
    }

    /// Which credentials are accepted.
    pub fn principal(mut self, principal: AcceptedPrincipal) -> Self {
        self.principal = principal;
        self
    }

    /// Reads API keys from this header instead of `x-api-key`.
    pub fn header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }

    /// Why this requirement cannot work, if it cannot: the rules the attribute applies at
    /// compile time, for a requirement built at run time. A check with such a requirement
    /// answers `500 auth_misconfigured` (`invalid_requirement`) before any gateway call.
    ///
    /// ```
    /// use wacht_runtime::MachineRequirement;
    /// assert!(MachineRequirement::new().resource("/machine/users").problem().is_none());
    /// assert!(MachineRequirement::new().resource("").problem().is_some());
    /// assert!(MachineRequirement::new().permission(" ").problem().is_some());
    /// assert!(MachineRequirement::new().any(Vec::<String>::new()).problem().is_some());
    /// assert!(MachineRequirement::new().method("FETCH").problem().is_some());
    /// ```
    pub fn problem(&self) -> Option<&'static str> {
        if let Some(resource) = &self.resource {
            let named = resource.starts_with('/')
                || (resource.starts_with("urn:wacht:") && resource.len() > "urn:wacht:".len());
            if !named || resource.contains(char::is_whitespace) || resource.contains(['?', '#']) {
                return Some(
                    "a resource that is not a path or `urn:wacht:` name without whitespace, query or fragment",
                );
            }
        }
        if let Some(method) = &self.method
            && !GATEWAY_METHODS.contains(&method.as_str())
        {
            return Some("a method the gateway does not know");
        }
        self.permissions.problem()
    }

    /// The header API keys are read from.
    pub(crate) fn api_key_header(&self) -> &HeaderName {
        &self.header
    }

    /// Whether OAuth access tokens (`Authorization: Bearer`) are accepted.
    pub(crate) fn accepts_oauth(&self) -> bool {
        matches!(
            self.principal,
            AcceptedPrincipal::OauthAccessToken | AcceptedPrincipal::Any
        )
    }

    /// The credential in `headers`, or why there is none usable.
    fn credential(&self, headers: &http::HeaderMap) -> Result<Principal, CredentialError> {
        let api_key = single_header(headers, &self.header)?;
        let bearer = match self.principal {
            AcceptedPrincipal::ApiKey => None,
            _ => match bearer_token(headers) {
                Ok(token) => Some(token.to_owned()),
                Err(BearerError::Missing) => None,
                Err(BearerError::Invalid(_)) => {
                    return Err(CredentialError::InvalidAuthorizationHeader);
                }
            },
        };
        let principal = match (self.principal, api_key, bearer) {
            (AcceptedPrincipal::ApiKey, Some(key), _) => (PrincipalType::ApiKey, key),
            (AcceptedPrincipal::OauthAccessToken, _, Some(token)) => {
                (PrincipalType::OauthAccessToken, token)
            }
            (AcceptedPrincipal::Any, Some(_), Some(_)) => {
                return Err(CredentialError::Ambiguous);
            }
            (AcceptedPrincipal::Any, Some(key), None) => (PrincipalType::ApiKey, key),
            (AcceptedPrincipal::Any, None, Some(token)) => (PrincipalType::OauthAccessToken, token),
            _ => return Err(CredentialError::Missing),
        };
        if principal.1.len() > MAX_CREDENTIAL_LEN {
            return Err(CredentialError::TooLong);
        }
        Ok(Principal {
            kind: principal.0,
            value: Secret::new(principal.1),
        })
    }
}

/// A machine caller the gateway allowed. Cheap to clone; inserted into the request's
/// extensions by `#[machine]`, and handed to a handler parameter of this type.
#[derive(Clone)]
pub struct MachineAuth(Arc<MachineInner>);

struct MachineInner {
    principal_type: PrincipalType,
    resource: String,
    method: String,
    oauth: Option<OAuthGrant>,
    response: AuthzResponse,
}

/// What an OAuth access token grants, as the gateway reports it: the grant is in the
/// answer's `metadata` (`scopes`, `oauth_resource`, `granted_resource`, `expires_at` as an
/// RFC 3339 time), the client id is `identity.key_name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthGrant {
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The resource the client asked for (`oauth_resource`).
    pub resource: Option<String>,
    /// The resource the token was granted for (`granted_resource`).
    pub granted_resource: Option<String>,
    /// When the token expires, in Unix seconds (`None` when absent or not an RFC 3339 time).
    pub expires_at: Option<i64>,
    /// The OAuth client the token was issued to (`identity.key_name`).
    pub client_id: Option<String>,
}

impl OAuthGrant {
    /// Reads the grant from a gateway answer for an OAuth access token. Members of another
    /// type than documented read as absent.
    fn from_response(response: &AuthzResponse) -> Self {
        let metadata = response.metadata.as_object();
        let member = |name: &str| metadata.and_then(|m| m.get(name));
        let text = |name: &str| member(name).and_then(Value::as_str).map(str::to_owned);
        let scopes = member("scopes")
            .and_then(Value::as_array)
            .map(|scopes| {
                scopes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let expires_at = member("expires_at").and_then(|value| {
            let parsed = value.as_str().and_then(|time| {
                time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339)
                    .ok()
            });
            if parsed.is_none() && !value.is_null() {
                // The value itself is gateway text: not logged.
                tracing::warn!(target: "wacht", request_id = response.request_id.as_deref().unwrap_or(""), "the gateway's OAuth `expires_at` is not an RFC 3339 time; treated as absent");
            }
            parsed.map(time::OffsetDateTime::unix_timestamp)
        });
        OAuthGrant {
            scopes,
            resource: text("oauth_resource"),
            granted_resource: text("granted_resource"),
            expires_at,
            client_id: response.identity.as_ref().and_then(|i| i.key_name.clone()),
        }
    }
}

impl MachineAuth {
    /// Builds a `MachineAuth` from a gateway answer (for code using [`crate::GatewayClient`]
    /// directly).
    pub fn from_response(
        principal_type: PrincipalType,
        resource: String,
        method: String,
        response: AuthzResponse,
    ) -> Self {
        let oauth = (principal_type == PrincipalType::OauthAccessToken)
            .then(|| OAuthGrant::from_response(&response));
        MachineAuth(Arc::new(MachineInner {
            principal_type,
            resource,
            method,
            oauth,
            response,
        }))
    }

    fn identity(&self) -> Option<&Identity> {
        self.0.response.identity.as_ref()
    }

    /// API key or OAuth access token.
    pub fn principal_type(&self) -> PrincipalType {
        self.0.principal_type
    }
    /// The gateway's id of this decision (`None` if the gateway's value was not a short
    /// plain token).
    pub fn request_id(&self) -> Option<&str> {
        self.0.response.request_id.as_deref()
    }
    /// The resource that was checked.
    pub fn resource(&self) -> &str {
        &self.0.resource
    }
    /// The method that was checked.
    pub fn method(&self) -> &str {
        &self.0.method
    }
    /// The key's (or token's) id.
    pub fn key_id(&self) -> Option<&str> {
        self.identity()?.key_id.as_deref()
    }
    /// The deployment id.
    pub fn deployment_id(&self) -> Option<&str> {
        self.identity()?.deployment_id.as_deref()
    }
    /// The API-key app's slug.
    pub fn app_slug(&self) -> Option<&str> {
        self.identity()?.app_slug.as_deref()
    }
    /// The key's name.
    pub fn key_name(&self) -> Option<&str> {
        self.identity()?.key_name.as_deref()
    }
    /// The user owning the key.
    pub fn owner_user_id(&self) -> Option<&str> {
        self.identity()?.owner_user_id.as_deref()
    }
    /// The key's organization.
    pub fn organization_id(&self) -> Option<&str> {
        self.identity()?.organization_id.as_deref()
    }
    /// The key's workspace.
    pub fn workspace_id(&self) -> Option<&str> {
        self.identity()?.workspace_id.as_deref()
    }
    /// The owner's organization membership id.
    pub fn organization_membership_id(&self) -> Option<&str> {
        self.identity()?.organization_membership_id.as_deref()
    }
    /// The owner's workspace membership id.
    pub fn workspace_membership_id(&self) -> Option<&str> {
        self.identity()?.workspace_membership_id.as_deref()
    }
    /// The permissions the credential holds.
    pub fn permissions(&self) -> &[String] {
        &self.0.response.permissions
    }
    /// Whether the credential holds `permission`.
    pub fn has(&self, permission: &str) -> bool {
        self.permissions().iter().any(|p| p == permission)
    }
    /// The OAuth grant, for an OAuth access token (`None` for API keys).
    pub fn oauth(&self) -> Option<&OAuthGrant> {
        self.0.oauth.as_ref()
    }
    /// OAuth scopes (empty for API keys).
    pub fn scopes(&self) -> &[String] {
        self.oauth().map_or(&[], |grant| grant.scopes.as_slice())
    }
    /// The resource an OAuth token was granted for.
    pub fn granted_resource(&self) -> Option<&str> {
        self.oauth()?.granted_resource.as_deref()
    }
    /// When an OAuth token expires (Unix seconds), if the gateway said.
    pub fn expires_at(&self) -> Option<i64> {
        self.oauth()?.expires_at
    }
    /// The OAuth client an access token was issued to.
    pub fn oauth_client_id(&self) -> Option<&str> {
        self.oauth()?.client_id.as_deref()
    }
    /// The metadata the gateway returned: any JSON value (an API key's own metadata, an
    /// object in practice; `null` when absent).
    pub fn metadata(&self) -> &Value {
        &self.0.response.metadata
    }
    /// Rate-limit state per rule after this request.
    pub fn rate_limits(&self) -> &[RateLimitState] {
        &self.0.response.rate_limits
    }
    /// The whole gateway answer.
    pub fn response(&self) -> &AuthzResponse {
        &self.0.response
    }

    /// Checks `permissions` against the permissions the gateway returned, answering exactly
    /// as `#[wacht::machine]` and `layer::machine` do for the same requirement: `All` (and
    /// `permission`) → `403 permission_denied`, `Any` → `403 missing_permission`, each with
    /// the `required` list and this decision's `request_id`; a rule that cannot work →
    /// `500 invalid_requirement`. The counterpart of [`Requirement::check`] for the
    /// `MachineAuth` extractor, which asks the gateway with no permission.
    ///
    /// [`Requirement::check`]: crate::Requirement::check
    ///
    /// ```
    /// # fn handler(auth: wacht_runtime::MachineAuth) -> Result<(), wacht_runtime::Rejection> {
    /// use wacht_runtime::PermissionRule;
    /// auth.check(&PermissionRule::all(["user:read"]))?;
    /// # Ok(()) }
    /// ```
    pub fn check(&self, permissions: &PermissionRule) -> Result<(), Rejection> {
        if let Some(problem) = permissions.problem() {
            return Err(invalid_requirement("machine", problem));
        }
        match permission_denial(permissions, self.permissions()) {
            None => Ok(()),
            Some(rejection) => Err(with_request_id(
                rejection,
                self.request_id().map(str::to_owned),
            )),
        }
    }
}

/// The 403 for a credential holding `held` under `rule`, as the gateway's own refusal reads
/// for `All` (which the gateway checks when sent) and as ours for `Any` (which it cannot).
fn permission_denial(rule: &PermissionRule, held: &[String]) -> Option<Rejection> {
    match rule {
        PermissionRule::All(list) if !list.iter().all(|p| held.contains(p)) => {
            Some(permission_denied(list.clone()))
        }
        PermissionRule::Any(list) if !list.iter().any(|p| held.contains(p)) => Some(
            Rejection::forbidden(
                "missing_permission",
                "You need at least one of the required permissions.",
            )
            .with_required(list.clone()),
        ),
        _ => None,
    }
}

/// The gateway's `permission_denied`, as a 403 listing what was required.
fn permission_denied(required: Vec<String>) -> Rejection {
    Rejection::forbidden(
        "permission_denied",
        "This credential may not perform this request.",
    )
    .with_required(required)
}

impl fmt::Debug for MachineAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MachineAuth")
            .field("principal_type", &self.principal_type())
            .field("request_id", &self.request_id())
            .field("key_id", &self.key_id())
            .field("app_slug", &self.app_slug())
            .field("permissions", &self.permissions())
            .finish_non_exhaustive()
    }
}

/// The gateway request for `req` under `requirement`, or the rejection that needs no
/// gateway call (no credential, unusable method).
pub(crate) fn build_request(
    req: Head<'_>,
    requirement: &MachineRequirement,
    client_ip: &ClientIp,
) -> Result<AuthzRequest, Rejection> {
    if let Some(problem) = requirement.problem() {
        return Err(invalid_requirement("machine", problem));
    }
    let principal = requirement
        .credential(req.headers)
        .map_err(|error| error.rejection())?;
    let method = match &requirement.method {
        Some(method) => method.clone(),
        None => req.method.as_str().to_ascii_uppercase(),
    };
    if !GATEWAY_METHODS.contains(&method.as_str()) {
        return Err(Rejection::forbidden(
            "unsupported_method",
            "This method cannot be authorized.",
        ));
    }
    let resource = match &requirement.resource {
        Some(resource) => resource.clone(),
        None => {
            let path = req.called_path();
            if ambiguous_path(path) {
                return Err(Rejection::bad_request(
                    "ambiguous_path",
                    "The request path has dot segments or encoded slashes; send it normalised.",
                ));
            }
            path.to_owned()
        }
    };
    let required_permissions = match &requirement.permissions {
        PermissionRule::All(list) => list.clone(),
        _ => Vec::new(),
    };
    Ok(AuthzRequest {
        principal,
        resource,
        method,
        client_ip: match client_ip.resolve(req.headers) {
            Some(ip) => Some(ip.to_string()),
            None => {
                crate::client_ip::warn_unresolved_once(client_ip);
                None
            }
        },
        user_agent: req
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .filter(|v| !v.is_empty()),
        required_permissions,
    })
}

/// Whether `path` could name another resource once a proxy or router normalises it: a dot
/// segment (`.` or `..`, percent-encoded too, with or without `;` parameters), an encoded
/// `/` or `\`, or a `\`. Such a default resource is refused rather than resolved: resolving
/// it would authorize a path other than the one the handler serves.
pub(crate) fn ambiguous_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || path.contains('\\') {
        return true;
    }
    lower.split('/').any(|segment| {
        let decoded = segment.replace("%2e", ".");
        let name = decoded.split(';').next().unwrap_or_default();
        name == "." || name == ".."
    })
}

/// The one place gateway outcomes become decisions.
pub(crate) fn decide(
    request: &AuthzRequest,
    requirement: &MachineRequirement,
    outcome: Result<AuthzResponse, GatewayError>,
) -> Result<MachineAuth, Rejection> {
    let secret = request.principal.value.expose();
    let mut response = match outcome {
        Ok(response) => response,
        Err(error) => return Err(gateway_error_rejection(&error, secret)),
    };
    response.request_id = scrubbed(response.request_id, secret);
    if !response.allowed {
        let rejection = match response.reason.as_deref() {
            Some("rate_limited") => {
                let mut rejection = Rejection::new(
                    RejectionCode::RateLimited,
                    "rate_limited",
                    "Too many requests; retry later.",
                )
                .with_retry_after(response.retry_after.unwrap_or(1).max(1));
                for (name, value) in &response.headers {
                    // Only `X-RateLimit-<window>-<field>: <number>` is passed on: no gateway
                    // text reaches the caller.
                    let plain_name = name.len() <= 64
                        && name.to_ascii_lowercase().starts_with("x-ratelimit-")
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                    let numeric_value = !value.is_empty()
                        && value.len() <= 20
                        && value.bytes().all(|b| b.is_ascii_digit());
                    if !plain_name || !numeric_value {
                        continue;
                    }
                    if let (Ok(name), Ok(value)) = (
                        HeaderName::try_from(name.as_str()),
                        HeaderValue::try_from(value.as_str()),
                    ) {
                        rejection = rejection.with_header(name, value);
                    }
                }
                rejection
            }
            Some("permission_denied") => permission_denied(request.required_permissions.clone()),
            _ => Rejection::forbidden(
                "access_denied",
                "This credential may not perform this request.",
            ),
        };
        return Err(with_request_id(rejection, response.request_id));
    }
    // `All` was sent as `required_permissions` and decided by the gateway; `Any` is ours.
    if let PermissionRule::Any(_) = &requirement.permissions
        && let Some(rejection) = permission_denial(&requirement.permissions, &response.permissions)
    {
        return Err(with_request_id(rejection, response.request_id));
    }
    Ok(MachineAuth::from_response(
        request.principal.kind,
        request.resource.clone(),
        request.method.clone(),
        response,
    ))
}

/// `request_id`, unless it carries the credential (or 8 or more characters of it): a
/// gateway that reflects the credential must not get it into logs or answers.
fn scrubbed(request_id: Option<String>, secret: &str) -> Option<String> {
    request_id.filter(|id| {
        let reflected =
            id.contains(secret) || (id.len() >= 8 && secret.contains(id.as_str()));
        if reflected {
            tracing::warn!(target: "wacht", "the gateway's request_id repeats the credential; dropped");
        }
        !reflected
    })
}

fn with_request_id(rejection: Rejection, request_id: Option<String>) -> Rejection {
    match request_id {
        Some(id) => rejection.with_request_id(id),
        None => rejection,
    }
}

fn gateway_error_rejection(error: &GatewayError, secret: &str) -> Rejection {
    let reason = error.reason();
    let request_id = scrubbed(error.request_id().map(str::to_owned), secret);
    match error {
        GatewayError::Unauthorized { .. } => with_request_id(
            Rejection::unauthenticated(reason, "The API key or access token is not valid."),
            request_id,
        ),
        GatewayError::BadRequest { .. } => {
            with_request_id(Rejection::misconfigured(reason), request_id)
        }
        _ => Rejection::unavailable(
            reason,
            "Authorization cannot be checked right now; try again shortly.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn req(headers: &[(&str, &str)]) -> http::Request<()> {
        let mut builder = http::Request::builder()
            .method("POST")
            .uri("/machine/users?page=2");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    fn build<B>(
        req: &http::Request<B>,
        requirement: &MachineRequirement,
    ) -> Result<AuthzRequest, Rejection> {
        build_request(Head::of(req), requirement, &ClientIp::None)
    }

    fn reason(result: Result<AuthzRequest, Rejection>) -> String {
        result.unwrap_err().reason().to_owned()
    }

    #[test]
    fn credentials_come_from_the_right_header() {
        let api = MachineRequirement::new();
        let built = build(
            &req(&[("x-api-key", "wk_1"), ("authorization", "Bearer tok")]),
            &api,
        )
        .unwrap();
        assert_eq!(
            (built.principal.kind, built.principal.value.expose()),
            (PrincipalType::ApiKey, "wk_1")
        );
        assert_eq!(built.resource, "/machine/users");
        assert_eq!(built.method, "POST");
        assert_eq!(
            reason(build(&req(&[("authorization", "Bearer tok")]), &api)),
            "missing_credential"
        );
        assert_eq!(
            reason(build(&req(&[("x-api-key", "  ")]), &api)),
            "missing_credential"
        );

        let oauth = MachineRequirement::new().principal(AcceptedPrincipal::OauthAccessToken);
        let built = build(
            &req(&[("x-api-key", "wk_1"), ("authorization", "bearer tok")]),
            &oauth,
        )
        .unwrap();
        assert_eq!(
            (built.principal.kind, built.principal.value.expose()),
            (PrincipalType::OauthAccessToken, "tok")
        );
        assert_eq!(
            reason(build(&req(&[("authorization", "Basic x")]), &oauth)),
            "invalid_authorization_header"
        );

        let any = MachineRequirement::new().principal(AcceptedPrincipal::Any);
        assert_eq!(
            reason(build(
                &req(&[("x-api-key", "k"), ("authorization", "Bearer t")]),
                &any
            )),
            "ambiguous_credential"
        );
        assert_eq!(
            build(&req(&[("authorization", "Bearer t")]), &any)
                .unwrap()
                .principal
                .kind,
            PrincipalType::OauthAccessToken
        );

        let custom = MachineRequirement::new().header(HeaderName::from_static("x-custom-key"));
        assert_eq!(
            build(&req(&[("x-custom-key", "k2")]), &custom)
                .unwrap()
                .principal
                .value
                .expose(),
            "k2"
        );
        assert_eq!(
            reason(build(
                &req(&[("x-custom-key", "a"), ("x-custom-key", "b")]),
                &custom
            )),
            "invalid_credential_header"
        );
    }

    #[test]
    fn forwarded_client_details() {
        let api = MachineRequirement::new()
            .resource("urn:wacht:organization:1")
            .method("get")
            .all(["a", "b"]);
        let request = req(&[
            ("x-api-key", "k"),
            ("x-forwarded-for", "203.0.113.9, 10.0.0.1"),
            ("x-nf-client-connection-ip", "2001:db8::1"),
            ("user-agent", "curl/8"),
        ]);
        let built = build(&request, &api).unwrap();
        assert_eq!(
            built.client_ip, None,
            "no client IP unless a policy says so"
        );
        assert_eq!(built.user_agent.as_deref(), Some("curl/8"));
        assert_eq!(built.method, "GET");
        assert_eq!(built.resource, "urn:wacht:organization:1");
        assert_eq!(built.required_permissions, ["a", "b"]);
        let netlify = build_request(Head::of(&request), &api, &ClientIp::netlify()).unwrap();
        assert_eq!(netlify.client_ip.as_deref(), Some("2001:db8::1"));
        let one_proxy = build_request(
            Head::of(&request),
            &api,
            &ClientIp::RightmostForwardedFor(1),
        )
        .unwrap();
        assert_eq!(one_proxy.client_ip.as_deref(), Some("10.0.0.1"));
    }

    #[test]
    fn credentials_over_4_kib_never_reach_the_gateway() {
        let long = "k".repeat(MAX_CREDENTIAL_LEN + 1);
        let api = MachineRequirement::new();
        assert_eq!(
            reason(build(&req(&[("x-api-key", &long)]), &api)),
            "credential_too_long"
        );
        let oauth = MachineRequirement::new().principal(AcceptedPrincipal::OauthAccessToken);
        let bearer = format!("Bearer {long}");
        let refused = build(&req(&[("authorization", &bearer)]), &oauth).unwrap_err();
        assert_eq!(
            (refused.status(), refused.reason()),
            (http::StatusCode::UNAUTHORIZED, "credential_too_long")
        );
        let at_cap = "k".repeat(MAX_CREDENTIAL_LEN);
        assert!(build(&req(&[("x-api-key", &at_cap)]), &api).is_ok());
    }

    #[test]
    fn methods_outside_the_gateways_seven_never_reach_it() {
        let request = http::Request::builder()
            .method("TRACE")
            .uri("/x")
            .header("x-api-key", "k")
            .body(())
            .unwrap();
        assert_eq!(
            build(&request, &MachineRequirement::new())
                .unwrap_err()
                .status(),
            403
        );
    }
}
