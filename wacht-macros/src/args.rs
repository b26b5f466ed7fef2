//! Parsing attribute arguments (`key = value, …`) into typed [`Args`].
//!
//! This stage checks syntax and argument names only; what each value may be is `validate`'s
//! business. A malformed argument does not stop parsing: its error is kept and parsing resumes
//! after the next comma, so every problem in an attribute is reported at once.

use proc_macro2::{Span, TokenTree};
use std::marker::PhantomData;
use syn::ext::IdentExt;
use syn::parse::{Lookahead1, Parse, ParseStream};
use syn::{Expr, ExprArray, ExprPath, Ident, Lit, LitStr, Token};

mod kw {
    syn::custom_keyword!(permission);
    syn::custom_keyword!(any);
    syn::custom_keyword!(all);
    syn::custom_keyword!(organization_id);
    syn::custom_keyword!(workspace_id);
    syn::custom_keyword!(resource);
    syn::custom_keyword!(method);
    syn::custom_keyword!(principal);
    syn::custom_keyword!(header);
    syn::custom_keyword!(on_reject);
    syn::custom_keyword!(optional);
    syn::custom_keyword!(sign_in_redirect);
    syn::custom_keyword!(or_machine);
    syn::custom_keyword!(event);
    syn::custom_keyword!(events);
    syn::custom_keyword!(secret_env);
    syn::custom_keyword!(max_body_bytes);
    syn::custom_keyword!(tolerance_seconds);
    syn::custom_keyword!(dedup);
}

/// Declares [`Key`] from one table: variant, the token that spells it, its name and an example
/// of use (the last two for error messages).
macro_rules! keys {
    ($($variant:ident => $token:path, $name:literal, $example:literal;)*) => {
        /// An argument name known to one of the macros.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Key {
            $($variant,)*
        }

        impl Key {
            /// Every key of every macro.
            const ALL: &[Key] = &[$(Key::$variant,)*];

            /// How the key is written.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Key::$variant => $name,)*
                }
            }

            /// The key used correctly, e.g. `permission = "user:read"`.
            pub(crate) fn example(self) -> &'static str {
                match self {
                    $(Key::$variant => $example,)*
                }
            }

            fn peek_in(self, lookahead: &Lookahead1) -> bool {
                match self {
                    $(Key::$variant => lookahead.peek($token),)*
                }
            }

            fn peek(self, input: ParseStream) -> bool {
                match self {
                    $(Key::$variant => input.peek($token),)*
                }
            }

            /// Consumes the key's token, returning its span.
            fn parse_token(self, input: ParseStream) -> syn::Result<Span> {
                match self {
                    $(Key::$variant => Ok(input.parse::<$token>()?.span),)*
                }
            }
        }
    };
}

keys! {
    Permission => kw::permission, "permission", r#"permission = "user:read""#;
    Any => kw::any, "any", r#"any = ["user:read", "user:write"]"#;
    All => kw::all, "all", r#"all = ["user:read", "user:write"]"#;
    OrganizationId => kw::organization_id, "organization_id", r#"organization_id = "org_123""#;
    WorkspaceId => kw::workspace_id, "workspace_id", r#"workspace_id = "ws_123""#;
    Resource => kw::resource, "resource", r#"resource = "/machine/users""#;
    Method => kw::method, "method", r#"method = "GET""#;
    Principal => kw::principal, "principal", r#"principal = "api_key""#;
    Header => kw::header, "header", r#"header = "x-custom-key""#;
    OnReject => kw::on_reject, "on_reject", "on_reject = my_rejection";
    Optional => kw::optional, "optional", "optional";
    SignInRedirect => kw::sign_in_redirect, "sign_in_redirect", "sign_in_redirect = false";
    OrMachine => kw::or_machine, "or_machine", r#"or_machine(resource = "/machine/users", method = "GET")"#;
    Event => kw::event, "event", r#"event = "user.created""#;
    Events => kw::events, "events", r#"events = ["user.created", "user.updated"]"#;
    SecretEnv => kw::secret_env, "secret_env", r#"secret_env = "WACHT_WEBHOOK_SECRET""#;
    MaxBodyBytes => kw::max_body_bytes, "max_body_bytes", "max_body_bytes = 1048576";
    ToleranceSeconds => kw::tolerance_seconds, "tolerance_seconds", "tolerance_seconds = 600";
    Dedup => kw::dedup, "dedup", "dedup";
    Crate => syn::token::Crate, "crate", r#"crate = "my_wacht""#;
}

