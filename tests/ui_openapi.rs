//! Compile-time behaviour with the `utoipa` feature (`cargo test --features utoipa --test
//! ui_openapi`): a `wacht` attribute above `#[utoipa::path]` writes the operation's security, so
//! a `security(…)` written by hand is refused at its name.
#![cfg(feature = "utoipa")]

#[test]
fn ui_openapi() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/openapi/pass/*.rs");
    t.compile_fail("tests/ui/openapi/fail/*.rs");
}
