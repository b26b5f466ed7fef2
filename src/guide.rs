//! The guides: how to use `wacht`, one page per topic. Each page is a file of the repository's
//! `docs/` folder, rendered here; their Rust examples are compiled by `cargo test --doc`
//! (Cloudflare Workers snippets, which need the wasm32 target, are shown but not compiled).
//!
//! A reading order: [`runtimes`] (your platform), [`people_or_machines`] (the attributes),
//! [`configuration`] and [`rejections`]; then what you need of the others.

#[doc = include_str!("../docs/runtimes.md")]
pub mod runtimes {}

#[doc = include_str!("../docs/people-or-machines.md")]
pub mod people_or_machines {}

#[doc = include_str!("../docs/webhooks.md")]
pub mod webhooks {}

#[doc = include_str!("../docs/layers-and-extractors.md")]
pub mod layers_and_extractors {}

#[doc = include_str!("../docs/lambda-netlify.md")]
pub mod lambda_netlify {}

#[doc = include_str!("../docs/workers.md")]
pub mod workers {}

#[doc = include_str!("../docs/backend.md")]
pub mod backend {}

#[doc = include_str!("../docs/browser-sessions.md")]
pub mod browser_sessions {}

#[doc = include_str!("../docs/bridge.md")]
pub mod bridge {}

#[doc = include_str!("../docs/configuration.md")]
pub mod configuration {}

#[doc = include_str!("../docs/rejections.md")]
pub mod rejections {}

// Its examples need features `utoipa` and `aide` (docs.rs builds with every feature).
#[cfg_attr(
    all(feature = "utoipa", feature = "aide"),
    doc = include_str!("../docs/openapi.md")
)]
#[cfg_attr(
    not(all(feature = "utoipa", feature = "aide")),
    doc = "OpenAPI with utoipa and aide: build the documentation with features `utoipa` and \
           `aide` to read this guide."
)]
pub mod openapi {}

#[doc = include_str!("../docs/keys-and-caching.md")]
pub mod keys_and_caching {}

#[doc = include_str!("../docs/metrics.md")]
pub mod metrics {}

#[doc = include_str!("../docs/testing.md")]
pub mod testing {}

#[doc = include_str!("../docs/from-javascript.md")]
pub mod from_javascript {}

#[doc = include_str!("../docs/migrating.md")]
pub mod migrating {}
