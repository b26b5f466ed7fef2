//! Wacht's platform (backend) API, typed and generated from Wacht's OpenAPI description.
//!
//! Every operation of the description is a method, grouped by resource:
//!
//! ```no_run
//! # async fn run(backend: wacht_backend::Backend) -> Result<(), wacht_backend::Error> {
//! use wacht_backend::types::{AddOrganizationMemberRequest, UsersListQuery};
//! # let org_id = "318000000000000101";
//! let page = backend.users().list(UsersListQuery::new().limit(20).search("ada")).await?;
//! let user = backend.users().get(&page.data[0].id).await?;
//! let member = backend
//!     .organizations()
//!     .members(org_id)
//!     .add(&AddOrganizationMemberRequest::new(vec![], &user.id))
//!     .await?;
//! let members = backend.organizations().members(org_id).list(Default::default()).await?;
//! # let _ = (member, members); Ok(()) }
//! ```
//!
//! This crate holds the operations and their types; it sends nothing itself. A
//! [`Transport`] does: users get one from the `wacht` crate (`Wacht::backend()`, feature
//! `backend`), which sends the API key as a bearer token, reads answers with a cap and no
//! redirects, honours deadlines and retries idempotent calls on `429`/`503`.
//!
//! The code under `generated` is written by `cargo xtask codegen` from the description pinned
//! in `spec/` (see `spec/SOURCE`); do not edit it by hand.

mod client;
mod error;
#[path = "generated/mod.rs"]
mod generated;
mod open_enum;
mod page;
mod transport;

pub use client::{Backend, form_body, form_text, json_body, segment};
pub use error::{Error, ErrorBody};
pub use generated::types;
pub use generated::*;
pub use page::{CursorPage, Page, cursor_pages, offset_pages};
pub use transport::{Body, Call, File, Form, Reply, Transport};

/// A JSON error described without the offending value: serde's messages quote it
/// (`invalid type: string "…"`), and the value may be a reflected secret.
pub(crate) fn json_error(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "an I/O error",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "JSON of the wrong shape",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    format!("{kind} (line {}, column {})", error.line(), error.column())
}
