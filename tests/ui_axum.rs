//! Compile-time behaviour with the `axum` feature: idiomatic axum return types under both
//! attributes (`cargo test --features axum --test ui_axum`), and the attribute order that
//! cannot work with an extractor identity. The other cases, including the
//! `impl Trait` refusal that names this feature, run in `tests/ui.rs` without it.
#![cfg(feature = "axum")]

#[test]
fn ui_axum() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/axum/pass/*.rs");
    t.compile_fail("tests/ui/axum/fail/*.rs");
}
