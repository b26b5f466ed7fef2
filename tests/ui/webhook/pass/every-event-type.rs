//! Every event type Wacht sends today passes the typo check.
use http::{Request, Response};

#[wacht::webhook(events = [
    "user.created", "user.updated", "user.deleted", "user.email.added", "user.email.removed",
    "user.email.verified", "user.phone.added", "user.phone.removed", "user.phone.verified",
    "user.password.updated", "user.mfa.enabled", "user.mfa.disabled", "session.created",
    "session.deleted", "session.expired", "organization.created", "organization.updated",
    "organization.deleted", "organization.member.added", "organization.member.removed",
    "organization.member.role.updated", "organization.invitation.created",
    "organization.invitation.accepted", "organization.invitation.revoked", "workspace.created",
    "workspace.updated", "workspace.deleted", "workspace.member.added",
    "workspace.member.removed", "workspace.member.role.updated", "workspace.invitation.created",
    "workspace.invitation.accepted", "workspace.invitation.revoked", "api_key.created",
    "api_key.deleted", "api_key.rotated", "agent.created", "agent.updated", "agent.deleted",
    "agent.execution.started", "agent.execution.completed", "agent.execution.failed",
    "agent.model.usage", "agent.thread.message", "agent.thread.platform_event",
    "waitlist.entry.created", "waitlist.entry.approved",
])]
async fn everything(_req: Request<String>) -> Response<String> {
    Response::new(String::new())
}

fn main() {
    let _ = everything;
}
