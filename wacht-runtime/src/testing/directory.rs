//! The backend API's directory: organizations, workspaces, their roles and memberships, and
//! what a user has beyond their list entry (metadata, flags). Plain data and its rules
//! (ids, default roles, duplicates, cascades); the HTTP side is `platform`, which joins
//! memberships with the users of `backend`.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

/// The first id the directory hands out (users, organizations, workspaces, roles,
/// memberships share one sequence, after the seeded users' `318…`).
const FIRST_ID: u64 = 319_000_000_000_000_001;

/// Why a backend API request fails. Each variant is one status, in [`ApiError::status`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum ApiError {
    /// Malformed input: body, field, query value.
    #[error("{0}")]
    BadRequest(String),
    /// A missing or wrong bearer key.
    #[error("Invalid API key")]
    Unauthorized,
    /// An unknown id of this kind (`user`, `organization`, …), or an unknown route.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A duplicate (member, role name).
    #[error("{0}")]
    Conflict(String),
    /// A body over the cap.
    #[error("request body too large")]
    TooLarge,
}

impl ApiError {
    /// The HTTP status of this error.
    pub(super) fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// `{"errors":[{"message":…,"code":<status>}]}`, as the real backend API answers.
    pub(super) fn body(&self) -> Value {
        json!({ "errors": [{ "message": self.to_string(), "code": self.status().as_u16() }] })
    }
}

/// Organizations or workspaces: what roles and memberships belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Organization,
    Workspace,
}

impl Scope {
    fn noun(self) -> &'static str {
        match self {
            Self::Organization => "organization",
            Self::Workspace => "workspace",
        }
    }
}

/// The fields an organization and a workspace share.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Group {
    pub(super) id: String,
    pub(super) created_at: String,
    pub(super) updated_at: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) image_url: String,
    pub(super) public_metadata: Value,
    pub(super) private_metadata: Value,
}

/// A workspace: its group fields and its organization.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Workspace {
    pub(super) group: Group,
    pub(super) organization_id: String,
}

/// A role of one organization or workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Role {
    pub(super) id: String,
    pub(super) scope: Scope,
    /// The organization or workspace it belongs to.
    pub(super) owner_id: String,
    pub(super) created_at: String,
    pub(super) name: String,
    pub(super) permissions: Vec<String>,
}

/// A user's membership of one organization or workspace.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Membership {
    pub(super) id: String,
    pub(super) scope: Scope,
    /// The organization or workspace.
    pub(super) owner_id: String,
    pub(super) user_id: String,
    pub(super) created_at: String,
    pub(super) updated_at: String,
    pub(super) role_ids: Vec<String>,
    pub(super) public_metadata: Value,
}

/// What a user has beyond their list entry ([`TestUser`](super::TestUser)).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Profile {
    pub(super) disabled: bool,
    pub(super) second_factor_policy: String,
    pub(super) public_metadata: Value,
    pub(super) private_metadata: Value,
    pub(super) has_password: bool,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            disabled: false,
            second_factor_policy: "none".into(),
            public_metadata: json!({}),
            private_metadata: json!({}),
            has_password: false,
        }
    }
}

/// Every organization, workspace, role, membership and profile, in creation order.
#[derive(Debug)]
pub(super) struct Directory {
    next_id: u64,
    pub(super) organizations: Vec<Group>,
    pub(super) workspaces: Vec<Workspace>,
    pub(super) roles: Vec<Role>,
    pub(super) memberships: Vec<Membership>,
    /// By user id; a user without one has [`Profile::default`].
    pub(super) profiles: BTreeMap<String, Profile>,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            next_id: FIRST_ID,
            organizations: Vec::new(),
            workspaces: Vec::new(),
            roles: Vec::new(),
            memberships: Vec::new(),
            profiles: BTreeMap::new(),
        }
    }
}