/// The three attributes: their names and the keys each accepts.
const MACROS: &[(&str, &[Key])] = &[
    (Protect::MACRO, Protect::KEYS),
    (Machine::MACRO, Machine::KEYS),
    (Webhook::MACRO, Webhook::KEYS),
];

/// "`#[wacht::machine]`", or "`#[wacht::protect]` and `#[wacht::machine]`": the attributes
/// that accept `key`.
pub(crate) fn owners(key: Key) -> String {
    let names: Vec<String> = MACROS
        .iter()
        .filter(|(_, keys)| keys.contains(&key))
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    names.join(" and ")
}

/// What one macro accepts and how it is named in messages.
pub(crate) trait Spec {
    /// `#[wacht::protect]`
    const MACRO: &'static str;
    /// The keys this macro accepts, in the order error messages list them.
    const KEYS: &'static [Key];
    /// The last path segment of the identity type a handler parameter receives (`Auth`).
    const IDENTITY: &'static str;
    /// The other attributes' identity types, refused here, each with what to say: the
    /// attribute it belongs to, and why it does not fit here.
    const OTHER_IDENTITIES: &'static [(&'static str, &'static str)];
    /// The identity of a people-or-machines handler (`Caller`), where the macro has one.
    const EITHER_IDENTITY: Option<&'static str> = None;
    /// Who passes when no permission is required ("a signed-in caller"), for messages.
    const UNRESTRICTED: &'static str;

    /// "`permission`, `any`, …": the keys for messages.
    fn expected() -> String {
        let names: Vec<String> = Self::KEYS
            .iter()
            .map(|key| format!("`{}`", key.name()))
            .collect();
        names.join(", ")
    }
}

/// `#[wacht::protect]`: session tokens.
pub(crate) enum Protect {}

impl Spec for Protect {
    const MACRO: &'static str = "#[wacht::protect]";
    const KEYS: &'static [Key] = &[
        Key::Permission,
        Key::Any,
        Key::All,
        Key::OrganizationId,
        Key::WorkspaceId,
        Key::Optional,
        Key::OrMachine,
        Key::SignInRedirect,
        Key::OnReject,
        Key::Crate,
    ];
    const IDENTITY: &'static str = "Auth";
    const OTHER_IDENTITIES: &'static [(&'static str, &'static str)] = &[
        ("MachineAuth", "`#[wacht::machine]` handlers"),
        (
            "WebhookEvent",
            "`#[wacht::webhook]` handlers (deliveries from Wacht)",
        ),
    ];
    const EITHER_IDENTITY: Option<&'static str> = Some("Caller");
    const UNRESTRICTED: &'static str = "a signed-in caller";
}

/// `#[wacht::machine]`: API keys and OAuth access tokens, checked by the gateway.
pub(crate) enum Machine {}

impl Spec for Machine {
    const MACRO: &'static str = "#[wacht::machine]";
    const KEYS: &'static [Key] = &[
        Key::Resource,
        Key::Method,
        Key::Permission,
        Key::Any,
        Key::All,
        Key::Principal,
        Key::Header,
        Key::OnReject,
        Key::Crate,
    ];
    const IDENTITY: &'static str = "MachineAuth";
    const OTHER_IDENTITIES: &'static [(&'static str, &'static str)] = &[
        ("Auth", "`#[wacht::protect]` handlers"),
        (
            "WebhookEvent",
            "`#[wacht::webhook]` handlers (deliveries from Wacht)",
        ),
    ];
    const UNRESTRICTED: &'static str = "a credential the gateway allows";
}

/// `#[wacht::webhook]`: Wacht's own deliveries, signed (Standard Webhooks).
pub(crate) enum Webhook {}

