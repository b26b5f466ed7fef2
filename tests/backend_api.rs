//! The generated backend API through the public client (`Wacht::backend()`), served by the
//! local Wacht over real HTTP on 127.0.0.1: users, organizations, memberships and workspaces
//! end to end, every page streamed once, open enums on the wire, typed errors, nothing sent
//! without a key, and ids that cannot leave their path segment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use http::StatusCode;
use serde_json::json;
use wacht::backend_api::Page;
use wacht::backend_api::types::{
    AddOrganizationMemberRequest, AddWorkspaceMemberRequest, OrganizationsCreateForm,
    OrganizationsCreateWorkspaceForm, OrganizationsListQuery, OrganizationsMembersListQuery,
    OrganizationsUpdateForm, SortOrder, UpdateOrganizationMemberRequest, UsersCreateForm,
    UsersListQuery, UsersUpdateForm, WorkspacesListQuery, WorkspacesMembersListQuery,
    WorkspacesUpdateForm,
};
use wacht::testing::{BackendCall, LocalWacht};
use wacht::{BackendError, Wacht, WachtConfig};

/// The example's steps (`cargo run --example backend`), run by [`the_example_runs_on_the_emulator`].
#[path = "../examples/backend.rs"]
#[allow(dead_code)]
mod example;

fn start() -> (LocalWacht, Wacht) {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    (local, wacht)
}

/// The status, message and code of a `BackendError::Status`; panics on any other error.
fn status_of(error: &BackendError) -> (StatusCode, &str, Option<&str>) {
    let BackendError::Status { status, body } = error else {
        panic!("expected a status error, got {error:?}");
    };
    (*status, body.message(), body.code())
}

/// An organization named `name`; its id.
async fn organization(wacht: &Wacht, name: &str) -> String {
    let form = OrganizationsCreateForm::new().name(name);
    wacht
        .backend()
        .organizations()
        .create(&form)
        .await
        .unwrap()
        .id
}

/// The id of the role named `name` of an organization.
async fn organization_role(wacht: &Wacht, organization_id: &str, name: &str) -> String {
    let backend = wacht.backend();
    let roles = backend.organizations().roles(organization_id);
    let roles = roles.list().await.unwrap();
    roles
        .data
        .into_iter()
        .find(|role| role.name == name)
        .unwrap_or_else(|| panic!("no role {name}"))
        .id
}

/// Every item of a stream of pages, and how many pages it yielded.
async fn drain<T>(
    pages: impl futures_util::Stream<Item = Result<Page<T>, BackendError>>,
) -> (Vec<T>, usize) {
    let pages: Vec<Page<T>> = pages.map(|page| page.unwrap()).collect::<Vec<_>>().await;
    let count = pages.len();
    assert!(!pages.last().unwrap().has_more, "the last page says more");
    (pages.into_iter().flat_map(|p| p.data).collect(), count)
}

