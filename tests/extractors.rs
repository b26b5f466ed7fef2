//! axum extractors: `wacht::Auth`, `wacht::MachineAuth` and `Option<wacht::Auth>` on their
//! own (they check the request themselves) and behind a layer (they read its identity),
//! served by axum over real HTTP against the local Wacht. A refused request never runs the
//! handler's body.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{rejected, send};

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::get;
use wacht::testing::{ApiKeySpec, LocalWacht};
use wacht::{Auth, MachineAuth, Requirement, Wacht};

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Held by each test: they share the body-run counter.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn me(auth: Auth) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    format!("user {}", auth.user_id())
}

async fn maybe(auth: Option<Auth>) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    match auth {
        Some(auth) => format!("user {}", auth.user_id()),
        None => "signed out".to_owned(),
    }
}

async fn key(auth: MachineAuth) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    format!("key {:?}", auth.key_id())
}

async fn call(url: String, header: Option<(&str, &str)>) -> common::Answer {
    let mut request = reqwest::Client::new().get(url);
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    send(request).await
}

#[tokio::test]
async fn extractors_alone_and_behind_a_layer() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let app = axum::Router::new()
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .route("/key", get(key))
        .route(
            "/layered",
            get(me).route_layer(wacht::layer::protect(
                Requirement::new().permission("user:read"),
            )),
        )
        .layer(axum::Extension(wacht));
    let url = common::serve_axum(app).await;
    let reader = format!(
        "Bearer {}",
        local
            .token()
            .subject("user_r")
            .organization_permissions(["user:read"])
            .sign()
    );
    let plain = format!("Bearer {}", local.token().subject("user_p").sign());
    let expired = format!("Bearer {}", local.token().expires_at(1).sign());
    let runs = || RUNS.load(Ordering::SeqCst);

    // `Auth` alone: authentication only.
    let before = runs();
    let answer = call(format!("{url}/me"), None).await;
    assert_eq!(rejected(&answer, 401, "unauthenticated"), "missing_token");
    let answer = call(format!("{url}/me"), Some(("authorization", &expired))).await;
    assert_eq!(rejected(&answer, 401, "unauthenticated"), "token_expired");
    assert_eq!(runs(), before, "refused: the body never ran");
    let answer = call(format!("{url}/me"), Some(("authorization", &plain))).await;
    assert_eq!(
        (answer.status.as_u16(), answer.text.as_str()),
        (200, "user user_p")
    );

    // `Option<Auth>`: None without a token, 401 (not None) for a bad one.
    let answer = call(format!("{url}/maybe"), None).await;
    assert_eq!(answer.text, "signed out");
    let before = runs();
    let answer = call(format!("{url}/maybe"), Some(("authorization", &expired))).await;
    assert_eq!(rejected(&answer, 401, "unauthenticated"), "token_expired");
    let answer = call(
        format!("{url}/maybe"),
        Some(("authorization", "Bearer x.y.z")),
    )
    .await;
    assert_eq!(rejected(&answer, 401, "unauthenticated"), "malformed_token");
    assert_eq!(runs(), before);
    let answer = call(format!("{url}/maybe"), Some(("authorization", &reader))).await;
    assert_eq!(answer.text, "user user_r");

    // Behind the layer: the layer's requirement decides; the extractor reads its identity.
    let before = runs();
    let answer = call(format!("{url}/layered"), Some(("authorization", &plain))).await;
    assert_eq!(rejected(&answer, 403, "forbidden"), "missing_permission");
    assert_eq!(runs(), before);
    let answer = call(format!("{url}/layered"), Some(("authorization", &reader))).await;
    assert_eq!(answer.text, "user user_r");

    // `MachineAuth` alone: the gateway is asked about this path and method.
    let good = local.create_api_key(ApiKeySpec::new());
    let before = runs();
    let answer = call(format!("{url}/key"), None).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "missing_credential"
    );
    let answer = call(format!("{url}/key"), Some(("x-api-key", "wk_test_nobody"))).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "invalid_credential"
    );
    assert_eq!(runs(), before);
    let answer = call(format!("{url}/key"), Some(("x-api-key", good.secret()))).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(local.gateway_requests().last().unwrap()["resource"], "/key");
}

#[wacht::protect(optional)]
async fn home(_req: http::Request<String>, auth: Option<Auth>) -> http::Response<String> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    http::Response::new(match auth {
        Some(auth) => format!("user {}", auth.user_id()),
        None => "signed out".to_owned(),
    })
}

#[tokio::test]
async fn optional_authentication_with_the_attribute_and_the_layer() {
    let _serial = SERIAL.lock().await;
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let attribute = wacht::testing::serve_with(wacht.clone(), home)
        .await
        .unwrap();
    let app = axum::Router::new()
        .route("/maybe", get(maybe))
        .route_layer(wacht::layer::optional())
        .layer(axum::Extension(wacht));
    let layered = common::serve_axum(app).await;
    let good = format!("Bearer {}", local.token().subject("user_o").sign());
    let expired = format!("Bearer {}", local.token().expires_at(1).sign());
    for url in [attribute.url(), format!("{layered}/maybe")] {
        let answer = call(url.clone(), None).await;
        assert_eq!(
            (answer.status.as_u16(), answer.text.as_str()),
            (200, "signed out"),
            "{url}"
        );
        let answer = call(url.clone(), Some(("authorization", &good))).await;
        assert_eq!(answer.text, "user user_o", "{url}");
        let before = RUNS.load(Ordering::SeqCst);
        let answer = call(url.clone(), Some(("authorization", &expired))).await;
        assert_eq!(
            rejected(&answer, 401, "unauthenticated"),
            "token_expired",
            "{url}"
        );
        let answer = call(url.clone(), Some(("authorization", "Basic abc"))).await;
        assert_eq!(
            rejected(&answer, 401, "unauthenticated"),
            "invalid_authorization_header",
            "{url}"
        );
        assert_eq!(
            RUNS.load(Ordering::SeqCst),
            before,
            "{url}: refused, no body run"
        );
    }
}
