//! The verified identity of a session-token caller.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::session::VerifiedClaims;

/// A caller whose session token verified. Cheap to clone; inserted into the request's
/// extensions by `#[protect]`, and handed to a handler parameter of this type.
///
/// ```
/// # fn handler(auth: wacht_runtime::Auth) {
/// let user = auth.user_id();
/// if auth.has("user:write") { /* … */ }
/// # }
/// ```
#[derive(Clone)]
pub struct Auth(Arc<VerifiedClaims>);

impl Auth {
    pub(crate) fn new(claims: Arc<VerifiedClaims>) -> Self {
        Auth(claims)
    }

    /// The user id (`sub`).
    pub fn user_id(&self) -> &str {
        &self.0.user_id
    }

    /// The session id (`sid`, or `sess` in older tokens).
    pub fn session_id(&self) -> Option<&str> {
        self.0.session_id.as_deref()
    }

    /// The active organization id (`organization`), if any.
    pub fn organization_id(&self) -> Option<&str> {
        self.0.organization_id.as_deref()
    }

    /// The active workspace id (`workspace`), if any.
    pub fn workspace_id(&self) -> Option<&str> {
        self.0.workspace_id.as_deref()
    }

    /// Permissions in the active organization (from either claim shape).
    pub fn organization_permissions(&self) -> &[String] {
        &self.0.organization_permissions
    }

    /// Permissions in the active workspace (from either claim shape).
    pub fn workspace_permissions(&self) -> &[String] {
        &self.0.workspace_permissions
    }

    /// Whether `permission` is held in the organization or the workspace.
    pub fn has(&self, permission: &str) -> bool {
        self.0
            .organization_permissions
            .iter()
            .any(|p| p == permission)
            || self.0.workspace_permissions.iter().any(|p| p == permission)
    }

    /// When the token expires (Unix seconds).
    pub fn expires_at(&self) -> i64 {
        self.0.expires_at
    }

    /// Every claim of the token, untouched (custom `claims`, `metadata`, …).
    pub fn claims(&self) -> &Map<String, Value> {
        &self.0.claims
    }

    /// One claim by name.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.0.claims.get(name)
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("user_id", &self.user_id())
            .field("session_id", &self.session_id())
            .field("organization_id", &self.organization_id())
            .field("workspace_id", &self.workspace_id())
            .field("organization_permissions", &self.organization_permissions())
            .field("workspace_permissions", &self.workspace_permissions())
            .finish_non_exhaustive()
    }
}