impl Spec for Webhook {
    const MACRO: &'static str = "#[wacht::webhook]";
    const KEYS: &'static [Key] = &[
        Key::Event,
        Key::Events,
        Key::SecretEnv,
        Key::MaxBodyBytes,
        Key::ToleranceSeconds,
        Key::Dedup,
        Key::OnReject,
        Key::Crate,
    ];
    const IDENTITY: &'static str = "WebhookEvent";
    const OTHER_IDENTITIES: &'static [(&'static str, &'static str)] = &[
        (
            "Auth",
            "`#[wacht::protect]` handlers (signed-in people); a webhook comes from Wacht itself, \
             with no session",
        ),
        (
            "MachineAuth",
            "`#[wacht::machine]` handlers (API keys); a webhook comes from Wacht itself, signed \
             with the endpoint's secret",
        ),
        (
            "Caller",
            "`#[wacht::protect(…, or_machine(…))]` handlers; a webhook comes from Wacht itself",
        ),
    ];
    const UNRESTRICTED: &'static str = "every event type";
}

/// The arguments of one attribute, in source order.
pub(crate) struct Args<M> {
    /// Each well-formed `key = value` pair (duplicates included), or the syntax error in its
    /// place (malformed or unknown argument, missing comma).
    pub(crate) items: Vec<syn::Result<Arg>>,
    spec: PhantomData<M>,
}

/// One `key = value` argument.
pub(crate) struct Arg {
    pub(crate) key: Key,
    pub(crate) key_span: Span,
    pub(crate) value: Value,
}

/// An argument's value, sorted by shape; which shape a key needs is checked later.
pub(crate) enum Value {
    /// `"text"`
    Str(LitStr),
    /// `[…]`, elements unchecked.
    List(ExprArray),
    /// `path::to::item` (or a lone identifier).
    Path(ExprPath),
    /// Anything else: another literal, a macro call, a closure, …
    Other(Expr),
}

impl From<Expr> for Value {
    fn from(expr: Expr) -> Self {
        match expr {
            // `$value:expr` from a `macro_rules!` arrives wrapped in an invisible group.
            Expr::Group(group) if group.attrs.is_empty() => Value::from(*group.expr),
            Expr::Lit(syn::ExprLit {
                attrs,
                lit: Lit::Str(text),
            }) if attrs.is_empty() => Value::Str(text),
            Expr::Array(list) if list.attrs.is_empty() => Value::List(list),
            Expr::Path(path) if path.attrs.is_empty() => Value::Path(path),
            other => Value::Other(other),
        }
    }
}

impl quote::ToTokens for Value {
    fn to_tokens(&self, tokens: &mut proc_macro2::TokenStream) {
        match self {
            Value::Str(text) => text.to_tokens(tokens),
            Value::List(list) => list.to_tokens(tokens),
            Value::Path(path) => path.to_tokens(tokens),
            Value::Other(expr) => expr.to_tokens(tokens),
        }
    }
}

impl<M: Spec> Parse for Args<M> {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut items = Vec::new();
        while !input.is_empty() {
            let item = parse_arg::<M>(input);
            let failed = item.is_err();
            items.push(item);
            if failed {
                skip_past_comma(input);
            } else if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            } else if !input.is_empty() {
                items.push(Err(syn::Error::new(
                    input.span(),
                    "expected `,` between arguments, e.g. \
                     `permission = \"user:read\", organization_id = \"org_123\"`",
                )));
                skip_past_comma(input);
            }
        }
        Ok(Args {
            items,
            spec: PhantomData,
        })
    }
}

