//! The backend API beyond `GET /users`, in the platform API's shapes: users (create,
//! details, update, delete, memberships), organizations and workspaces (create, read, list,
//! update, delete, members, roles).
//!
//! Every request is recorded and faulted as `GET /users` is ([`admit`]); errors answer
//! `{"errors":[{"message":…,"code":<status>}]}` ([`ApiError`]); bodies are capped at 1 MiB.

use std::sync::Mutex;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::backend::{BackendState, TestUser, admit, query_pairs};
use super::directory::{ApiError, Directory, Group, Membership, Profile, Scope, Workspace};
use super::http::{Served, json_response, lock};
use super::multipart::Form;

/// The largest body read; a larger one answers 413.
const MAX_BODY: usize = 1024 * 1024;
/// Page size when `limit` is absent.
const DEFAULT_LIMIT: u64 = 10;
/// Largest page size; a larger `limit` is lowered to it.
const MAX_LIMIT: u64 = 100;

/// Whether `path` is one of this module's (anything below `/users`, `/organizations`,
/// `/workspaces`; `GET /users` itself is `backend`'s and routed first).
pub(super) fn serves(path: &str) -> bool {
    ["/users", "/organizations", "/workspaces"]
        .iter()
        .any(|root| {
            path.strip_prefix(root)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// Answers one request on a path [`serves`] accepts.
pub(super) async fn serve<B>(
    state: &Mutex<BackendState>,
    deployment_id: &str,
    req: Request<B>,
) -> Served
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let authorized = match admit(state, &req) {
        Err(answer) => return answer,
        Ok(authorized) => authorized,
    };
    let answer = if authorized {
        handle(state, deployment_id, req).await
    } else {
        Err(ApiError::Unauthorized)
    };
    Ok(match answer {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(err) => {
            let mut response = json_response(err.status(), &err.body());
            if err == ApiError::TooLarge {
                // The rest of the body is not read: the connection cannot be reused.
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    })
}

/// What a handler reads of the request.
struct Call<'a> {
    query: &'a str,
    content_type: &'a str,
    body: &'a [u8],
    /// The time of the request, RFC 3339.
    now: String,
    deployment_id: &'a str,
}

async fn handle<B>(
    state: &Mutex<BackendState>,
    deployment_id: &str,
    req: Request<B>,
) -> Result<Value, ApiError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    let body = read_body(&parts.headers, body).await?;
    let call = Call {
        query: parts.uri.query().unwrap_or_default(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default(),
        body: &body,
        now: now(),
        deployment_id,
    };
    dispatch(&mut lock(state), &parts.method, parts.uri.path(), &call)
}

/// Reads the whole body, at most [`MAX_BODY`] bytes.
async fn read_body<B>(headers: &HeaderMap, body: B) -> Result<Bytes, ApiError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY as u64) {
        return Err(ApiError::TooLarge);
    }
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::TooLarge),
        Err(_) => Err(ApiError::BadRequest(
            "the request body could not be read".into(),
        )),
    }
}

