//! The events Wacht sends today, typed ([`WachtEvent`]), and the names of their types.
//!
//! Read from Wacht's documentation of deployment events and its platform source. The
//! payloads are lenient: every field but the type is optional, ids are read from strings or
//! numbers (the platform sends `entity_id` as a number, the documentation shows strings), and
//! fields not listed here are kept in `extra`.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// An id in a payload, from a JSON string or integer, kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityId(pub String);

impl EntityId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EntityId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EntityId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Signed(i64),
            Unsigned(u64),
        }
        Ok(EntityId(match Raw::deserialize(deserializer)? {
            Raw::Text(text) => text,
            Raw::Signed(number) => number.to_string(),
            Raw::Unsigned(number) => number.to_string(),
        }))
    }
}

/// The entity an event is about: every event of Wacht's deployments carries these two.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct EntityRef {
    /// The entity's id.
    pub entity_id: Option<EntityId>,
    /// `user`, `user_email`, `organization_membership`, …
    pub entity_type: Option<String>,
    /// Every other member of `data`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `user.created`, `user.updated`, `user.deleted`: the user (fewer fields on `deleted`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct UserPayload {
    /// The user's id, as `entity_id` (and `id`).
    pub entity_id: Option<EntityId>,
    /// The user's id.
    pub id: Option<EntityId>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// The primary email address.
    pub primary_email_address: Option<String>,
    /// The primary phone number.
    pub primary_phone_number: Option<String>,
    /// Whether the user is disabled.
    pub disabled: Option<bool>,
    /// Public metadata.
    pub public_metadata: Option<Value>,
    /// Private metadata.
    pub private_metadata: Option<Value>,
    /// Every other member of `data` (`email_addresses`, `segments`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UserPayload {
    /// The user's id: `id`, else `entity_id`.
    pub fn user_id(&self) -> Option<&str> {
        self.id
            .as_ref()
            .or(self.entity_id.as_ref())
            .map(EntityId::as_str)
    }
}

/// `session.created`, `session.deleted`, `session.expired`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct SessionPayload {
    /// The session's id, as `entity_id` (and `id`).
    pub entity_id: Option<EntityId>,
    /// The session's id.
    pub id: Option<EntityId>,
    /// The active sign-in.
    pub active_signin_id: Option<EntityId>,
    /// Every other member of `data`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `organization.created`, `organization.updated`, `organization.deleted`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct OrganizationPayload {
    /// The organization's id, as `entity_id` (and `id`).
    pub entity_id: Option<EntityId>,
    /// The organization's id.
    pub id: Option<EntityId>,
    /// Its name.
    pub name: Option<String>,
    /// Public metadata.
    pub public_metadata: Option<Value>,
    /// Private metadata.
    pub private_metadata: Option<Value>,
    /// Every other member of `data`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `workspace.created`, `workspace.updated`, `workspace.deleted`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct WorkspacePayload {
    /// The workspace's id, as `entity_id` (and `id`).
    pub entity_id: Option<EntityId>,
    /// The workspace's id.
    pub id: Option<EntityId>,
    /// Its name.
    pub name: Option<String>,
    /// The organization it belongs to.
    pub organization_id: Option<EntityId>,
    /// Public metadata.
    pub public_metadata: Option<Value>,
    /// Private metadata.
    pub private_metadata: Option<Value>,
    /// Every other member of `data`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `agent.model.usage`: tokens an agent's model call used.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ModelUsagePayload {
    /// The model.
    pub model: Option<String>,
    /// Whether the deployment brought its own key.
    pub is_byok: Option<bool>,
    /// Input tokens.
    pub input_tokens: Option<u64>,
    /// Cached input tokens.
    pub cached_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// Every other member of `data`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `agent.thread.message`, `agent.thread.platform_event`: a message of an agent thread.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct AgentThreadPayload {
    /// The thread.
    pub thread_id: Option<EntityId>,
    /// `conversation_message` or `platform_event`.
    pub message_type: Option<String>,
    /// The message (its subtype in `data.message_type`).
    pub data: Option<Value>,
    /// Every other member of `data`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Declares [`WachtEvent`] and [`EVENT_TYPES`] from one table.
