//! The expansion never depends on the build profile: a security macro must not quietly turn
//! off in release builds (or only in debug ones).
//!
//! `.ci/run` runs this file twice, `WACHT_EXPECT_PROFILE=debug cargo test --test profiles` and
//! `WACHT_EXPECT_PROFILE=release cargo test --release --test profiles`; each run checks that it
//! was built in the profile it names, and both must refuse the same requests the same way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{get, rejected};

use std::sync::atomic::{AtomicUsize, Ordering};

use http::{Request, Response};
use wacht::testing::{ApiKeySpec, LocalWacht, serve_with};
use wacht::{Auth, MachineAuth, Wacht};

static SESSION_RUNS: AtomicUsize = AtomicUsize::new(0);
static MACHINE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[wacht::protect(permission = "user:read")]
async fn session(_req: Request<String>, auth: Auth) -> Response<String> {
    SESSION_RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new(auth.user_id().to_owned())
}

#[wacht::machine(permission = "user:read")]
async fn machine(_req: Request<String>, _auth: MachineAuth) -> Response<String> {
    MACHINE_RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new("ok".to_owned())
}

/// The profile this binary was built in, as `WACHT_EXPECT_PROFILE` names it.
fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

#[test]
fn built_in_the_expected_profile() {
    // A plain `cargo test` sets nothing: there is nothing to compare against.
    if let Ok(expected) = std::env::var("WACHT_EXPECT_PROFILE") {
        assert_eq!(
            profile(),
            expected,
            "WACHT_EXPECT_PROFILE={expected}, but this test was built in the {} profile",
            profile()
        );
    }
}

#[tokio::test]
async fn refuses_the_same_requests_in_every_profile() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let session_url = serve_with(wacht.clone(), session).await.unwrap();
    let machine_url = serve_with(wacht, machine).await.unwrap();
    let (session_url, machine_url) = (session_url.url(), machine_url.url());
    let reader = local
        .token()
        .subject("user_42")
        .organization_permissions(["user:read"])
        .sign();
    let writer = local
        .token()
        .organization_permissions(["user:write"])
        .sign();
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));

    let answer = get(&session_url, &[]).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "missing_token",
        "{}",
        profile()
    );
    let answer = get(
        &session_url,
        &[("authorization", &format!("Bearer {writer}"))],
    )
    .await;
    assert_eq!(
        rejected(&answer, 403, "forbidden"),
        "missing_permission",
        "{}",
        profile()
    );
    let answer = get(&machine_url, &[]).await;
    assert_eq!(
        rejected(&answer, 401, "unauthenticated"),
        "missing_credential",
        "{}",
        profile()
    );
    assert_eq!(
        SESSION_RUNS.load(Ordering::SeqCst),
        0,
        "a refused caller ran the handler"
    );
    assert_eq!(
        MACHINE_RUNS.load(Ordering::SeqCst),
        0,
        "a refused caller ran the handler"
    );

    let answer = get(
        &session_url,
        &[("authorization", &format!("Bearer {reader}"))],
    )
    .await;
    assert_eq!(
        (answer.status.as_u16(), answer.text.as_str()),
        (200, "user_42")
    );
    let answer = get(&machine_url, &[("x-api-key", key.secret())]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(SESSION_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(MACHINE_RUNS.load(Ordering::SeqCst), 1);
}