/// Now, RFC 3339 to the second.
fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// The router of this module: one arm per operation.
fn dispatch(
    backend: &mut BackendState,
    method: &Method,
    path: &str,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    use Scope::{Organization as Org, Workspace as Ws};
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["users"]) => create_user(backend, call),
        ("GET", ["users", user, "details"]) => user_details(backend, user, call.deployment_id),
        ("PATCH", ["users", user]) => update_user(backend, user, call),
        ("DELETE", ["users", user]) => delete_user(backend, user),
        ("GET", ["users", user, "organization-memberships"]) => {
            user_memberships(backend, user, Org, call)
        }
        ("GET", ["users", user, "workspace-memberships"]) => {
            user_memberships(backend, user, Ws, call)
        }
        ("GET", ["organizations"]) => list_groups(&backend.directory, Org, call),
        ("GET", ["workspaces"]) => list_groups(&backend.directory, Ws, call),
        ("POST", ["organizations"]) => create_group(&mut backend.directory, Org, None, call),
        ("POST", ["organizations", org, "workspaces"]) => {
            create_group(&mut backend.directory, Ws, Some(org), call)
        }
        ("GET", ["organizations", org]) => {
            let dir = &backend.directory;
            Ok(dir.organization_details_json(dir.organization(org)?))
        }
        ("GET", ["workspaces", ws]) => {
            let dir = &backend.directory;
            Ok(dir.workspace_json(dir.workspace(ws)?, false))
        }
        ("PATCH", ["organizations", id]) => update_group(&mut backend.directory, Org, id, call),
        ("PATCH", ["workspaces", id]) => update_group(&mut backend.directory, Ws, id, call),
        ("DELETE", ["organizations", id]) => backend
            .directory
            .remove_organization(id)
            .map(|()| json!({})),
        ("DELETE", ["workspaces", id]) => {
            backend.directory.remove_workspace(id).map(|()| json!({}))
        }
        ("GET", ["organizations", id, "members"]) => list_members(backend, Org, id, call),
        ("GET", ["workspaces", id, "members"]) => list_members(backend, Ws, id, call),
        ("POST", ["organizations", id, "members"]) => add_member(backend, Org, id, call),
        ("POST", ["workspaces", id, "members"]) => add_member(backend, Ws, id, call),
        ("PATCH", ["organizations", id, "members", member]) => {
            update_member(backend, Org, id, member, call)
        }
        ("PATCH", ["workspaces", id, "members", member]) => {
            update_member(backend, Ws, id, member, call)
        }
        ("DELETE", ["organizations", id, "members", member]) => backend
            .directory
            .remove_member(Org, id, member)
            .map(|()| json!({})),
        ("DELETE", ["workspaces", id, "members", member]) => backend
            .directory
            .remove_member(Ws, id, member)
            .map(|()| json!({})),
        ("POST" | "DELETE", ["organizations", id, "members", member, "roles", role]) => {
            let add = *method == Method::POST;
            let dir = &mut backend.directory;
            dir.set_member_role(Org, id, member, role, add, &call.now)?;
            member_json(backend, dir_member(&backend.directory, Org, id, member)?)
        }
        ("GET", ["organizations", id, "roles"]) => list_roles(&backend.directory, Org, id, call),
        ("GET", ["workspaces", id, "roles"]) => list_roles(&backend.directory, Ws, id, call),
        ("POST", ["organizations", id, "roles"]) => {
            create_role(&mut backend.directory, Org, id, call)
        }
        ("POST", ["workspaces", id, "roles"]) => create_role(&mut backend.directory, Ws, id, call),
        _ => Err(ApiError::NotFound("route")),
    }
}

// ----- users -----

fn create_user(backend: &mut BackendState, call: &Call<'_>) -> Result<Value, ApiError> {
    let form = form(call)?;
    let first_name = required(&form, "first_name")?;
    let last_name = required(&form, "last_name")?;
    let email = text(&form, "email_address")?.filter(|email| !email.is_empty());
    if email.as_ref().is_some_and(|email| !email.contains('@')) {
        return Err(ApiError::BadRequest("invalid email_address".into()));
    }
    let username = text(&form, "username")?.filter(|name| !name.is_empty());
    let password = text(&form, "password")?.filter(|password| !password.is_empty());
    let skip_check = flag(&form, "skip_password_check")?.unwrap_or(false);
    if password.as_ref().is_some_and(|p| p.chars().count() < 8) && !skip_check {
        return Err(ApiError::BadRequest(
            "password must have at least 8 characters".into(),
        ));
    }
    for user in &backend.users {
        let taken = (username.is_some() && user.username == username)
            || (email.is_some() && user.primary_email_address == email);
        if taken {
            return Err(ApiError::Conflict(
                "a user with this username or email address already exists".into(),
            ));
        }
    }
    let id = backend.directory.new_id();
    let mut user = TestUser::new(id.clone(), first_name, last_name);
    user.created_at.clone_from(&call.now);
    user.updated_at.clone_from(&call.now);
    user.username = username;
    user.primary_email_address = email;
    user.primary_phone_number = text(&form, "phone_number")?.filter(|p| !p.is_empty());
    if let Some(url) = image_url(&form, "profile_image", "users", &id) {
        user.profile_picture_url = url;
    }
    let profile = Profile {
        has_password: password.is_some(),
        ..Profile::default()
    };
    backend.directory.profiles.insert(id.clone(), profile);
    backend.users.push(user.clone());
    Ok(serde_json::to_value(&user).unwrap_or_default())
}

fn find_user<'a>(backend: &'a BackendState, id: &str) -> Result<&'a TestUser, ApiError> {
    backend
        .users
        .iter()
        .find(|user| user.id == id)
        .ok_or(ApiError::NotFound("user"))
}

