//! One endpoint for people and machines (`#[wacht::protect(…, or_machine(…))]` and
//! `wacht::layer::either`): a session token meeting the session requirement, or a machine
//! credential meeting the machine requirement, routed by the credential's shape; served over
//! real HTTP against the local Wacht.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{rejected, send};

use std::sync::atomic::{AtomicUsize, Ordering};

use http::{Request, Response};
use wacht::testing::{ApiKeySpec, LocalWacht, OAuthTokenSpec, serve_with};
use wacht::{Caller, MachineRequirement, Requirement, Wacht};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[wacht::protect(
    permission = "user:read",
    or_machine(
        resource = "/users",
        method = "GET",
        permission = "user:read",
        principal = "any"
    )
)]
async fn users(_req: Request<String>, caller: Caller) -> Response<String> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new(match caller {
        Caller::Session(auth) => format!("person {}", auth.user_id()),
        Caller::Machine(auth) => format!(
            "machine {} {}",
            auth.principal_type().as_str(),
            auth.key_id().unwrap_or("?")
        ),
    })
}

async fn call(url: &str, headers: &[(&str, &str)]) -> common::Answer {
    let mut request = reqwest::Client::new().get(format!("{url}/users"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

#[tokio::test]
async fn people_and_machines_through_the_attribute_and_the_layer() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let attribute_server = serve_with(wacht.clone(), users).await.unwrap();
    let attribute = attribute_server.url();
    let layered = {
        use axum::routing::get;
        async fn handler(caller: Caller) -> String {
            RUNS.fetch_add(1, Ordering::SeqCst);
            match caller {
                Caller::Session(auth) => format!("person {}", auth.user_id()),
                Caller::Machine(auth) => format!(
                    "machine {} {}",
                    auth.principal_type().as_str(),
                    auth.key_id().unwrap_or("?")
                ),
            }
        }
        let app = axum::Router::new()
            .route(
                "/users",
                get(handler).route_layer(wacht::layer::either(
                    Requirement::new().permission("user:read"),
                    MachineRequirement::new()
                        .resource("/users")
                        .method("GET")
                        .permission("user:read")
                        .principal(wacht::AcceptedPrincipal::Any),
                )),
            )
            .layer(axum::Extension(wacht));
        common::serve_axum(app).await
    };

    let reader = format!(
        "Bearer {}",
        local
            .token()
            .subject("user_r")
            .organization_permissions(["user:read"])
            .sign()
    );
    let plain = format!("Bearer {}", local.token().subject("user_p").sign());
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let weak_key = local.create_api_key(ApiKeySpec::new().permissions(["billing:read"]));
    let oauth = local.create_oauth_token(OAuthTokenSpec::new().permissions(["user:read"]));
    let oauth_bearer = format!("Bearer {}", oauth.token());

    for url in [attribute.as_str(), layered.as_str()] {
        // A person with the permission; a machine with it (API key, then OAuth).
        let answer = call(url, &[("authorization", &reader)]).await;
        assert_eq!(answer.text, "person user_r", "{url}");
        let answer = call(url, &[("x-api-key", key.secret())]).await;
        assert_eq!(
            answer.text,
            format!("machine api_key {}", key.key_id()),
            "{url}"
        );
        let before = local.gateway_checks();
        let answer = call(url, &[("authorization", &oauth_bearer)]).await;
        assert!(
            answer.text.starts_with("machine oauth_access_token "),
            "{url}: {}",
            answer.text
        );
        assert_eq!(
            local.gateway_checks(),
            before + 1,
            "an opaque Bearer goes to the gateway"
        );

        // Each side refused with its own reason; nothing ran.
        let runs = RUNS.load(Ordering::SeqCst);
        let answer = call(url, &[("authorization", &plain)]).await;
        assert_eq!(
            rejected(&answer, 403, "forbidden"),
            "missing_permission",
            "{url}"
        );
        let answer = call(url, &[("x-api-key", weak_key.secret())]).await;
        assert_eq!(
            rejected(&answer, 403, "forbidden"),
            "permission_denied",
            "{url}"
        );
        let answer = call(
            url,
            &[("x-api-key", key.secret()), ("authorization", &reader)],
        )
        .await;
        assert_eq!(
            rejected(&answer, 401, "unauthenticated"),
            "ambiguous_credential",
            "{url}"
        );
        let answer = call(url, &[]).await;
        assert_eq!(
            rejected(&answer, 401, "unauthenticated"),
            "missing_credential",
            "{url}"
        );
        let before = local.gateway_checks();
        let answer = call(url, &[("authorization", "Bearer a.b.c")]).await;
        assert_eq!(
            rejected(&answer, 401, "unauthenticated"),
            "malformed_token",
            "{url}"
        );
        assert_eq!(
            local.gateway_checks(),
            before,
            "a JWT-shaped Bearer is a session token"
        );
        assert_eq!(
            RUNS.load(Ordering::SeqCst),
            runs,
            "{url}: refused, no body run"
        );
    }
}