#[tokio::test]
async fn a_user_is_created_read_listed_updated_and_deleted() {
    let (_local, wacht) = start();
    let backend = wacht.backend();
    let users = backend.users();

    let form = UsersCreateForm::new("Grace", "Hopper")
        .email_address("grace@navy.example")
        .username("ghopper")
        .phone_number("+15550100")
        .password("cobol-1959");
    let created = users.create(&form).await.unwrap();
    assert_eq!(created.first_name, "Grace");
    assert_eq!(created.last_name, "Hopper");
    assert_eq!(created.username.as_deref(), Some("ghopper"));
    assert_eq!(
        created.primary_email_address.as_deref(),
        Some("grace@navy.example")
    );
    assert_eq!(created.primary_phone_number.as_deref(), Some("+15550100"));
    assert!(!created.id.is_empty());

    // The same username again: a typed conflict.
    let again = users
        .create(&UsersCreateForm::new("Other", "Person").username("ghopper"))
        .await
        .unwrap_err();
    assert_eq!(status_of(&again).0, StatusCode::CONFLICT);

    let details = users.get(&created.id).await.unwrap();
    assert_eq!(details.id, created.id);
    assert_eq!(details.first_name, "Grace");
    assert_eq!(details.username.as_deref(), Some("ghopper"));
    assert!(details.has_password);
    assert!(!details.disabled);
    assert_eq!(details.email_addresses.len(), 1);
    assert_eq!(details.email_addresses[0].email, "grace@navy.example");
    assert!(details.email_addresses[0].is_primary);
    assert_eq!(
        details.primary_email_address_id.as_deref(),
        Some(details.email_addresses[0].id.as_str())
    );
    assert_eq!(details.phone_numbers.len(), 1);
    assert_eq!(details.phone_numbers[0].phone_number, "+15550100");
    assert_eq!(details.public_metadata, json!({}));

    let listed = users
        .list(UsersListQuery::new().search("hopper"))
        .await
        .unwrap();
    let ids: Vec<&str> = listed.data.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, [created.id.as_str()]);
    assert_eq!(listed.data[0], created);

    let update = UsersUpdateForm::new()
        .first_name("Amazing Grace")
        .public_metadata(json!({ "rank": "rear admiral" }))
        .disabled(true);
    let updated = users.update(&created.id, &update).await.unwrap();
    assert_eq!(updated.first_name, "Amazing Grace");
    assert_eq!(updated.last_name, "Hopper");
    assert_eq!(updated.public_metadata, json!({ "rank": "rear admiral" }));
    assert!(updated.disabled);
    assert_eq!(users.get(&created.id).await.unwrap(), updated);

    users.delete(&created.id).await.unwrap();
    let gone = users.get(&created.id).await.unwrap_err();
    assert_eq!(
        status_of(&gone),
        (StatusCode::NOT_FOUND, "user not found", Some("404"))
    );
    assert_eq!(gone.reason(), "backend_status");
    let listed = users
        .list(UsersListQuery::new().search("hopper"))
        .await
        .unwrap();
    assert!(listed.data.is_empty());
    let twice = users.delete(&created.id).await.unwrap_err();
    assert_eq!(status_of(&twice).0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn organizations_are_created_searched_updated_and_deleted_with_their_workspaces() {
    let (_local, wacht) = start();
    let backend = wacht.backend();
    let organizations = backend.organizations();

    let form = OrganizationsCreateForm::new()
        .name("Acme Rockets")
        .description("we go up")
        .public_metadata(json!({ "tier": "gold" }));
    let acme = organizations.create(&form).await.unwrap();
    assert_eq!(acme.name, "Acme Rockets");
    assert_eq!(acme.description, "we go up");
    assert_eq!(acme.public_metadata, json!({ "tier": "gold" }));
    assert_eq!(acme.member_count, 0);
    let zeta = organization(&wacht, "Zeta Labs").await;

    let details = organizations.get(&acme.id).await.unwrap();
    assert_eq!(details.id, acme.id);
    assert_eq!(details.name, "Acme Rockets");
    let roles: Vec<&str> = details.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(roles, ["admin", "member"]);
    assert!(details.workspaces.is_empty());

    let found = organizations
        .list(OrganizationsListQuery::new().search("acme"))
        .await
        .unwrap();
    assert_eq!(found.data, std::slice::from_ref(&acme));
    let all = organizations
        .list(OrganizationsListQuery::new())
        .await
        .unwrap();
    let ids: Vec<&str> = all.data.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, [acme.id.as_str(), zeta.as_str()]);

    let update = OrganizationsUpdateForm::new().name("Acme Space");
    let renamed = organizations.update(&acme.id, &update).await.unwrap();
    assert_eq!(renamed.name, "Acme Space");
    assert_eq!(renamed.description, "we go up", "untouched fields stay");
    assert_eq!(
        organizations.get(&acme.id).await.unwrap().name,
        "Acme Space"
    );

    let workspace = organizations
        .create_workspace(
            &acme.id,
            &OrganizationsCreateWorkspaceForm::new().name("Launch"),
        )
        .await
        .unwrap();
    let details = organizations.get(&acme.id).await.unwrap();
    let workspaces: Vec<&str> = details.workspaces.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(workspaces, [workspace.id.as_str()]);

    organizations.delete(&acme.id).await.unwrap();
    let gone = organizations.get(&acme.id).await.unwrap_err();
    assert_eq!(
        status_of(&gone),
        (StatusCode::NOT_FOUND, "organization not found", Some("404"))
    );
    // The cascade: its workspace went with it.
    let gone = wacht
        .backend()
        .workspaces()
        .get(&workspace.id)
        .await
        .unwrap_err();
    assert_eq!(
        status_of(&gone),
        (StatusCode::NOT_FOUND, "workspace not found", Some("404"))
    );
    let left = wacht
        .backend()
        .workspaces()
        .list(WorkspacesListQuery::new())
        .await
        .unwrap();
    assert!(left.data.is_empty());
    let left = organizations
        .list(OrganizationsListQuery::new())
        .await
        .unwrap();
    let ids: Vec<&str> = left.data.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, [zeta.as_str()]);
}

