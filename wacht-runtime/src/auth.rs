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

/// Why the claims could not be read as the type asked for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// The token has no such claim (for [`Auth::metadata`]: no `metadata` claim).
    #[error("the session token has no `{0}` claim")]
    Missing(&'static str),
    /// The claims are not of that shape. The message names the member and the expected type
    /// (serde's words) but never a claim's value.
    #[error("the session token's claims do not fit {type_name}: {why}")]
    Shape {
        /// The type asked for.
        type_name: &'static str,
        /// What did not fit, by category and position.
        why: String,
    },
}

impl Auth {
    /// All the token's claims read as `T` (for instance a struct of the JWT template's
    /// custom claims): serde decides which members `T` needs.
    ///
    /// ```
    /// # fn handler(auth: wacht_runtime::Auth) -> Result<(), wacht_runtime::ClaimsError> {
    /// #[derive(serde::Deserialize)]
    /// struct Claims { sub: String, organization: Option<String> }
    /// let claims: Claims = auth.claims_as()?;
    /// # let _ = claims; Ok(()) }
    /// ```
    pub fn claims_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, ClaimsError> {
        read_as(Value::Object(self.0.claims.clone()))
    }

    /// The JWT template's `metadata` claim read as `T`.
    pub fn metadata<T: serde::de::DeserializeOwned>(&self) -> Result<T, ClaimsError> {
        let metadata = self
            .0
            .claims
            .get("metadata")
            .cloned()
            .ok_or(ClaimsError::Missing("metadata"))?;
        read_as(metadata)
    }
}

fn read_as<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ClaimsError> {
    serde_json::from_value(value).map_err(|error| ClaimsError::Shape {
        type_name: std::any::type_name::<T>(),
        // serde's messages quote values (`invalid type: string "…"`); only the category.
        why: {
            let text = error.to_string();
            // "missing field `x`" and "unknown field `x`, expected …" name members, not values.
            if text.starts_with("missing field") || text.starts_with("unknown field") {
                text
            } else {
                "a member has the wrong type".to_owned()
            }
        },
    })
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