macro_rules! events {
    ($($variant:ident => $name:literal, $payload:ty;)*) => {
        /// The type names of the events Wacht sends today, as in the envelope's `type`.
        pub const EVENT_TYPES: &[&str] = &[$($name,)*];

        /// A Wacht event, typed by its `type`. Unknown types (new ones, your own app's) are
        /// [`WachtEvent::Other`], never an error.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum WachtEvent {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant($payload),
            )*
            /// Any other type, with its `data` as JSON.
            Other {
                /// The envelope's `type`.
                event_type: String,
                /// The envelope's `data`.
                data: Value,
            },
        }

        impl WachtEvent {
            /// Reads `data` (JSON text) as the payload of `event_type`.
            pub(crate) fn parse(event_type: &str, data: &[u8]) -> Result<Self, serde_json::Error> {
                Ok(match event_type {
                    $($name => WachtEvent::$variant(serde_json::from_slice(data)?),)*
                    _ => WachtEvent::Other {
                        event_type: event_type.to_owned(),
                        data: serde_json::from_slice(data)?,
                    },
                })
            }

            /// The event's type name.
            pub fn event_type(&self) -> &str {
                match self {
                    $(WachtEvent::$variant(_) => $name,)*
                    WachtEvent::Other { event_type, .. } => event_type,
                }
            }
        }
    };
}

events! {
    UserCreated => "user.created", UserPayload;
    UserUpdated => "user.updated", UserPayload;
    UserDeleted => "user.deleted", UserPayload;
    UserEmailAdded => "user.email.added", EntityRef;
    UserEmailRemoved => "user.email.removed", EntityRef;
    UserEmailVerified => "user.email.verified", EntityRef;
    UserPhoneAdded => "user.phone.added", EntityRef;
    UserPhoneRemoved => "user.phone.removed", EntityRef;
    UserPhoneVerified => "user.phone.verified", EntityRef;
    UserPasswordUpdated => "user.password.updated", EntityRef;
    UserMfaEnabled => "user.mfa.enabled", EntityRef;
    UserMfaDisabled => "user.mfa.disabled", EntityRef;
    SessionCreated => "session.created", SessionPayload;
    SessionDeleted => "session.deleted", SessionPayload;
    SessionExpired => "session.expired", SessionPayload;
    OrganizationCreated => "organization.created", OrganizationPayload;
    OrganizationUpdated => "organization.updated", OrganizationPayload;
    OrganizationDeleted => "organization.deleted", OrganizationPayload;
    OrganizationMemberAdded => "organization.member.added", EntityRef;
    OrganizationMemberRemoved => "organization.member.removed", EntityRef;
    OrganizationMemberRoleUpdated => "organization.member.role.updated", EntityRef;
    OrganizationInvitationCreated => "organization.invitation.created", EntityRef;
    OrganizationInvitationAccepted => "organization.invitation.accepted", EntityRef;
    OrganizationInvitationRevoked => "organization.invitation.revoked", EntityRef;
    WorkspaceCreated => "workspace.created", WorkspacePayload;
    WorkspaceUpdated => "workspace.updated", WorkspacePayload;
    WorkspaceDeleted => "workspace.deleted", WorkspacePayload;
    WorkspaceMemberAdded => "workspace.member.added", EntityRef;
    WorkspaceMemberRemoved => "workspace.member.removed", EntityRef;
    WorkspaceMemberRoleUpdated => "workspace.member.role.updated", EntityRef;
    WorkspaceInvitationCreated => "workspace.invitation.created", EntityRef;
    WorkspaceInvitationAccepted => "workspace.invitation.accepted", EntityRef;
    WorkspaceInvitationRevoked => "workspace.invitation.revoked", EntityRef;
    ApiKeyCreated => "api_key.created", EntityRef;
    ApiKeyDeleted => "api_key.deleted", EntityRef;
    ApiKeyRotated => "api_key.rotated", EntityRef;
    AgentCreated => "agent.created", EntityRef;
    AgentUpdated => "agent.updated", EntityRef;
    AgentDeleted => "agent.deleted", EntityRef;
    AgentExecutionStarted => "agent.execution.started", EntityRef;
    AgentExecutionCompleted => "agent.execution.completed", EntityRef;
    AgentExecutionFailed => "agent.execution.failed", EntityRef;
    AgentModelUsage => "agent.model.usage", ModelUsagePayload;
    AgentThreadMessage => "agent.thread.message", AgentThreadPayload;
    AgentThreadPlatformEvent => "agent.thread.platform_event", AgentThreadPayload;
    WaitlistEntryCreated => "waitlist.entry.created", EntityRef;
    WaitlistEntryApproved => "waitlist.entry.approved", EntityRef;
}
