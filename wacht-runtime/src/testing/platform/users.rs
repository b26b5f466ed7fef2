//! Users: create (multipart), details (`UserDetails`), update, delete, memberships.

use serde_json::{Value, json};

use super::Call;
use super::input::{Page, flag, form, image_url, metadata, non_empty, required, text};
use crate::testing::backend::{BackendState, TestUser};
use crate::testing::directory::{ApiError, Profile, Scope};

pub(super) fn create_user(backend: &mut BackendState, call: &Call<'_>) -> Result<Value, ApiError> {
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

pub(super) fn find_user<'a>(backend: &'a BackendState, id: &str) -> Result<&'a TestUser, ApiError> {
    backend
        .users
        .iter()
        .find(|user| user.id == id)
        .ok_or(ApiError::NotFound("user"))
}

/// `UserDetails`.
pub(super) fn user_details(
    backend: &BackendState,
    id: &str,
    deployment_id: &str,
) -> Result<Value, ApiError> {
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

pub(super) fn update_user(
    backend: &mut BackendState,
    id: &str,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
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

pub(super) fn delete_user(backend: &mut BackendState, id: &str) -> Result<Value, ApiError> {
    find_user(backend, id)?;
    backend.users.retain(|user| user.id != id);
    backend.directory.remove_user(id);
    Ok(json!({}))
}

/// `UserOrganizationMembership`s or `UserWorkspaceMembership`s of a user.
pub(super) fn user_memberships(
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
