//! Wacht authentication in front of Rust HTTP handlers.
//!
//! See the README for the guide. Work in progress.
#![deny(missing_docs)]

pub use wacht_macros::{machine, protect};
pub use wacht_runtime::*;

#[doc(hidden)]
pub mod __private {
    pub use wacht_runtime::macro_support::*;
}