#[tokio::test]
async fn a_membership_is_added_updated_given_roles_and_removed() {
    let (local, wacht) = start();
    let org = organization(&wacht, "Members Inc").await;
    let member_role = organization_role(&wacht, &org, "member").await;
    let admin_role = organization_role(&wacht, &org, "admin").await;
    let user = local.users()[2].clone();
    let backend = wacht.backend();
    let members = backend.organizations().members(&org);

    let added = members
        .add(&AddOrganizationMemberRequest::new(
            vec![member_role.clone()],
            &user.id,
        ))
        .await
        .unwrap();
    assert_eq!(added.user_id, user.id);
    assert_eq!(added.organization_id, org);
    assert_eq!(added.first_name, user.first_name);
    assert_eq!(added.primary_email_address, user.primary_email_address);
    let roles: Vec<&str> = added.roles.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(roles, [member_role.as_str()]);

    // Twice: a typed 409 with the service's message.
    let twice = members
        .add(&AddOrganizationMemberRequest::new(vec![], &user.id))
        .await
        .unwrap_err();
    let (status, message, code) = status_of(&twice);
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        message,
        format!("user {} is already a member of this organization", user.id)
    );
    assert_eq!(code, Some("409"));

    let listed = members
        .list(OrganizationsMembersListQuery::new())
        .await
        .unwrap();
    assert_eq!(listed.data, std::slice::from_ref(&added));
    let org_details = wacht.backend().organizations().get(&org).await.unwrap();
    assert_eq!(org_details.member_count, 1);

    let update = UpdateOrganizationMemberRequest::new().public_metadata(json!({ "team": "ops" }));
    members.update(&added.id, &update).await.unwrap();
    members.add_role(&added.id, &admin_role).await.unwrap();
    let listed = members
        .list(OrganizationsMembersListQuery::new())
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].public_metadata, json!({ "team": "ops" }));
    let roles: Vec<&str> = listed.data[0]
        .roles
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(roles, ["member", "admin"]);

    members.remove_role(&added.id, &member_role).await.unwrap();
    let listed = members
        .list(OrganizationsMembersListQuery::new())
        .await
        .unwrap();
    let roles: Vec<&str> = listed.data[0]
        .roles
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(roles, ["admin"]);

    members.remove(&added.id).await.unwrap();
    let listed = members
        .list(OrganizationsMembersListQuery::new())
        .await
        .unwrap();
    assert!(listed.data.is_empty());
    let again = members.remove(&added.id).await.unwrap_err();
    assert_eq!(
        status_of(&again),
        (StatusCode::NOT_FOUND, "membership not found", Some("404"))
    );
}