/// The default roles of a new organization or workspace: (name, permissions).
fn default_roles(scope: Scope) -> [(&'static str, Vec<String>); 2] {
    let noun = scope.noun();
    [
        (
            "admin",
            vec![format!("{noun}:manage"), format!("{noun}:read")],
        ),
        ("member", vec![format!("{noun}:read")]),
    ]
}

impl Directory {
    /// A fresh id (digits).
    pub(super) fn new_id(&mut self) -> String {
        let id = self.next_id;
        self.next_id += 1;
        id.to_string()
    }

    /// The organization with this id.
    pub(super) fn organization(&self, id: &str) -> Result<&Group, ApiError> {
        self.organizations
            .iter()
            .find(|org| org.id == id)
            .ok_or(ApiError::NotFound("organization"))
    }

    /// The organization with this id, to change.
    pub(super) fn organization_mut(&mut self, id: &str) -> Result<&mut Group, ApiError> {
        self.organizations
            .iter_mut()
            .find(|org| org.id == id)
            .ok_or(ApiError::NotFound("organization"))
    }

    /// The workspace with this id.
    pub(super) fn workspace(&self, id: &str) -> Result<&Workspace, ApiError> {
        self.workspaces
            .iter()
            .find(|ws| ws.group.id == id)
            .ok_or(ApiError::NotFound("workspace"))
    }

    /// The workspace with this id, to change.
    pub(super) fn workspace_mut(&mut self, id: &str) -> Result<&mut Workspace, ApiError> {
        self.workspaces
            .iter_mut()
            .find(|ws| ws.group.id == id)
            .ok_or(ApiError::NotFound("workspace"))
    }

    /// Checks that the organization or workspace exists.
    pub(super) fn owner_exists(&self, scope: Scope, id: &str) -> Result<(), ApiError> {
        match scope {
            Scope::Organization => self.organization(id).map(drop),
            Scope::Workspace => self.workspace(id).map(drop),
        }
    }

    /// Adds an organization (with the default roles); returns its id.
    pub(super) fn add_organization(&mut self, group: Group) -> String {
        let id = group.id.clone();
        self.add_default_roles(Scope::Organization, &id, &group.created_at);
        self.organizations.push(group);
        id
    }

    /// Adds a workspace (with the default roles) to an existing organization; returns its id.
    pub(super) fn add_workspace(&mut self, workspace: Workspace) -> String {
        let id = workspace.group.id.clone();
        self.add_default_roles(Scope::Workspace, &id, &workspace.group.created_at);
        self.workspaces.push(workspace);
        id
    }

    fn add_default_roles(&mut self, scope: Scope, owner_id: &str, now: &str) {
        for (name, permissions) in default_roles(scope) {
            let id = self.new_id();
            self.roles.push(Role {
                id,
                scope,
                owner_id: owner_id.into(),
                created_at: now.into(),
                name: name.into(),
                permissions,
            });
        }
    }

    /// Adds a role to an existing organization or workspace; 409 when the name is taken.
    pub(super) fn add_role(
        &mut self,
        scope: Scope,
        owner_id: &str,
        name: String,
        permissions: Vec<String>,
        now: &str,
    ) -> Result<&Role, ApiError> {
        if self.roles_of(scope, owner_id).any(|role| role.name == name) {
            return Err(ApiError::Conflict(format!("role `{name}` already exists")));
        }
        let id = self.new_id();
        self.roles.push(Role {
            id,
            scope,
            owner_id: owner_id.into(),
            created_at: now.into(),
            name,
            permissions,
        });
        Ok(&self.roles[self.roles.len() - 1])
    }

    /// The roles of an organization or workspace, in creation order.
    pub(super) fn roles_of<'a>(
        &'a self,
        scope: Scope,
        owner_id: &str,
    ) -> impl Iterator<Item = &'a Role> + 'a {
        let owner_id = owner_id.to_owned();
        self.roles
            .iter()
            .filter(move |role| role.scope == scope && role.owner_id == owner_id)
    }

    /// Checks that every id names a role of this organization or workspace.
    fn check_roles(&self, scope: Scope, owner_id: &str, ids: &[String]) -> Result<(), ApiError> {
        ids.iter().try_for_each(|id| {
            self.roles_of(scope, owner_id)
                .any(|role| &role.id == id)
                .then_some(())
                .ok_or(ApiError::NotFound("role"))
        })
    }

    /// The memberships of an organization or workspace, in creation order.
    pub(super) fn members_of<'a>(
        &'a self,
        scope: Scope,
        owner_id: &str,
    ) -> impl Iterator<Item = &'a Membership> + 'a {
        let owner_id = owner_id.to_owned();
        self.memberships
            .iter()
            .filter(move |m| m.scope == scope && m.owner_id == owner_id)
    }

    /// The membership `id` of this organization or workspace.
    pub(super) fn membership(
        &self,
        scope: Scope,
        owner_id: &str,
        id: &str,
    ) -> Result<&Membership, ApiError> {
        self.members_of(scope, owner_id)
            .find(|m| m.id == id)
            .ok_or(ApiError::NotFound("membership"))
    }

    fn membership_mut(
        &mut self,
        scope: Scope,
        owner_id: &str,
        id: &str,
    ) -> Result<&mut Membership, ApiError> {
        self.memberships
            .iter_mut()
            .find(|m| m.scope == scope && m.owner_id == owner_id && m.id == id)
            .ok_or(ApiError::NotFound("membership"))
    }

    /// Makes an (existing) user a member with these roles; 404 for an unknown role, 409 when
    /// already a member. Joining a workspace first joins its organization (with no roles)
    /// when the user is not a member yet. Returns the new membership's id.
    pub(super) fn add_member(
        &mut self,
        scope: Scope,
        owner_id: &str,
        user_id: &str,
        role_ids: Vec<String>,
        now: &str,
    ) -> Result<String, ApiError> {
        self.owner_exists(scope, owner_id)?;
        self.check_roles(scope, owner_id, &role_ids)?;
        if self
            .members_of(scope, owner_id)
            .any(|m| m.user_id == user_id)
        {
            return Err(ApiError::Conflict(format!(
                "user {user_id} is already a member of this {}",
                scope.noun()
            )));
        }
        if scope == Scope::Workspace {
            let organization_id = self.workspace(owner_id)?.organization_id.clone();
            if self
                .organization_membership_id(&organization_id, user_id)
                .is_none()
            {
                self.add_member(Scope::Organization, &organization_id, user_id, vec![], now)?;
            }
        }
        let id = self.new_id();
        self.memberships.push(Membership {
            id: id.clone(),
            scope,
            owner_id: owner_id.into(),
            user_id: user_id.into(),
            created_at: now.into(),
            updated_at: now.into(),
            role_ids,
            public_metadata: json!({}),
        });
        Ok(id)
    }

    /// The id of the user's membership of this organization, if any.
    pub(super) fn organization_membership_id(
        &self,
        organization_id: &str,
        user_id: &str,
    ) -> Option<&str> {
        self.members_of(Scope::Organization, organization_id)
            .find(|m| m.user_id == user_id)
            .map(|m| m.id.as_str())
    }

    /// Replaces a membership's roles and/or public metadata.
    pub(super) fn update_member(
        &mut self,
        scope: Scope,
        owner_id: &str,
        id: &str,
        role_ids: Option<Vec<String>>,
        public_metadata: Option<Value>,
        now: &str,
    ) -> Result<(), ApiError> {
        self.owner_exists(scope, owner_id)?;
        if let Some(role_ids) = &role_ids {
            self.check_roles(scope, owner_id, role_ids)?;
        }
        let membership = self.membership_mut(scope, owner_id, id)?;
        if let Some(role_ids) = role_ids {
            membership.role_ids = role_ids;
        }
        if let Some(metadata) = public_metadata {
            membership.public_metadata = metadata;
        }
        membership.updated_at = now.into();
        Ok(())
    }

    /// Gives (`add`) or takes away a role of a membership; both are idempotent.
    pub(super) fn set_member_role(
        &mut self,
        scope: Scope,
        owner_id: &str,
        id: &str,
        role_id: &str,
        add: bool,
        now: &str,
    ) -> Result<(), ApiError> {
        self.owner_exists(scope, owner_id)?;
        self.membership(scope, owner_id, id)?;
        self.check_roles(scope, owner_id, &[role_id.to_owned()])?;
        let membership = self.membership_mut(scope, owner_id, id)?;
        membership.role_ids.retain(|held| held != role_id);
        if add {
            membership.role_ids.push(role_id.into());
        }
        membership.updated_at = now.into();
        Ok(())
    }

    /// Ends a membership; ending an organization membership ends the user's memberships of
    /// its workspaces too.
    pub(super) fn remove_member(
        &mut self,
        scope: Scope,
        owner_id: &str,
        id: &str,
    ) -> Result<(), ApiError> {
        self.owner_exists(scope, owner_id)?;
        let user_id = self.membership(scope, owner_id, id)?.user_id.clone();
        self.memberships.retain(|m| m.id != id);
        if scope == Scope::Organization {
            let workspaces = self.workspace_ids_of(owner_id);
            self.memberships.retain(|m| {
                !(m.scope == Scope::Workspace
                    && m.user_id == user_id
                    && workspaces.contains(&m.owner_id))
            });
        }
        Ok(())
    }

    fn workspace_ids_of(&self, organization_id: &str) -> Vec<String> {
        self.workspaces
            .iter()
            .filter(|ws| ws.organization_id == organization_id)
            .map(|ws| ws.group.id.clone())
            .collect()
    }

    /// Deletes an organization with its workspaces, roles and memberships.
    pub(super) fn remove_organization(&mut self, id: &str) -> Result<(), ApiError> {
        self.organization(id)?;
        for workspace in self.workspace_ids_of(id) {
            self.remove_workspace(&workspace)?;
        }
        self.organizations.retain(|org| org.id != id);
        self.forget_owner(Scope::Organization, id);
        Ok(())
    }

    /// Deletes a workspace with its roles and memberships.
    pub(super) fn remove_workspace(&mut self, id: &str) -> Result<(), ApiError> {
        self.workspace(id)?;
        self.workspaces.retain(|ws| ws.group.id != id);
        self.forget_owner(Scope::Workspace, id);
        Ok(())
    }

    fn forget_owner(&mut self, scope: Scope, id: &str) {
        self.roles
            .retain(|r| !(r.scope == scope && r.owner_id == id));
        self.memberships
            .retain(|m| !(m.scope == scope && m.owner_id == id));
    }

    /// Forgets a deleted user's memberships and profile.
    pub(super) fn remove_user(&mut self, user_id: &str) {
        self.memberships.retain(|m| m.user_id != user_id);
        self.profiles.remove(user_id);
    }

    // ----- JSON, in the platform API's shapes -----

    /// `OrganizationRole` / `WorkspaceRole`.
    pub(super) fn role_json(role: &Role) -> Value {
        json!({
            "id": role.id,
            "created_at": role.created_at,
            "updated_at": role.created_at,
            "name": role.name,
            "permissions": role.permissions,
            "is_deployment_level": false,
        })
    }

    /// The roles (JSON) of a membership, in the order given.
    pub(super) fn member_roles_json(&self, membership: &Membership) -> Vec<Value> {
        membership
            .role_ids
            .iter()
            .filter_map(|id| self.roles.iter().find(|role| &role.id == id))
            .map(Self::role_json)
            .collect()
    }

    /// The roles (JSON) of an organization or workspace.
    pub(super) fn roles_json(&self, scope: Scope, owner_id: &str) -> Vec<Value> {
        self.roles_of(scope, owner_id)
            .map(Self::role_json)
            .collect()
    }

    /// `Organization` (or `Workspace`): the group fields and `member_count`.
    pub(super) fn group_json(&self, scope: Scope, group: &Group) -> Value {
        json!({
            "id": group.id,
            "created_at": group.created_at,
            "updated_at": group.updated_at,
            "name": group.name,
            "image_url": group.image_url,
            "description": group.description,
            "member_count": self.members_of(scope, &group.id).count(),
            "public_metadata": group.public_metadata,
            "private_metadata": group.private_metadata,
        })
    }

    /// `OrganizationDetails`.
    pub(super) fn organization_details_json(&self, org: &Group) -> Value {
        let mut body = self.group_json(Scope::Organization, org);
        body["roles"] = self.roles_json(Scope::Organization, &org.id).into();
        body["workspaces"] = self
            .workspaces
            .iter()
            .filter(|ws| ws.organization_id == org.id)
            .map(|ws| self.group_json(Scope::Workspace, &ws.group))
            .collect::<Vec<_>>()
            .into();
        body["segments"] = json!([]);
        body
    }

    /// `WorkspaceWithOrganizationName` (`listed`) or `WorkspaceDetails`.
    pub(super) fn workspace_json(&self, ws: &Workspace, listed: bool) -> Value {
        let mut body = self.group_json(Scope::Workspace, &ws.group);
        body["organization_name"] = self
            .organization(&ws.organization_id)
            .map(|org| org.name.clone())
            .unwrap_or_default()
            .into();
        if let Some(fields) = body.as_object_mut().filter(|_| listed) {
            fields.remove("public_metadata");
            fields.remove("private_metadata");
        } else {
            body["organization_id"] = ws.organization_id.clone().into();
            body["roles"] = self.roles_json(Scope::Workspace, &ws.group.id).into();
            body["segments"] = json!([]);
        }
        body
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn group(dir: &mut Directory, name: &str) -> Group {
        Group {
            id: dir.new_id(),
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: "2024-01-01T00:00:00Z".into(),
            name: name.into(),
            description: String::new(),
            image_url: String::new(),
            public_metadata: json!({}),
            private_metadata: json!({}),
        }
    }

    #[test]
    fn memberships_cascade() {
        let mut dir = Directory::default();
        let org = group(&mut dir, "Acme");
        let org = dir.add_organization(org);
        let ws = group(&mut dir, "Ops");
        let ws = dir.add_workspace(Workspace {
            group: ws,
            organization_id: org.clone(),
        });
        let now = "2024-01-02T00:00:00Z";
        // Joining the workspace joined the organization too.
        let member = dir
            .add_member(Scope::Workspace, &ws, "1", vec![], now)
            .unwrap();
        let org_member = dir
            .organization_membership_id(&org, "1")
            .unwrap()
            .to_owned();
        assert_eq!(dir.memberships.len(), 2);
        assert!(matches!(
            dir.add_member(Scope::Organization, &org, "1", vec![], now),
            Err(ApiError::Conflict(_))
        ));
        assert_eq!(
            dir.add_member(Scope::Organization, &org, "2", vec!["9".into()], now),
            Err(ApiError::NotFound("role"))
        );
        dir.remove_member(Scope::Organization, &org, &org_member)
            .unwrap();
        assert!(dir.membership(Scope::Workspace, &ws, &member).is_err());
        assert!(dir.memberships.is_empty());

        dir.add_member(Scope::Workspace, &ws, "2", vec![], now)
            .unwrap();
        dir.remove_organization(&org).unwrap();
        assert!(dir.workspaces.is_empty() && dir.roles.is_empty() && dir.memberships.is_empty());
        assert_eq!(
            dir.remove_organization(&org),
            Err(ApiError::NotFound("organization"))
        );
    }
}
