//! Types holding a credential (a password, an API key, a client or signing secret) print `***`
//! for it in `Debug`, so a body or an answer logged with `{:?}` carries none into the logs;
//! their other fields still show.

use wacht_backend::types::{ApiKeyWithSecret, UpdatePasswordRequest, UsersCreateForm, WebhookApp};

#[test]
fn bodies_hide_passwords() {
    let body = UpdatePasswordRequest::new("hunter2-body").skip_password_check(true);
    let text = format!("{body:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("skip_password_check: Some(true)"), "{text}");

    let form = UsersCreateForm::new("Ada", "Lovelace").password("hunter2-form");
    let text = format!("{form:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("Lovelace"), "{text}");
}

#[test]
fn answers_hide_secrets() {
    let app: WebhookApp = serde_json::from_value(serde_json::json!({
        "app_slug": "orders", "created_at": "t", "deployment_id": "1",
        "failure_notification_emails": [], "is_active": true, "name": "Orders",
        "signing_secret": "whsec_do_not_log", "updated_at": "t"
    }))
    .expect("a webhook app");
    let text = format!("{app:?}");
    assert!(!text.contains("whsec_do_not_log"), "{text}");
    assert!(text.contains("orders"), "{text}");

    let key: ApiKeyWithSecret = serde_json::from_value(serde_json::json!({
        "key": {
            "app_slug": "orders", "created_at": "t", "deployment_id": "1", "id": "7",
            "is_active": true, "key_hash": "h", "key_prefix": "sk_live", "key_suffix": "abcd",
            "metadata": {}, "name": "ci", "org_role_permissions": [], "permissions": [],
            "rate_limits": [], "workspace_role_permissions": [],
            "updated_at": "t"
        },
        "secret": "sk_live_do_not_log"
    }))
    .expect("a created API key");
    let text = format!("{key:?}");
    assert!(!text.contains("sk_live_do_not_log"), "{text}");
    assert!(text.contains("key_suffix: \"abcd\""), "{text}");
}