/// `UserDetails`.
fn user_details(backend: &BackendState, id: &str, deployment_id: &str) -> Result<Value, ApiError> {
    let user = find_user(backend, id)?;
    let profile = backend
        .directory
        .profiles
        .get(id)
        .cloned()
        .unwrap_or_default();
    // Email and phone ids derive from the user id (digits, distinct from every other id).
    let email_id = user
        .primary_email_address
        .as_ref()
        .map(|_| format!("{id}1"));
    let phone_id = user.primary_phone_number.as_ref().map(|_| format!("{id}2"));
    let emails: Vec<Value> = user
        .primary_email_address
        .iter()
        .map(|email| {
            json!({
                "id": email_id, "created_at": user.created_at, "updated_at": user.updated_at,
                "deployment_id": deployment_id, "user_id": id, "email": email,
                "is_primary": true, "verified": true, "verified_at": user.created_at,
                "verification_strategy": "otp",
            })
        })
        .collect();
    let phones: Vec<Value> = user
        .primary_phone_number
        .iter()
        .map(|phone| {
            json!({
                "id": phone_id, "created_at": user.created_at, "updated_at": user.updated_at,
                "user_id": id, "phone_number": phone,
                "country_code": if phone.starts_with("+1") { "US" } else { "" },
                "verified": true, "verified_at": user.created_at,
            })
        })
        .collect();
    Ok(json!({
        "id": user.id,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "profile_picture_url": user.profile_picture_url,
        "schema_version": "v2",
        "disabled": profile.disabled,
        "second_factor_policy": profile.second_factor_policy,
        "availability": "available",
        "last_password_reset_at": null,
        "active_organization_membership_id": null,
        "active_workspace_membership_id": null,
        "deployment_id": deployment_id,
        "public_metadata": profile.public_metadata,
        "private_metadata": profile.private_metadata,
        "primary_email_address_id": email_id,
        "primary_email_address": user.primary_email_address,
        "primary_phone_number_id": phone_id,
        "primary_phone_number": user.primary_phone_number,
        "email_addresses": emails,
        "phone_numbers": phones,
        "social_connections": [],
        "segments": [],
        "has_password": profile.has_password,
        "has_backup_codes": false,
    }))
}

fn update_user(backend: &mut BackendState, id: &str, call: &Call<'_>) -> Result<Value, ApiError> {
    find_user(backend, id)?;
    let form = form(call)?;
    let first_name = non_empty(&form, "first_name")?;
    let last_name = non_empty(&form, "last_name")?;
    let username = text(&form, "username")?;
    let policy = text(&form, "second_factor_policy")?;
    if policy
        .as_deref()
        .is_some_and(|p| !["none", "optional", "enforced"].contains(&p))
    {
        return Err(ApiError::BadRequest(
            "second_factor_policy must be `none`, `optional` or `enforced`".into(),
        ));
    }
    let disabled = flag(&form, "disabled")?;
    let public_metadata = metadata(&form, "public_metadata")?;
    let private_metadata = metadata(&form, "private_metadata")?;
    let remove_image = flag(&form, "remove_profile_image")?.unwrap_or(false);
    let image = image_url(&form, "profile_image", "users", id);

    let profile = backend.directory.profiles.entry(id.into()).or_default();
    profile.disabled = disabled.unwrap_or(profile.disabled);
    profile.second_factor_policy = policy.unwrap_or_else(|| profile.second_factor_policy.clone());
    profile.public_metadata = public_metadata.unwrap_or_else(|| profile.public_metadata.clone());
    profile.private_metadata = private_metadata.unwrap_or_else(|| profile.private_metadata.clone());
    if let Some(user) = backend.users.iter_mut().find(|user| user.id == id) {
        user.first_name = first_name.unwrap_or_else(|| user.first_name.clone());
        user.last_name = last_name.unwrap_or_else(|| user.last_name.clone());
        if let Some(username) = username {
            user.username = (!username.is_empty()).then_some(username);
        }
        if remove_image {
            user.profile_picture_url = TestUser::new(id, "", "").profile_picture_url;
        }
        if let Some(url) = image {
            user.profile_picture_url = url;
        }
        user.updated_at.clone_from(&call.now);
    }
    user_details(backend, id, call.deployment_id)
}

