//! The backend API client on the built-in local Wacht: no account, no network.
//!
//! ```text
//! cargo run --example backend
//! ```
//!
//! It starts the local Wacht (an emulator of Wacht's platform API on 127.0.0.1, with 25
//! seeded users), then, through `Wacht::backend()`: lists the first page of users, creates an
//! organization, adds one of those users to it with the organization's `member` role, reads
//! the membership back from the members list, and deletes the organization. It exits non-zero
//! when any call fails. Against a real deployment the same calls need only
//! `WACHT_PUBLISHABLE_KEY` and `WACHT_API_KEY` (and `Wacht::from_env()`).
#![allow(clippy::print_stdout)]

use std::error::Error;

use wacht::Wacht;
use wacht::backend_api::Page;
use wacht::backend_api::types::{
    AddOrganizationMemberRequest, Organization, OrganizationMemberDetails, OrganizationsCreateForm,
    OrganizationsMembersListQuery, UserWithIdentifiers, UsersListQuery,
};

/// Any failure of the tour: a backend call's `wacht::BackendError`, or an answer that is not
/// what the tour expects.
pub type TourError = Box<dyn Error + Send + Sync>;

/// What [`tour`] did, for printing (and for `tests/backend_api.rs`, which runs it too).
pub struct Tour {
    /// The first page of users (`limit` 5).
    pub users: Page<UserWithIdentifiers>,
    /// The organization created (already deleted when `tour` returns).
    pub organization: Organization,
    /// The membership as read back from the organization's members list.
    pub membership: OrganizationMemberDetails,
}

/// The example's steps, against whatever backend `wacht` points at.
pub async fn tour(wacht: &Wacht) -> Result<Tour, TourError> {
    let backend = wacht.backend();

    // One page of users: the first five, with the total when the service sends it.
    let users = backend.users().list(UsersListQuery::new().limit(5)).await?;

    // An organization: it comes with two roles, `admin` and `member`.
    let organization = backend
        .organizations()
        .create(
            &OrganizationsCreateForm::new()
                .name("Example Co")
                .description("made by examples/backend.rs"),
        )
        .await?;
    let roles = backend
        .organizations()
        .roles(&organization.id)
        .list()
        .await?;
    let member_role = roles
        .data
        .iter()
        .find(|role| role.name == "member")
        .map(|role| role.id.clone())
        .ok_or("the new organization has no `member` role")?;

    // An existing user joins it as a `member`.
    let user = users.data.first().ok_or("the backend lists no users")?;
    let members = backend.organizations().members(&organization.id);
    let added = members
        .add(&AddOrganizationMemberRequest::new(
            vec![member_role],
            &user.id,
        ))
        .await?;

    // The membership, read back from the members list.
    let listed = members.list(OrganizationsMembersListQuery::new()).await?;
    let membership = listed
        .data
        .into_iter()
        .find(|m| m.id == added.id)
        .ok_or("the new membership is not in the members list")?;

    // Deleting the organization ends its memberships too.
    backend.organizations().delete(&organization.id).await?;

    Ok(Tour {
        users,
        organization,
        membership,
    })
}

#[tokio::main]
async fn main() -> Result<(), TourError> {
    let local = wacht::testing::LocalWacht::start()?;
    let wacht = Wacht::new(local.config())?;
    println!("local Wacht: {}\n", local.url());

    let Tour {
        users,
        organization,
        membership,
    } = tour(&wacht).await?;

    let total = users.total.map_or("?".to_owned(), |t| t.to_string());
    println!("users (first {} of {total}):", users.data.len());
    for user in users.data.iter().take(3) {
        let email = user.primary_email_address.as_deref().unwrap_or("-");
        println!(
            "  {}  {} {}  <{email}>",
            user.id, user.first_name, user.last_name
        );
    }
    println!(
        "\ncreated organization {} ({})",
        organization.name, organization.id
    );
    let roles: Vec<&str> = membership.roles.iter().map(|r| r.name.as_str()).collect();
    println!(
        "membership {}: {} {} ({}) as {roles:?}",
        membership.id, membership.first_name, membership.last_name, membership.user_id
    );
    println!("deleted organization {}", organization.id);
    Ok(())
}
