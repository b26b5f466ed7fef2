//! Every operation of the backend API, through the real transport, against a recording
//! loopback server: the request each one sends and the decoding of its answer. The rows are
//! generated from the description (`cargo xtask codegen`: `generated.rs`); the checks are
//! here (`harness.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

#[path = "../common/mod.rs"]
mod common;
mod generated;
mod harness;
