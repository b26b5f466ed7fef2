//! A machine without system certificate roots (an image `FROM scratch`, distroless-static)
//! still gets a working client: the test runs itself again as a child process whose
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` point at empty places, and the child answers requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::process::Command;

use wacht::testing::{ApiKeySpec, LocalWacht};
use wacht::{MachineRequirement, Requirement, Wacht};

const CHILD: &str = "WACHT_TLS_ROOTS_CHILD";

#[test]
fn no_system_roots_still_builds_a_client_that_answers() {
    if std::env::var_os(CHILD).is_some() {
        return; // the child runs `child_checks` only
    }
    let empty = std::env::temp_dir().join(format!("wacht-no-roots-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_checks", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("SSL_CERT_FILE", empty.join("none.pem"))
        .env("SSL_CERT_DIR", &empty)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("child: session 200, machine 200"),
        "{stdout}\n{stderr}"
    );
}

/// Runs in the child only (with no usable roots): builds contexts and checks real requests
/// against a local Wacht over plain HTTP.
#[tokio::test]
async fn child_checks() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).expect("a client without system roots");
    let mut req = http::Request::new(());
    let token = local.token().organization_permissions(["user:read"]).sign();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let session = wacht
        .protect(&req, &Requirement::new().permission("user:read"))
        .await
        .map(|_| 200)
        .unwrap_or_else(|rejection| rejection.status().as_u16());
    let key = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let mut req = http::Request::new(());
    req.headers_mut()
        .insert("x-api-key", key.secret().parse().unwrap());
    let machine = wacht
        .authorize_machine(&req, &MachineRequirement::new().permission("user:read"))
        .await
        .map(|_| 200)
        .unwrap_or_else(|rejection| rejection.status().as_u16());
    // The standalone clients build too.
    wacht::GatewayClient::new(local.url()).unwrap();
    wacht::BackendClient::new(local.url(), "sk_key").unwrap();
    println!("child: session {session}, machine {machine}");
}
