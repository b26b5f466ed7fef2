//! What each operation is called in Rust: `backend.<group>()[.<sub>(id)].<method>(…)`.
//!
//! The group is the operation's tag. The method is the operation id in snake case
//! (`addUserEmail` → `add_user_email`), except for the resources' everyday verbs, named in
//! [`RENAMES`] (`getUserDetails` → `users().get`, `getOrganizationMembers` →
//! `organizations().members(id).list`). A sub-resource binds the operation's first path
//! parameter.

use heck::{ToPascalCase, ToSnakeCase};

use crate::Result;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    /// The group accessor (`users`).
    pub group: String,
    /// The group's struct (`Users`).
    pub group_type: String,
    /// A sub-resource accessor (`members`), which binds the first path parameter.
    pub sub: Option<String>,
    /// The method (`list`).
    pub method: String,
}

impl Name {
    /// The prefix of the operation's own types (`OrganizationsMembersList` → `…Query`).
    pub fn type_prefix(&self) -> String {
        let mut prefix = self.group_type.clone();
        if let Some(sub) = &self.sub {
            prefix.push_str(&sub.to_pascal_case());
        }
        prefix.push_str(&self.method.to_pascal_case());
        prefix
    }

    /// The sub-resource's struct (`OrganizationsMembers`).
    pub fn sub_type(&self) -> Option<String> {
        self.sub
            .as_ref()
            .map(|sub| format!("{}{}", self.group_type, sub.to_pascal_case()))
    }

    /// How a user calls it: `users().get`, `organizations().members(…).list`.
    pub fn call_path(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}().{sub}(…).{}", self.group, self.method),
            None => format!("{}().{}", self.group, self.method),
        }
    }
}

/// Tag → (accessor, struct).
const GROUPS: &[(&str, &str, &str)] = &[
    ("Users", "users", "Users"),
    ("Organizations", "organizations", "Organizations"),
    ("Workspaces", "workspaces", "Workspaces"),
    ("Invitations", "invitations", "Invitations"),
    ("Waitlist", "waitlist", "Waitlist"),
    ("Default", "deployment", "Deployment"),
    ("JWT Templates", "jwt_templates", "JwtTemplates"),
    ("Settings", "settings", "Settings"),
    ("Segments", "segments", "Segments"),
    ("Analytics", "analytics", "Analytics"),
    ("API Auth", "api_auth", "ApiAuth"),
    ("OAuth", "oauth", "OAuth"),
    ("Session", "session", "Session"),
    ("Webhooks", "webhooks", "Webhooks"),
    ("Notifications", "notifications", "Notifications"),
    ("AI", "ai", "Ai"),
];

/// Operation id → `method` or `sub.method`.
const RENAMES: &[(&str, &str)] = &[
    // Users
    ("getActiveUserList", "list"),
    ("createUser", "create"),
    ("getUserDetails", "get"),
    ("updateUser", "update"),
    ("deleteUser", "delete"),
    // Organizations
    ("getOrganizationList", "list"),
    ("createOrganization", "create"),
    ("getOrganizationDetails", "get"),
    ("updateOrganization", "update"),
    ("deleteOrganization", "delete"),
    ("createWorkspaceForOrganization", "create_workspace"),
    ("getOrganizationMembers", "members.list"),
    ("addOrganizationMember", "members.add"),
    ("updateOrganizationMember", "members.update"),
    ("removeOrganizationMember", "members.remove"),
    ("addOrganizationMemberRole", "members.add_role"),
    ("removeOrganizationMemberRole", "members.remove_role"),
    ("getOrganizationRoles", "roles.list"),
    ("createOrganizationRole", "roles.create"),
    ("updateOrganizationRole", "roles.update"),
    ("deleteOrganizationRole", "roles.delete"),
    ("listOrganizationInvitations", "invitations.list"),
    ("createOrganizationInvitation", "invitations.create"),
    ("discardOrganizationInvitation", "invitations.discard"),
    // Workspaces
    ("getWorkspaceList", "list"),
    ("getWorkspaceDetails", "get"),
    ("updateWorkspace", "update"),
    ("deleteWorkspace", "delete"),
    ("getWorkspaceMembers", "members.list"),
    ("addWorkspaceMember", "members.add"),
    ("updateWorkspaceMember", "members.update"),
    ("removeWorkspaceMember", "members.remove"),
    ("addWorkspaceMemberRole", "members.add_role"),
    ("removeWorkspaceMemberRole", "members.remove_role"),
    ("getWorkspaceRoles", "roles.list"),
    ("createWorkspaceRole", "roles.create"),
    ("updateWorkspaceRole", "roles.update"),
    ("deleteWorkspaceRole", "roles.delete"),
    // Invitations, waitlist
    ("getInvitedUserList", "list"),
    ("inviteUser", "create"),
    ("deleteInvitation", "delete"),
    ("getUserWaitlist", "list"),
    ("approveWaitlistUser", "approve"),
    // Deployment, JWT templates, segments, sessions, notifications
    ("getDeploymentWithSettings", "get"),
    ("getDeploymentJwtTemplates", "list"),
    ("createDeploymentJwtTemplate", "create"),
    ("updateDeploymentJwtTemplate", "update"),
    ("deleteDeploymentJwtTemplate", "delete"),
    ("listSegments", "list"),
    ("createSegment", "create"),
    ("updateSegment", "update"),
    ("deleteSegment", "delete"),
    ("getSegmentData", "data"),
    ("assignSegment", "assign"),
    ("removeSegment", "remove"),
    ("createBackendSessionTicket", "create_ticket"),
    ("createNotification", "create"),
];

pub fn name(operation_id: &str, tag: &str, path_params: &[String]) -> Result<Name> {
    let (_, group, group_type) = GROUPS
        .iter()
        .find(|(t, _, _)| *t == tag)
        .ok_or_else(|| format!("{operation_id}: tag {tag:?} has no group"))?;
    let renamed = RENAMES
        .iter()
        .find(|(id, _)| *id == operation_id)
        .map(|(_, name)| *name);
    let (sub, method) = match renamed.and_then(|n| n.split_once('.')) {
        Some((sub, method)) => {
            if path_params.is_empty() {
                return Err(format!(
                    "{operation_id}: a sub-resource needs a path parameter"
                ));
            }
            (Some(sub.to_owned()), method.to_owned())
        }
        None => (
            None,
            renamed.map_or_else(|| operation_id.to_snake_case(), str::to_owned),
        ),
    };
    Ok(Name {
        group: (*group).to_owned(),
        group_type: (*group_type).to_owned(),
        sub,
        method,
    })
}

pub fn check_unique<'a>(names: impl Iterator<Item = &'a Name>) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        if !seen.insert(name.call_path()) {
            return Err(format!("two operations are called {}", name.call_path()));
        }
    }
    Ok(())
}

pub fn renamed_ids() -> impl Iterator<Item = &'static str> {
    RENAMES.iter().map(|(id, _)| *id)
}
