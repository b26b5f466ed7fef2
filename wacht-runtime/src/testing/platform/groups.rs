//! Organizations and workspaces: list, create (multipart), update, members, roles.

use serde::Deserialize;
use serde_json::{Value, json};

use super::Call;
use super::input::{Page, flag, form, image_url, json_body, metadata, non_empty, required, text};
use super::users::find_user;
use crate::testing::backend::BackendState;
use crate::testing::directory::{ApiError, Directory, Group, Membership, Scope, Workspace};

pub(super) fn list_groups(
    dir: &Directory,
    scope: Scope,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    let page = Page::parse(call.query, &["created_at", "updated_at", "name"])?;
    let items = match scope {
        Scope::Organization => dir
            .organizations
            .iter()
            .map(|org| dir.group_json(scope, org))
            .collect(),
        Scope::Workspace => dir
            .workspaces
            .iter()
            .map(|ws| dir.workspace_json(ws, true))
            .collect(),
    };
    page.apply(items, &["name", "description", "organization_name"])
}

/// The multipart field of an organization's or workspace's image.
pub(super) fn image_field(scope: Scope) -> &'static str {
    match scope {
        Scope::Organization => "organization_image",
        Scope::Workspace => "workspace_image",
    }
}

/// `POST /organizations` (`organization` = None) or `POST /organizations/{id}/workspaces`.
pub(super) fn create_group(
    dir: &mut Directory,
    scope: Scope,
    organization: Option<&str>,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    if let Some(org) = organization {
        dir.organization(org)?;
    }
    let form = form(call)?;
    let id = dir.new_id();
    let group = Group {
        name: required(&form, "name")?,
        description: text(&form, "description")?.unwrap_or_default(),
        image_url: image_url(&form, image_field(scope), scope_path(scope), &id).unwrap_or_default(),
        public_metadata: metadata(&form, "public_metadata")?.unwrap_or_else(|| json!({})),
        private_metadata: metadata(&form, "private_metadata")?.unwrap_or_else(|| json!({})),
        id,
        created_at: call.now.clone(),
        updated_at: call.now.clone(),
    };
    let body = dir.group_json(scope, &group);
    match organization {
        None => dir.add_organization(group),
        Some(org) => dir.add_workspace(Workspace {
            group,
            organization_id: org.into(),
        }),
    };
    Ok(body)
}

pub(super) fn scope_path(scope: Scope) -> &'static str {
    match scope {
        Scope::Organization => "organizations",
        Scope::Workspace => "workspaces",
    }
}

pub(super) fn update_group(
    dir: &mut Directory,
    scope: Scope,
    id: &str,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    dir.owner_exists(scope, id)?;
    let form = form(call)?;
    let name = non_empty(&form, "name")?;
    let description = text(&form, "description")?;
    let public_metadata = metadata(&form, "public_metadata")?;
    let private_metadata = metadata(&form, "private_metadata")?;
    let remove_image = flag(&form, "remove_image")?.unwrap_or(false);
    let image = image_url(&form, image_field(scope), scope_path(scope), id);
    let group = match scope {
        Scope::Organization => dir.organization_mut(id)?,
        Scope::Workspace => &mut dir.workspace_mut(id)?.group,
    };
    group.name = name.unwrap_or_else(|| group.name.clone());
    group.description = description.unwrap_or_else(|| group.description.clone());
    group.public_metadata = public_metadata.unwrap_or_else(|| group.public_metadata.clone());
    group.private_metadata = private_metadata.unwrap_or_else(|| group.private_metadata.clone());
    if remove_image {
        group.image_url = String::new();
    }
    if let Some(url) = image {
        group.image_url = url;
    }
    group.updated_at.clone_from(&call.now);
    let group = group.clone();
    Ok(dir.group_json(scope, &group))
}

/// The membership `id` of this organization or workspace, as [`member_json`].
pub(super) fn member_answer(
    backend: &BackendState,
    scope: Scope,
    owner_id: &str,
    id: &str,
) -> Result<Value, ApiError> {
    let membership = backend.directory.membership(scope, owner_id, id)?;
    Ok(member_json(backend, membership))
}