fn delete_user(backend: &mut BackendState, id: &str) -> Result<Value, ApiError> {
    find_user(backend, id)?;
    backend.users.retain(|user| user.id != id);
    backend.directory.remove_user(id);
    Ok(json!({}))
}

/// `UserOrganizationMembership`s or `UserWorkspaceMembership`s of a user.
fn user_memberships(
    backend: &BackendState,
    id: &str,
    scope: Scope,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    find_user(backend, id)?;
    let dir = &backend.directory;
    let items = dir
        .memberships
        .iter()
        .filter(|m| m.scope == scope && m.user_id == id)
        .map(|m| {
            let mut body = json!({
                "id": m.id, "created_at": m.created_at, "updated_at": m.updated_at,
                "user_id": m.user_id, "public_metadata": m.public_metadata,
                "roles": dir.member_roles_json(m),
            });
            match scope {
                Scope::Organization => {
                    body["organization_id"] = m.owner_id.clone().into();
                    if let Ok(org) = dir.organization(&m.owner_id) {
                        body["organization"] = dir.group_json(scope, org);
                    }
                }
                Scope::Workspace => {
                    body["workspace_id"] = m.owner_id.clone().into();
                    if let Ok(ws) = dir.workspace(&m.owner_id) {
                        body["organization_id"] = ws.organization_id.clone().into();
                        body["organization_membership_id"] = dir
                            .organization_membership_id(&ws.organization_id, id)
                            .unwrap_or_default()
                            .into();
                        body["workspace"] = dir.group_json(scope, &ws.group);
                    }
                }
            }
            body
        })
        .collect();
    Page::parse(call.query, &["created_at"])?.apply(items, &[])
}

// ----- organizations and workspaces -----

fn list_groups(dir: &Directory, scope: Scope, call: &Call<'_>) -> Result<Value, ApiError> {
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
fn image_field(scope: Scope) -> &'static str {
    match scope {
        Scope::Organization => "organization_image",
        Scope::Workspace => "workspace_image",
    }
}

/// `POST /organizations` (`organization` = None) or `POST /organizations/{id}/workspaces`.
fn create_group(
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

fn scope_path(scope: Scope) -> &'static str {
    match scope {
        Scope::Organization => "organizations",
        Scope::Workspace => "workspaces",
    }
}

fn update_group(
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

// ----- members and roles -----

fn dir_member<'a>(
    dir: &'a Directory,
    scope: Scope,
    owner_id: &str,
    id: &str,
) -> Result<&'a Membership, ApiError> {
    dir.membership(scope, owner_id, id)
}

/// `OrganizationMemberDetails` / `WorkspaceMemberDetails`.
fn member_json(backend: &BackendState, m: &Membership) -> Result<Value, ApiError> {
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
    Ok(body)
}

fn list_members(
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
        .collect::<Result<Vec<_>, _>>()?;
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
struct AddMember {
    user_id: String,
    role_ids: Vec<String>,
}

fn add_member(
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
    member_json(backend, dir_member(&backend.directory, scope, id, &member)?)
}

/// `UpdateOrganizationMemberRequest` / `UpdateWorkspaceMemberRequest`.
#[derive(Deserialize)]
struct UpdateMember {
    #[serde(default)]
    role_ids: Option<Vec<String>>,
    #[serde(default)]
    public_metadata: Option<Value>,
}

fn update_member(
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
    member_json(backend, dir_member(&backend.directory, scope, id, member)?)
}

fn list_roles(dir: &Directory, scope: Scope, id: &str, call: &Call<'_>) -> Result<Value, ApiError> {
    dir.owner_exists(scope, id)?;
    let page = Page::parse(call.query, &["created_at", "name"])?;
    page.apply(dir.roles_json(scope, id), &["name"])
}

/// `CreateOrganizationRoleRequest` / `CreateWorkspaceRoleRequest`.
#[derive(Deserialize)]
struct CreateRole {
    name: String,
    permissions: Vec<String>,
}

fn create_role(
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

// ----- bodies and queries -----

fn json_body<T: DeserializeOwned>(call: &Call<'_>) -> Result<T, ApiError> {
    serde_json::from_slice(call.body)
        .map_err(|err| ApiError::BadRequest(format!("invalid JSON body: {err}")))
}

fn form(call: &Call<'_>) -> Result<Form, ApiError> {
    Form::parse(call.content_type, call.body).map_err(|err| ApiError::BadRequest(err.to_string()))
}

fn text(form: &Form, name: &str) -> Result<Option<String>, ApiError> {
    form.text(name)
        .map(|value| value.map(str::to_owned))
        .map_err(|err| ApiError::BadRequest(err.to_string()))
}

/// A text field that must be present and not blank.
fn required(form: &Form, name: &str) -> Result<String, ApiError> {
    non_empty(form, name)?.ok_or_else(|| ApiError::BadRequest(format!("`{name}` is required")))
}

/// A text field that, when present, must not be blank.
fn non_empty(form: &Form, name: &str) -> Result<Option<String>, ApiError> {
    match text(form, name)? {
        Some(value) if value.trim().is_empty() => {
            Err(ApiError::BadRequest(format!("`{name}` must not be empty")))
        }
        value => Ok(value),
    }
}

/// A boolean field: `true` or `false`.
fn flag(form: &Form, name: &str) -> Result<Option<bool>, ApiError> {
    text(form, name)?
        .map(|value| match value.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ApiError::BadRequest(format!(
                "`{name}` must be true or false"
            ))),
        })
        .transpose()
}

