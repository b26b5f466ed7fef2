//! Compile-time behaviour of the attribute macros: accepted handlers compile, and every mistake
//! is a compile error pointing at the offending token (pinned in `tests/ui/**/*.stderr`).
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test ui` and read the
//! diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/protect/pass/*.rs");
    t.compile_fail("tests/ui/protect/fail/*.rs");
    t.pass("tests/ui/machine/pass/*.rs");
    t.compile_fail("tests/ui/machine/fail/*.rs");
}