#[tokio::test]
async fn a_workspace_is_created_for_an_organization_read_listed_updated_and_deleted() {
    let (local, wacht) = start();
    let org = organization(&wacht, "Parent Org").await;
    let form = OrganizationsCreateWorkspaceForm::new()
        .name("Platform")
        .description("the platform team");
    let workspace = wacht
        .backend()
        .organizations()
        .create_workspace(&org, &form)
        .await
        .unwrap();
    assert_eq!(workspace.name, "Platform");
    assert_eq!(workspace.description, "the platform team");
    let backend = wacht.backend();
    let workspaces = backend.workspaces();

    let details = workspaces.get(&workspace.id).await.unwrap();
    assert_eq!(details.id, workspace.id);
    assert_eq!(details.organization_id, org);
    assert_eq!(details.organization_name, "Parent Org");
    let roles: Vec<&str> = details.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(roles, ["admin", "member"]);

    let listed = workspaces
        .list(WorkspacesListQuery::new().search("platf"))
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].id, workspace.id);
    assert_eq!(listed.data[0].organization_name, "Parent Org");

    let update = WorkspacesUpdateForm::new().name("Platform Team");
    let renamed = workspaces.update(&workspace.id, &update).await.unwrap();
    assert_eq!(renamed.name, "Platform Team");
    assert_eq!(renamed.description, "the platform team");
    assert_eq!(
        workspaces.get(&workspace.id).await.unwrap().name,
        "Platform Team"
    );

    let member_role = details
        .roles
        .iter()
        .find(|r| r.name == "member")
        .unwrap()
        .id
        .clone();
    let user = local.users()[4].clone();
    let members = workspaces.members(&workspace.id);
    let added = members
        .add(&AddWorkspaceMemberRequest::new(
            vec![member_role.clone()],
            &user.id,
        ))
        .await
        .unwrap();
    assert_eq!(added.workspace_id, workspace.id);
    assert_eq!(added.user_id, user.id);
    assert_eq!(added.last_name, user.last_name);
    let roles: Vec<&str> = added.roles.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(roles, [member_role.as_str()]);
    let listed = members
        .list(WorkspacesMembersListQuery::new())
        .await
        .unwrap();
    assert_eq!(listed.data, std::slice::from_ref(&added));

    members.remove(&added.id).await.unwrap();
    let listed = members
        .list(WorkspacesMembersListQuery::new())
        .await
        .unwrap();
    assert!(listed.data.is_empty());

    workspaces.delete(&workspace.id).await.unwrap();
    let gone = workspaces.get(&workspace.id).await.unwrap_err();
    assert_eq!(
        status_of(&gone),
        (StatusCode::NOT_FOUND, "workspace not found", Some("404"))
    );
    let org_details = wacht.backend().organizations().get(&org).await.unwrap();
    assert!(org_details.workspaces.is_empty());
}