/// A metadata field: a JSON object.
fn metadata(form: &Form, name: &str) -> Result<Option<Value>, ApiError> {
    text(form, name)?
        .map(|value| match serde_json::from_str::<Value>(&value) {
            Ok(object @ Value::Object(_)) => Ok(object),
            _ => Err(ApiError::BadRequest(format!(
                "`{name}` must be a JSON object"
            ))),
        })
        .transpose()
}

/// The deterministic URL of an uploaded image (its bytes are dropped), if one was sent.
fn image_url(form: &Form, field: &str, kind: &str, id: &str) -> Option<String> {
    let part = form.part(field).filter(|part| !part.data.is_empty())?;
    let extension = match part.content_type.as_deref().unwrap_or_default() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "bin",
    };
    let length = part.data.len();
    Some(format!(
        "https://img.example.com/{kind}/{id}/{field}-{length}.{extension}"
    ))
}

/// `offset`, `limit`, `search`, `sort_key`, `sort_order` of a list.
struct Page {
    limit: u64,
    offset: u64,
    search: Option<String>,
    sort_key: Option<String>,
    descending: bool,
}

impl Page {
    /// Parses a query; `sort_key` must be one of `sort_keys`.
    fn parse(query: &str, sort_keys: &[&str]) -> Result<Self, ApiError> {
        let mut page = Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
            search: None,
            sort_key: None,
            descending: false,
        };
        let bad =
            |what: &str, value: &str| ApiError::BadRequest(format!("invalid {what} `{value}`"));
        for (name, value) in query_pairs(query) {
            let trimmed = value.trim();
            match name.as_str() {
                "limit" => match trimmed.parse::<u64>() {
                    Ok(0) | Err(_) => return Err(bad("limit", &value)),
                    Ok(limit) => page.limit = limit.min(MAX_LIMIT),
                },
                "offset" => page.offset = trimmed.parse().map_err(|_| bad("offset", &value))?,
                "search" => {
                    page.search = Some(trimmed.to_lowercase()).filter(|s| !s.is_empty());
                }
                "sort_key" if sort_keys.contains(&trimmed) => {
                    page.sort_key = Some(trimmed.to_owned());
                }
                "sort_key" => return Err(bad("sort_key", &value)),
                "sort_order" => {
                    page.descending = match trimmed.to_ascii_lowercase().as_str() {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(bad("sort_order", &value)),
                    }
                }
                _ => {}
            }
        }
        Ok(page)
    }

    /// Filters (search over `fields`), sorts and pages `items` into
    /// `{"data","has_more","limit","offset"}`.
    fn apply(&self, mut items: Vec<Value>, fields: &[&str]) -> Result<Value, ApiError> {
        if let Some(search) = &self.search {
            items.retain(|item| {
                fields.iter().any(|field| {
                    item[*field]
                        .as_str()
                        .is_some_and(|text| text.to_lowercase().contains(search))
                })
            });
        }
        if let Some(key) = &self.sort_key {
            let text = |item: &Value| {
                item[key.as_str()]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase()
            };
            items.sort_by_key(text);
        }
        if self.descending {
            items.reverse();
        }
        let total = items.len();
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let data: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
        let has_more = offset.saturating_add(data.len()) < total;
        Ok(
            json!({ "data": data, "has_more": has_more, "limit": self.limit, "offset": self.offset }),
        )
    }
}
