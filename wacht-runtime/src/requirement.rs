//! What a protected handler requires of a signed-in caller, and the decision.

use crate::auth::Auth;
use crate::rejection::Rejection;

/// How a list of permissions is combined.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PermissionRule {
    /// No permission is required.
    #[default]
    None,
    /// At least one of these (the reference SDK's array semantics). An empty list is never
    /// satisfied.
    Any(Vec<String>),
    /// Every one of these. An empty list is never satisfied either: an empty requirement is
    /// a mistake, and a security check fails closed.
    All(Vec<String>),
}

impl PermissionRule {
    /// Why this rule cannot be a requirement, if it cannot: an empty list, or a permission
    /// that is empty or holds whitespace (the rules the attributes apply at compile time).
    pub(crate) fn problem(&self) -> Option<&'static str> {
        match self {
            PermissionRule::None => None,
            PermissionRule::Any(list) | PermissionRule::All(list) if list.is_empty() => {
                Some("an empty permission list")
            }
            PermissionRule::Any(list) | PermissionRule::All(list) => list
                .iter()
                .any(|p| p.is_empty() || p.contains(char::is_whitespace))
                .then_some("an empty permission, or one with whitespace"),
        }
    }

    /// [`PermissionRule::Any`] of `permissions`.
    pub fn any<I, S>(permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PermissionRule::Any(permissions.into_iter().map(Into::into).collect())
    }

    /// [`PermissionRule::All`] of `permissions`.
    pub fn all<I, S>(permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PermissionRule::All(permissions.into_iter().map(Into::into).collect())
    }
}

/// What `protect` demands beyond a valid session: permissions (checked against the
/// organization and workspace permissions together), an organization, a workspace.
///
/// ```
/// use wacht_runtime::Requirement;
/// let requirement = Requirement::new().any(["user:read", "user:admin"]).organization("org_1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Requirement {
    permissions: PermissionRule,
    organization_id: Option<String>,
    workspace_id: Option<String>,
    /// Browser sessions: a signed-out page request gets the JSON 401, not a redirect.
    no_sign_in_redirect: bool,
}

/// The answer to a check whose requirement cannot work (see [`Requirement::problem`]), logged
/// with what is wrong.
pub(crate) fn invalid_requirement(check: &'static str, problem: &'static str) -> Rejection {
    tracing::error!(target: "wacht", check, problem, "the requirement cannot work (built at run time?); answering 500 auth_misconfigured");
    Rejection::misconfigured("invalid_requirement")
}

/// Why a signed-in caller was refused (403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denial {
    /// A required permission is not held.
    #[error("a required permission is missing")]
    MissingPermission(PermissionRule),
    /// The active organization is not the required one.
    #[error("the active organization is not the required one")]
    OrganizationMismatch,
    /// The active workspace is not the required one.
    #[error("the active workspace is not the required one")]
    WorkspaceMismatch,
}

impl Denial {
    /// The stable snake_case reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            Denial::MissingPermission(_) => "missing_permission",
            Denial::OrganizationMismatch => "organization_mismatch",
            Denial::WorkspaceMismatch => "workspace_mismatch",
        }
    }

    /// The 403 rejection for this denial.
    pub fn rejection(&self) -> Rejection {
        match self {
            Denial::MissingPermission(rule) => {
                let (message, required) = match rule {
                    PermissionRule::Any(list) => (
                        "You need at least one of the required permissions.",
                        list.clone(),
                    ),
                    PermissionRule::All(list) => (
                        "You need every one of the required permissions.",
                        list.clone(),
                    ),
                    PermissionRule::None => ("You lack a required permission.", Vec::new()),
                };
                Rejection::forbidden(self.reason(), message).with_required(required)
            }
            Denial::OrganizationMismatch => Rejection::forbidden(
                self.reason(),
                "This action needs a different active organization.",
            ),
            Denial::WorkspaceMismatch => Rejection::forbidden(
                self.reason(),
                "This action needs a different active workspace.",
            ),
        }
    }
}

impl Requirement {
    /// Requires nothing beyond a valid session.
    pub fn new() -> Self {
        Self::default()
    }

    /// [`Requirement::new`], usable in a `static`.
    pub(crate) const fn none() -> Self {
        Requirement {
            permissions: PermissionRule::None,
            organization_id: None,
            workspace_id: None,
            no_sign_in_redirect: false,
        }
    }

    /// Requires this one permission.
    pub fn permission(self, permission: impl Into<String>) -> Self {
        self.any([permission.into()])
    }