fn parse_arg<M: Spec>(input: ParseStream) -> syn::Result<Arg> {
    let (key, key_span) = parse_key::<M>(input)?;
    if key == Key::Dedup && !input.peek(Token![=]) {
        // A flag (the in-memory log), or `dedup = path` (your log).
        return Ok(Arg {
            key,
            key_span,
            value: Value::Other(Expr::Verbatim(proc_macro2::TokenStream::new())),
        });
    }
    if key == Key::Optional {
        // A flag: `optional`, never `optional = …`.
        if input.peek(Token![=]) {
            return Err(syn::Error::new(
                key_span,
                "`optional` takes no value; write `optional`",
            ));
        }
        return Ok(Arg {
            key,
            key_span,
            value: Value::Other(syn::parse_quote!(true)),
        });
    }
    if key == Key::OrMachine {
        // `or_machine(…)`: `#[wacht::machine]`'s arguments, in parentheses.
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                key_span,
                format!(
                    "`or_machine` takes the machine side's arguments in parentheses; write `{}`",
                    key.example()
                ),
            ));
        }
        let content;
        syn::parenthesized!(content in input);
        let tokens: proc_macro2::TokenStream = content.parse()?;
        return Ok(Arg {
            key,
            key_span,
            value: Value::Other(Expr::Verbatim(tokens)),
        });
    }
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            key_span,
            format!(
                "expected `=` after `{}`; write `{}`",
                key.name(),
                key.example()
            ),
        ));
    }
    input.parse::<Token![=]>()?;
    if input.is_empty() || input.peek(Token![,]) {
        return Err(syn::Error::new(
            key_span,
            format!(
                "missing value for `{}`; write `{}`",
                key.name(),
                key.example()
            ),
        ));
    }
    let value = input.parse::<Expr>()?.into();
    Ok(Arg {
        key,
        key_span,
        value,
    })
}

fn parse_key<M: Spec>(input: ParseStream) -> syn::Result<(Key, Span)> {
    let lookahead = input.lookahead1();
    for &key in M::KEYS {
        if key.peek_in(&lookahead) {
            return Ok((key, key.parse_token(input)?));
        }
    }
    if let Some(key) = Key::ALL.iter().copied().find(|key| key.peek(input)) {
        let span = key.parse_token(input)?;
        return Err(syn::Error::new(
            span,
            format!(
                "`{}` is an argument of {}, not of `{}`; expected one of {}",
                key.name(),
                owners(key),
                M::MACRO,
                M::expected()
            ),
        ));
    }
    if input.peek(LitStr) {
        let quoted = input.parse::<LitStr>()?;
        return Err(syn::Error::new(
            quoted.span(),
            format!(
                "argument names are written without quotes; expected one of {}",
                M::expected()
            ),
        ));
    }
    if input.peek(Ident::peek_any) {
        let ident = Ident::parse_any(input)?;
        return Err(syn::Error::new(
            ident.span(),
            format!(
                "unknown argument `{ident}`; expected one of {}",
                M::expected()
            ),
        ));
    }
    Err(lookahead.error())
}