#[tokio::test]
async fn page_streams_yield_every_item_once_and_stop() {
    let (local, wacht) = start();
    let backend = wacht.backend();

    // 25 seeded users, 4 a page: 7 pages, one request each, then nothing more.
    let (users, pages) = drain(backend.users().list_pages(UsersListQuery::new().limit(4))).await;
    let ids: Vec<String> = users.into_iter().map(|u| u.id).collect();
    let seeded: Vec<String> = local.users().into_iter().map(|u| u.id).collect();
    assert_eq!(seeded.len(), 25);
    assert_eq!(ids, seeded);
    assert_eq!(pages, 7);
    let offsets: Vec<String> = (0..7)
        .map(|p| format!("offset={}&limit=4", p * 4))
        .collect();
    assert_eq!(local.backend_requests(), offsets);

    // 7 organizations, 3 a page: every one once, in creation order.
    let mut created = Vec::new();
    for n in 0..7 {
        created.push(organization(&wacht, &format!("Paged {n}")).await);
    }
    let before = local.backend_calls().len();
    let (orgs, pages) = drain(
        backend
            .organizations()
            .list_pages(OrganizationsListQuery::new().limit(3)),
    )
    .await;
    let ids: Vec<String> = orgs.into_iter().map(|o| o.id).collect();
    assert_eq!(ids, created);
    assert_eq!(pages, 3);
    assert_eq!(local.backend_calls().len() - before, 3);

    // 5 members of one organization, 2 a page; the stream starts at the query's offset.
    let org = &created[0];
    let role = organization_role(&wacht, org, "member").await;
    let members = backend.organizations().members(org);
    let mut added = Vec::new();
    for user in local.users().iter().take(5) {
        let request = AddOrganizationMemberRequest::new(vec![role.clone()], &user.id);
        added.push(members.add(&request).await.unwrap().id);
    }
    let (listed, pages) =
        drain(members.list_pages(OrganizationsMembersListQuery::new().limit(2))).await;
    let ids: Vec<String> = listed.into_iter().map(|m| m.id).collect();
    assert_eq!(ids, added);
    assert_eq!(pages, 3);
    let (listed, pages) =
        drain(members.list_pages(OrganizationsMembersListQuery::new().limit(2).offset(3))).await;
    let ids: Vec<String> = listed.into_iter().map(|m| m.id).collect();
    assert_eq!(ids, added[3..]);
    assert_eq!(pages, 1);
}

#[tokio::test]
async fn an_open_enum_sort_order_reaches_the_server() {
    let (local, wacht) = start();
    let backend = wacht.backend();
    let users = backend.users();
    let desc = SortOrder::from("desc");
    assert_eq!(desc, SortOrder::Desc);

    let ascending = users
        .list(UsersListQuery::new().limit(100).sort_key("first_name"))
        .await
        .unwrap();
    let descending = users
        .list(
            UsersListQuery::new()
                .limit(100)
                .sort_key("first_name")
                .sort_order(desc),
        )
        .await
        .unwrap();
    let up: Vec<&str> = ascending.data.iter().map(|u| u.id.as_str()).collect();
    let mut down: Vec<&str> = descending.data.iter().map(|u| u.id.as_str()).collect();
    down.reverse();
    assert_eq!(up.len(), 25);
    assert_eq!(up, down);
    assert_eq!(
        local.backend_requests()[1],
        "sort_key=first_name&sort_order=desc&limit=100"
    );

    // A value the client does not know is still sent as written; the service judges it.
    let unknown = SortOrder::from("sideways");
    assert_eq!(unknown, SortOrder::Unknown("sideways".into()));
    let error = users
        .list(UsersListQuery::new().sort_order(unknown))
        .await
        .unwrap_err();
    assert_eq!(status_of(&error).0, StatusCode::BAD_REQUEST);
    assert!(error.body().unwrap().message().contains("sideways"));
    assert_eq!(local.backend_requests()[2], "sort_order=sideways");
}

#[tokio::test]
async fn without_an_api_key_a_post_sends_nothing() {
    let local = LocalWacht::start().unwrap();
    let config = WachtConfig::builder()
        .publishable_key(local.publishable_key())
        .backend_api_url(local.url())
        .build()
        .unwrap();
    let wacht = Wacht::new(config).unwrap();
    let error = wacht
        .backend()
        .organizations()
        .create(&OrganizationsCreateForm::new().name("Keyless"))
        .await
        .unwrap_err();
    assert_eq!(error, BackendError::MissingApiKey);
    let error = wacht
        .backend()
        .organizations()
        .members("319000000000000001")
        .add(&AddOrganizationMemberRequest::new(
            vec![],
            "318000000000000001",
        ))
        .await
        .unwrap_err();
    assert_eq!(error, BackendError::MissingApiKey);
    assert!(local.backend_calls().is_empty());
    assert_eq!(local.requests(), 0);
}