    /// Requires at least one of `permissions`.
    pub fn any<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions = PermissionRule::any(permissions);
        self
    }

    /// Requires every one of `permissions`.
    pub fn all<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions = PermissionRule::all(permissions);
        self
    }

    /// Requires the permissions of `rule`.
    pub fn permission_rule(mut self, rule: PermissionRule) -> Self {
        self.permissions = rule;
        self
    }

    /// Requires this active organization.
    pub fn organization(mut self, id: impl Into<String>) -> Self {
        self.organization_id = Some(id.into());
        self
    }

    /// Requires this active workspace.
    pub fn workspace(mut self, id: impl Into<String>) -> Self {
        self.workspace_id = Some(id.into());
        self
    }

    /// With browser sessions on, whether a signed-out caller of a page (a `GET` preferring
    /// `text/html`) is redirected to sign-in (the default) or gets the JSON 401 like an API
    /// call. Signed-in callers lacking a permission always get the 403.
    pub fn sign_in_redirect(mut self, redirect: bool) -> Self {
        self.no_sign_in_redirect = !redirect;
        self
    }

    /// Whether signed-out page requests are redirected to sign-in ([`Requirement::sign_in_redirect`]).
    pub fn redirects_to_sign_in(&self) -> bool {
        !self.no_sign_in_redirect
    }

    /// The permission rule.
    pub fn permissions(&self) -> &PermissionRule {
        &self.permissions
    }

    /// Why this requirement cannot work, if it cannot: the rules the attribute applies at
    /// compile time, for a requirement built at run time (say, from an environment variable).
    /// A check with such a requirement answers `500 auth_misconfigured`
    /// (`invalid_requirement`) before any network call.
    ///
    /// ```
    /// use wacht_runtime::Requirement;
    /// assert!(Requirement::new().permission("user:read").problem().is_none());
    /// assert!(Requirement::new().permission("").problem().is_some());
    /// assert!(Requirement::new().all(Vec::<String>::new()).problem().is_some());
    /// assert!(Requirement::new().organization("  ").problem().is_some());
    /// ```
    pub fn problem(&self) -> Option<&'static str> {
        let blank = |id: &Option<String>| {
            id.as_deref()
                .is_some_and(|id| id.is_empty() || id.trim() != id)
        };
        if blank(&self.organization_id) {
            return Some("an empty organization id, or one with surrounding whitespace");
        }
        if blank(&self.workspace_id) {
            return Some("an empty workspace id, or one with surrounding whitespace");
        }
        self.permissions.problem()
    }

    /// The reference SDK's decision, in its order: organization, workspace, permissions.
    pub fn check(&self, auth: &Auth) -> Result<(), Denial> {
        self.check_identity(auth.organization_id(), auth.workspace_id(), |p| auth.has(p))
    }

    /// [`Requirement::check`] on the parts of an identity (also used for identities
    /// forwarded through the header bridge).
    pub(crate) fn check_identity(
        &self,
        organization_id: Option<&str>,
        workspace_id: Option<&str>,
        has: impl Fn(&str) -> bool,
    ) -> Result<(), Denial> {
        if let Some(required) = &self.organization_id
            && organization_id != Some(required.as_str())
        {
            return Err(Denial::OrganizationMismatch);
        }
        if let Some(required) = &self.workspace_id
            && workspace_id != Some(required.as_str())
        {
            return Err(Denial::WorkspaceMismatch);
        }
        let satisfied = match &self.permissions {
            PermissionRule::None => true,
            PermissionRule::Any(list) => list.iter().any(|p| has(p)),
            PermissionRule::All(list) => !list.is_empty() && list.iter().all(|p| has(p)),
        };
        if satisfied {
            Ok(())
        } else {
            Err(Denial::MissingPermission(self.permissions.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under Node (wasm-bindgen-test-runner).
    #[cfg(target_family = "wasm")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// The decision for a caller in `organization`/`workspace` holding `held`.
    fn decide(
        requirement: &Requirement,
        organization: Option<&str>,
        workspace: Option<&str>,
        held: &[&str],
    ) -> Result<(), Denial> {
        requirement.check_identity(organization, workspace, |p| held.contains(&p))
    }

    #[test]
    fn no_requirement_passes_any_signed_in_caller() {
        assert_eq!(decide(&Requirement::new(), None, None, &[]), Ok(()));
    }

    #[test]
    fn any_needs_one_and_all_needs_every_one() {
        let any = Requirement::new().any(["user:read", "user:admin"]);
        assert_eq!(decide(&any, None, None, &["user:admin"]), Ok(()));
        assert!(matches!(
            decide(&any, None, None, &["billing:read"]),
            Err(Denial::MissingPermission(PermissionRule::Any(_)))
        ));
        let all = Requirement::new().all(["user:read", "user:write"]);
        assert_eq!(
            decide(&all, None, None, &["user:write", "user:read", "x"]),
            Ok(())
        );
        assert!(decide(&all, None, None, &["user:read"]).is_err());
        let one = Requirement::new().permission("user:read");
        assert_eq!(
            one.permissions(),
            &PermissionRule::Any(vec!["user:read".into()])
        );
    }

    #[test]
    fn empty_lists_are_never_satisfied() {
        // Built programmatically (the macros refuse them): a security check fails closed.
        let empty_all = Requirement::new().all(Vec::<String>::new());
        assert!(decide(&empty_all, None, None, &["anything"]).is_err());
        let empty_any = Requirement::new().any(Vec::<String>::new());
        assert!(decide(&empty_any, None, None, &["anything"]).is_err());
    }

    #[test]
    fn organization_then_workspace_then_permissions_in_the_references_order() {
        let requirement = Requirement::new()
            .organization("org_1")
            .workspace("ws_1")
            .permission("user:read");
        assert_eq!(
            decide(&requirement, Some("org_2"), Some("ws_2"), &[]),
            Err(Denial::OrganizationMismatch)
        );
        assert_eq!(
            decide(&requirement, None, Some("ws_1"), &["user:read"]),
            Err(Denial::OrganizationMismatch),
            "no active organization is not the required one"
        );
        assert_eq!(
            decide(&requirement, Some("org_1"), Some("ws_2"), &[]),
            Err(Denial::WorkspaceMismatch)
        );
        assert!(matches!(
            decide(&requirement, Some("org_1"), Some("ws_1"), &[]),
            Err(Denial::MissingPermission(_))
        ));
        assert_eq!(
            decide(&requirement, Some("org_1"), Some("ws_1"), &["user:read"]),
            Ok(())
        );
    }

    #[test]
    fn denials_become_403s_listing_what_was_required() {
        let rule = PermissionRule::all(["a", "b"]);
        let rejection = Denial::MissingPermission(rule).rejection();
        assert_eq!(rejection.status(), 403);
        assert_eq!(rejection.reason(), "missing_permission");
        assert_eq!(rejection.required(), ["a", "b"]);
        assert_eq!(
            Denial::WorkspaceMismatch.rejection().reason(),
            "workspace_mismatch"
        );
    }
}