/// `OrganizationMemberDetails` / `WorkspaceMemberDetails`.
fn member_json(backend: &BackendState, m: &Membership) -> Value {
    let user = backend.users.iter().find(|user| user.id == m.user_id);
    let mut body = json!({
        "id": m.id, "created_at": m.created_at, "updated_at": m.updated_at,
        "user_id": m.user_id, "roles": backend.directory.member_roles_json(m),
        "public_metadata": m.public_metadata,
        "first_name": user.map(|u| u.first_name.as_str()).unwrap_or_default(),
        "last_name": user.map(|u| u.last_name.as_str()).unwrap_or_default(),
        "username": user.and_then(|u| u.username.as_deref()),
        "primary_email_address": user.and_then(|u| u.primary_email_address.as_deref()),
        "primary_phone_number": user.and_then(|u| u.primary_phone_number.as_deref()),
        "user_created_at": user.map(|u| u.created_at.as_str()).unwrap_or(&m.created_at),
    });
    let owner = match m.scope {
        Scope::Organization => "organization_id",
        Scope::Workspace => "workspace_id",
    };
    body[owner] = m.owner_id.clone().into();
    body
}

pub(super) fn list_members(
    backend: &BackendState,
    scope: Scope,
    id: &str,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    backend.directory.owner_exists(scope, id)?;
    let page = Page::parse(
        call.query,
        &[
            "created_at",
            "first_name",
            "last_name",
            "username",
            "primary_email_address",
        ],
    )?;
    let items = backend
        .directory
        .members_of(scope, id)
        .map(|m| member_json(backend, m))
        .collect();
    page.apply(
        items,
        &[
            "first_name",
            "last_name",
            "username",
            "primary_email_address",
        ],
    )
}

/// `AddOrganizationMemberRequest` / `AddWorkspaceMemberRequest`.
#[derive(Deserialize)]
pub(super) struct AddMember {
    user_id: String,
    role_ids: Vec<String>,
}

pub(super) fn add_member(
    backend: &mut BackendState,
    scope: Scope,
    id: &str,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    backend.directory.owner_exists(scope, id)?;
    let request: AddMember = json_body(call)?;
    find_user(backend, &request.user_id)?;
    let member =
        backend
            .directory
            .add_member(scope, id, &request.user_id, request.role_ids, &call.now)?;
    member_answer(backend, scope, id, &member)
}

/// `UpdateOrganizationMemberRequest` / `UpdateWorkspaceMemberRequest`.
#[derive(Deserialize)]
pub(super) struct UpdateMember {
    #[serde(default)]
    role_ids: Option<Vec<String>>,
    #[serde(default)]
    public_metadata: Option<Value>,
}

pub(super) fn update_member(
    backend: &mut BackendState,
    scope: Scope,
    id: &str,
    member: &str,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    backend.directory.owner_exists(scope, id)?;
    backend.directory.membership(scope, id, member)?;
    let request: UpdateMember = json_body(call)?;
    backend.directory.update_member(
        scope,
        id,
        member,
        request.role_ids,
        request.public_metadata,
        &call.now,
    )?;
    member_answer(backend, scope, id, member)
}

pub(super) fn list_roles(
    dir: &Directory,
    scope: Scope,
    id: &str,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    dir.owner_exists(scope, id)?;
    let page = Page::parse(call.query, &["created_at", "name"])?;
    page.apply(dir.roles_json(scope, id), &["name"])
}

/// `CreateOrganizationRoleRequest` / `CreateWorkspaceRoleRequest`.
#[derive(Deserialize)]
pub(super) struct CreateRole {
    name: String,
    permissions: Vec<String>,
}

pub(super) fn create_role(
    dir: &mut Directory,
    scope: Scope,
    id: &str,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    dir.owner_exists(scope, id)?;
    let request: CreateRole = json_body(call)?;
    let name = request.name.trim();
    if name.is_empty() {
        return Err(ApiError::BadRequest("name must not be empty".into()));
    }
    let role = dir.add_role(scope, id, name.into(), request.permissions, &call.now)?;
    Ok(Directory::role_json(role))
}
