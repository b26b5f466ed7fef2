//! Collecting every problem into one [`syn::Error`], so a user sees all of them at once.

use proc_macro2::Span;
use std::fmt::Display;

/// Problems found so far; empty until the first [`Errors::push`]. Must be finished
/// ([`Errors::finish`]), or the problems are lost.
#[derive(Default)]
#[must_use = "collected errors must reach the user through `finish`"]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds an error (which may itself hold several).
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Adds an error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// `Ok(value)` when nothing was pushed, else every error pushed, in order.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_in_order() {
        let mut errors = Errors::default();
        assert!(Errors::default().finish(()).is_ok());
        errors.at(Span::call_site(), "first");
        errors.push(syn::Error::new(Span::call_site(), "second"));
        let messages: Vec<String> = errors
            .finish(())
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages, ["first", "second"]);
    }
}
