//! Compile-time behaviour of the attribute macros: accepted handlers compile, and every mistake
//! is a compile error pointing at the offending token (pinned in `tests/ui/**/*.stderr`).
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test ui` and read the
//! diff.

// Without the `axum` feature only: with it, `impl IntoResponse` returns are accepted and the
// `impl-trait-return` cases would compile (`tests/ui_axum.rs` covers that side).
#[cfg(not(feature = "axum"))]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/protect/pass/*.rs");
    t.compile_fail("tests/ui/protect/fail/*.rs");
    t.pass("tests/ui/machine/pass/*.rs");
    t.compile_fail("tests/ui/machine/fail/*.rs");
    t.pass("tests/ui/webhook/pass/*.rs");
    t.compile_fail("tests/ui/webhook/fail/*.rs");
}
