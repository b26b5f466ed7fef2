//! The backend API beyond `GET /users`, in the platform API's shapes: users (create,
//! details, update, delete, memberships), organizations and workspaces (create, read, list,
//! update, delete, members, roles).
//!
//! Every request is recorded and faulted as `GET /users` is ([`admit`]); errors answer
//! `{"errors":[{"message":…,"code":<status>}]}` ([`ApiError`]); bodies are capped at 1 MiB.

use std::sync::Mutex;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use super::backend::{Admission, BackendState, admit, fault_answer};
use super::directory::{ApiError, Scope};
use super::http::{Served, json_response, lock};
use groups::{
    add_member, create_group, create_role, list_groups, list_members, list_roles, member_answer,
    update_group, update_member,
};
use users::{create_user, delete_user, update_user, user_details, user_memberships};

mod groups;
mod input;
mod users;

/// The largest body kept; a larger one answers 413.
const MAX_BODY: usize = 1024 * 1024;
/// The most of a too-large body read (and dropped) before answering 413; past it the
/// connection is closed mid-body.
const MAX_DRAINED: usize = 8 * 1024 * 1024;

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
    let answer = match admit(state, &req) {
        Admission::Faulted(fault) => return fault_answer(fault),
        Admission::Refused => Err(ApiError::Unauthorized),
        Admission::Admitted => handle(state, deployment_id, req).await,
    };
    Ok(match answer {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(err) => {
            let mut response = json_response(err.status(), &err.body());
            if err == ApiError::TooLarge {
                // The body may not have been read to its end: do not reuse the connection.
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

/// Reads the whole body, keeping at most [`MAX_BODY`] bytes. A larger body is still read to
/// its end (up to [`MAX_DRAINED`], so the client is not cut off mid-send) and answers 413.
async fn read_body<B>(headers: &HeaderMap, body: B) -> Result<Bytes, ApiError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_DRAINED as u64) {
        return Err(ApiError::TooLarge);
    }
    let mut body = std::pin::pin!(body);
    let mut kept = Vec::new();
    let mut received = 0_usize;
    while let Some(frame) = body.as_mut().frame().await {
        let frame =
            frame.map_err(|_| ApiError::BadRequest("the request body could not be read".into()))?;
        if let Ok(data) = frame.into_data() {
            received = received.saturating_add(data.len());
            if received > MAX_DRAINED {
                return Err(ApiError::TooLarge);
            }
            if received <= MAX_BODY {
                kept.extend_from_slice(&data);
            }
        }
    }
    if received > MAX_BODY {
        return Err(ApiError::TooLarge);
    }
    Ok(kept.into())
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
            member_answer(backend, Org, id, member)
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