/// Skips to just after the next top-level comma (or to the end), to resume after an error.
fn skip_past_comma(input: ParseStream) {
    let skipped = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            rest = next;
            if matches!(&tree, TokenTree::Punct(punct) if punct.as_char() == ',') {
                break;
            }
        }
        Ok(((), rest))
    });
    // `step` only fails when its closure does, which this one never does.
    debug_assert!(skipped.is_ok());
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse<M: Spec>(tokens: proc_macro2::TokenStream) -> Args<M> {
        syn::parse2(tokens).unwrap()
    }

    fn messages<M>(args: &Args<M>) -> Vec<String> {
        let errors = args.items.iter().filter_map(|item| item.as_ref().err());
        errors.map(syn::Error::to_string).collect()
    }

    fn keys<M>(args: &Args<M>) -> Vec<Key> {
        let args = args.items.iter().filter_map(|item| item.as_ref().ok());
        args.map(|arg| arg.key).collect()
    }

    #[test]
    fn names_match_the_tokens() {
        assert_eq!(Key::Permission.name(), "permission");
        assert_eq!(Key::OrganizationId.name(), "organization_id");
        assert_eq!(Key::OnReject.name(), "on_reject");
        assert_eq!(Key::Crate.name(), "crate");
        for key in Key::ALL {
            assert!(key.example().starts_with(key.name()), "{key:?}");
        }
    }

    #[test]
    fn parses_every_protect_key_and_value_shape() {
        let args = parse::<Protect>(quote! {
            permission = "a", any = ["b", "c"], all = [], organization_id = "o",
            workspace_id = "w", optional, or_machine(method = "GET"), sign_in_redirect = false,
            on_reject = my::reject, crate = "::w",
        });
        assert!(messages(&args).is_empty());
        assert_eq!(keys(&args), Protect::KEYS);
        assert!(matches!(
            args.items[0],
            Ok(Arg {
                value: Value::Str(_),
                ..
            })
        ));
        assert!(matches!(
            args.items[1],
            Ok(Arg {
                value: Value::List(_),
                ..
            })
        ));
        assert!(matches!(
            args.items[8],
            Ok(Arg {
                value: Value::Path(_),
                ..
            })
        ));
        // A flag takes no value.
        let args = parse::<Protect>(quote!(optional = true));
        assert_eq!(
            messages(&args),
            ["`optional` takes no value; write `optional`"]
        );
    }

    #[test]
    fn empty_attribute_is_no_arguments() {
        let args = parse::<Protect>(quote!());
        assert!(args.items.is_empty());
        assert!(messages(&args).is_empty());
    }

    #[test]
    fn other_values_are_kept_for_validation() {
        let args = parse::<Protect>(quote!(
            permission = 5,
            any = concat!("a"),
            on_reject = |r| r
        ));
        assert!(messages(&args).is_empty());
        assert_eq!(args.items.len(), 3);
        assert!(args.items.iter().all(|arg| matches!(
            arg,
            Ok(Arg {
                value: Value::Other(_),
                ..
            })
        )));
    }

    #[test]
    fn unknown_and_foreign_keys_are_reported_and_parsing_goes_on() {
        let args = parse::<Protect>(quote!(permision = "a", resource = "/x", permission = "b"));
        assert_eq!(
            messages(&args),
            [
                "unknown argument `permision`; expected one of `permission`, `any`, `all`, \
                 `organization_id`, `workspace_id`, `optional`, `or_machine`, `sign_in_redirect`, `on_reject`, `crate`",
                "`resource` is an argument of `#[wacht::machine]`, not of `#[wacht::protect]`; \
                 expected one of `permission`, `any`, `all`, `organization_id`, `workspace_id`, \
                 `optional`, `or_machine`, `sign_in_redirect`, `on_reject`, `crate`",
            ]
        );
        assert_eq!(keys(&args), [Key::Permission]);
    }

    #[test]
    fn machine_keys_belong_to_machine() {
        let args = parse::<Machine>(quote!(
            resource = "/x",
            method = "GET",
            principal = "any",
            header = "x-k",
            organization_id = "o"
        ));
        assert_eq!(keys(&args).len(), 4);
        let messages = messages(&args);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with("`organization_id` is an argument of `#[wacht::protect]`"));
    }

    #[test]
    fn syntax_errors_are_collected() {
        let args = parse::<Protect>(
            quote!(permission, any = , all(), crate = "x" "y", workspace_id = "w", 5),
        );
        assert_eq!(
            messages(&args),
            [
                "expected `=` after `permission`; write `permission = \"user:read\"`",
                "missing value for `any`; write `any = [\"user:read\", \"user:write\"]`",
                "expected `=` after `all`; write `all = [\"user:read\", \"user:write\"]`",
                "expected `,` between arguments, e.g. `permission = \"user:read\", \
                 organization_id = \"org_123\"`",
                "expected one of: `permission`, `any`, `all`, `organization_id`, `workspace_id`, \
                 `optional`, `or_machine`, `sign_in_redirect`, `on_reject`, `crate`",
            ]
        );
        assert_eq!(keys(&args), [Key::Crate, Key::WorkspaceId]);
        // In source order, errors in place.
        assert!(args.items[3].is_ok() && args.items[4].is_err() && args.items[5].is_ok());
    }

    #[test]
    fn quoted_key_is_explained() {
        let args = parse::<Protect>(quote!("permission" = "a"));
        assert_eq!(
            messages(&args),
            [
                "argument names are written without quotes; expected one of `permission`, `any`, \
              `all`, `organization_id`, `workspace_id`, `optional`, `or_machine`, `sign_in_redirect`, `on_reject`, `crate`"
            ]
        );
    }

    #[test]
    fn keyword_as_key_is_unknown() {
        let args = parse::<Protect>(quote!(fn = "a"));
        assert_eq!(
            messages(&args),
            [
                "unknown argument `fn`; expected one of `permission`, `any`, `all`, \
              `organization_id`, `workspace_id`, `optional`, `or_machine`, `sign_in_redirect`, `on_reject`, `crate`"
            ]
        );
    }
}