#[tokio::test]
async fn ids_are_sent_inside_one_segment_and_dot_ids_are_refused() {
    let (local, wacht) = start();
    let backend = wacht.backend();

    // `/` and `?` are escaped: the path keeps its shape and the id finds nobody.
    let error = backend.users().get("318/x?y=1").await.unwrap_err();
    assert_eq!(
        status_of(&error),
        (StatusCode::NOT_FOUND, "user not found", Some("404"))
    );
    let error = backend
        .organizations()
        .members("a/b")
        .remove("c?d#e")
        .await
        .unwrap_err();
    assert_eq!(status_of(&error).0, StatusCode::NOT_FOUND);
    assert_eq!(
        local.backend_calls(),
        [
            BackendCall {
                method: "GET".into(),
                path: "/users/318%2Fx%3Fy%3D1/details".into(),
                query: String::new(),
            },
            BackendCall {
                method: "DELETE".into(),
                path: "/organizations/a%2Fb/members/c%3Fd%23e".into(),
                query: String::new(),
            },
        ]
    );

    // `..` (a real user's id after it would be `/users/<id>`): refused, nothing sent.
    let error = backend.users().delete("..").await.unwrap_err();
    assert!(
        matches!(error, BackendError::InvalidRequest(_)),
        "{error:?}"
    );
    assert_eq!(error.reason(), "backend_invalid_request");
    let error = backend
        .organizations()
        .members("..")
        .list(OrganizationsMembersListQuery::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, BackendError::InvalidRequest(_)),
        "{error:?}"
    );
    let error = backend.workspaces().get(".").await.unwrap_err();
    assert!(
        matches!(error, BackendError::InvalidRequest(_)),
        "{error:?}"
    );
    assert_eq!(local.backend_calls().len(), 2, "nothing more was sent");
}

#[tokio::test]
async fn the_example_runs_on_the_emulator() {
    let (local, wacht) = start();
    let tour = example::tour(&wacht).await.unwrap();
    let seeded = local.users();
    let ids: Vec<&str> = tour.users.data.iter().map(|u| u.id.as_str()).collect();
    let first: Vec<&str> = seeded.iter().take(5).map(|u| u.id.as_str()).collect();
    assert_eq!(ids, first);
    assert_eq!(tour.users.total, Some(25));
    assert_eq!(tour.organization.name, "Example Co");
    assert_eq!(tour.membership.organization_id, tour.organization.id);
    assert_eq!(tour.membership.user_id, seeded[0].id);
    let roles: Vec<&str> = tour
        .membership
        .roles
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(roles, ["member"]);

    // Each step reached the service, in order, and the organization is gone.
    let org = &tour.organization.id;
    let calls: Vec<(String, String)> = local
        .backend_calls()
        .into_iter()
        .map(|c| (c.method, c.path))
        .collect();
    let expected = [
        ("GET", "/users".to_owned()),
        ("POST", "/organizations".to_owned()),
        ("GET", format!("/organizations/{org}/roles")),
        ("POST", format!("/organizations/{org}/members")),
        ("GET", format!("/organizations/{org}/members")),
        ("DELETE", format!("/organizations/{org}")),
    ]
    .map(|(method, path)| (method.to_owned(), path));
    assert_eq!(calls, expected);
    let gone = wacht.backend().organizations().get(org).await.unwrap_err();
    assert_eq!(status_of(&gone).0, StatusCode::NOT_FOUND);
}

/// Handles can be kept in variables and their futures spawned: they own a clone of the client
/// and the request is built when the method is called (the arguments are not borrowed by the
/// future).
#[tokio::test]
async fn handles_are_kept_and_futures_spawned() {
    let (local, wacht) = start();
    let users = wacht.backend().users(); // the client is a temporary: the handle owns a clone
    let ids: Vec<String> = local.users().iter().take(3).map(|u| u.id.clone()).collect();
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| tokio::spawn(users.get(id.as_str())))
        .collect();
    drop(users);
    for (task, id) in tasks.into_iter().zip(&ids) {
        let details = task.await.unwrap().unwrap();
        assert_eq!(&details.id, id);
    }
    assert_eq!(local.backend_calls().len(), 3);
}
