//! Where the description disagrees with the platform's source (`wacht-platform/platform`),
//! the source wins. Each fix checks the description still says what it corrects, so an
//! upstream change is noticed instead of silently overwritten.
//!
//! Not fixed here, but in the emitter: the offset-paginated lists, described as
//! `{data, total, offset, limit}` while the platform sends `{data, has_more, limit?, offset?}`
//! (no `total`), decode as `wacht_backend::Page`, which reads both.

use serde_json::{Value, json};

use crate::Result;

/// Enums whose wire values the description spells as the Rust variant names (`Asc`), while
/// the platform reads and writes snake case (`asc`): the script that writes the description
/// misses `#[serde(rename_all = "snake_case")]` on these.
const ENUM_WIRE_VALUES: &[(&str, &[&str], &[&str])] = &[
    ("SortOrder", &["Asc", "Desc"], &["asc", "desc"]),
    (
        "ActiveUserListSortKey",
        &["CreatedAt", "Username", "Email", "PhoneNumber"],
        &["created_at", "username", "email", "phone_number"],
    ),
    (
        "InvitationsWaitlistSortKey",
        &["CreatedAt", "Email"],
        &["created_at", "email"],
    ),
    (
        "NotificationSeverity",
        &["Info", "Success", "Warning", "Error"],
        &["info", "success", "warning", "error"],
    ),
    (
        "DeploymentRestrictionsSignUpMode",
        &["Public", "Restricted", "Waitlist"],
        &["public", "restricted", "waitlist"],
    ),
];

pub fn apply(document: &mut Value) -> Result<()> {
    let schemas = document["components"]["schemas"]
        .as_object_mut()
        .ok_or("no components.schemas")?;
    for (name, described, wire) in ENUM_WIRE_VALUES {
        let schema = schemas
            .get_mut(*name)
            .ok_or_else(|| format!("fix for {name}: the schema is gone"))?;
        if schema["enum"] != json!(described) {
            return Err(format!(
                "fix for {name}: the description now says {}; review the fix",
                schema["enum"]
            ));
        }
        schema["enum"] = json!(wire);
    }
    // `ReplayWebhookDeliveryRequest` is an untagged Rust enum of two bodies on the platform
    // (replay these deliveries / replay a time range); the description renders it as the
    // variant names.
    let replay = schemas
        .get_mut("ReplayWebhookDeliveryRequest")
        .ok_or("fix for ReplayWebhookDeliveryRequest: the schema is gone")?;
    if replay["enum"] != json!(["ByIds", "ByDateRange"]) {
        return Err(format!(
            "fix for ReplayWebhookDeliveryRequest: the description now says {replay}"
        ));
    }
    *replay = json!({
        "oneOf": [
            {
                "title": "ReplayWebhookDeliveriesByIds",
                "type": "object",
                "properties": {
                    "delivery_ids": {"type": "array", "items": {"type": "string"}},
                    "idempotency_key": {"type": "string", "nullable": true}
                },
                "required": ["delivery_ids"]
            },
            {
                "title": "ReplayWebhookDeliveriesByDateRange",
                "type": "object",
                "properties": {
                    "start_date": {"type": "string"},
                    "end_date": {"type": "string", "nullable": true},
                    "idempotency_key": {"type": "string", "nullable": true}
                },
                "required": ["start_date"]
            }
        ]
    });
    Ok(())
}
