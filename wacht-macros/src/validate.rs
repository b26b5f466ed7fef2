//! Turning parsed [`Args`] into a checked configuration, collecting every problem.
//!
//! The keys both macros share (`permission` / `any` / `all`, `on_reject`, `crate`) are checked
//! by [`Common`]; each macro adds its own keys on top.

use crate::args::{Arg, Args, Key, Machine, Protect, Spec, Value};
use crate::errors::Errors;
use quote::ToTokens;
use syn::{Expr, ExprPath, Lit, LitStr, Path};

/// The permissions a handler requires.
pub(crate) enum Permissions {
    /// No `permission`, `any` or `all`: any signed-in caller (or valid credential) passes.
    Unrestricted,
    /// `permission = "a"`
    One(LitStr),
    /// `any = ["a", "b"]`: at least one of them.
    Any(Vec<LitStr>),
    /// `all = ["a", "b"]`: every one of them.
    All(Vec<LitStr>),
}

/// The checked keys both macros accept.
pub(crate) struct Common {
    pub(crate) permissions: Permissions,
    /// `on_reject = path`: turns a `wacht::Rejection` into the handler's return type.
    pub(crate) on_reject: Option<ExprPath>,
    /// `crate = "path"`: where the `wacht` crate is, spanned at the string.
    pub(crate) krate: Option<Path>,
}

/// The checked arguments of `#[wacht::protect]`.
pub(crate) struct ProtectConfig {
    pub(crate) common: Common,
    pub(crate) organization_id: Option<LitStr>,
    pub(crate) workspace_id: Option<LitStr>,
    /// `optional`: a signed-out caller reaches the handler with `None`.
    pub(crate) optional: Option<proc_macro2::Span>,
    /// `or_machine(…)`: machines may call too, checked as `#[wacht::machine(…)]` would.
    pub(crate) or_machine: Option<(proc_macro2::Span, MachineConfig)>,
    /// `sign_in_redirect = false`: with browser sessions, signed-out page requests get the
    /// JSON 401 rather than a redirect to sign-in.
    pub(crate) sign_in_redirect: Option<syn::LitBool>,
}

/// Checks `#[wacht::protect]` arguments.
pub(crate) fn protect(args: Args<Protect>) -> syn::Result<ProtectConfig> {
    let mut errors = Errors::default();
    let mut common = CommonBuilder::new::<Protect>();
    let mut organization_id = None;
    let mut workspace_id = None;
    let mut optional = None;
    let mut or_machine = None;
    let mut sign_in_redirect = None;
    for_each_arg(args.items, &mut errors, |arg, errors| match arg.key {
        Key::SignInRedirect => sign_in_redirect = boolean(&arg, errors),
        Key::OrganizationId => organization_id = text(&arg, errors),
        Key::WorkspaceId => workspace_id = text(&arg, errors),
        Key::Optional => optional = Some(arg.key_span),
        Key::OrMachine => or_machine = check_or_machine(&arg, errors),
        Key::Permission | Key::Any | Key::All | Key::OnReject | Key::Crate => {
            common.take(&arg, errors);
        }
        // Not in `Protect::KEYS`: refused while parsing.
        Key::Resource
        | Key::Method
        | Key::Principal
        | Key::Header
        | Key::Event
        | Key::Events
        | Key::SecretEnv
        | Key::MaxBodyBytes
        | Key::ToleranceSeconds
        | Key::Dedup => {}
    });
    let common = common.finish();
    if let Some(span) = optional {
        let conflicts: Vec<&str> = [
            (!matches!(common.permissions, Permissions::Unrestricted)).then_some("a permission"),
            organization_id.is_some().then_some("`organization_id`"),
            workspace_id.is_some().then_some("`workspace_id`"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !conflicts.is_empty() {
            errors.at(
                span,
                format!(
                    "`optional` lets signed-out callers in, so it cannot be combined with {}: \
                     a signed-out caller could never meet it. Check it in the body \
                     (`auth.as_ref().is_some_and(|a| a.has(\"user:read\"))`), or use a \
                     second handler",
                    conflicts.join(" or ")
                ),
            );
        }
    }
    if let (Some(span), Some(_)) = (optional, &or_machine) {
        errors.at(
            span,
            "`optional` cannot be combined with `or_machine(…)`: an endpoint for people and \
             machines always knows its caller; remove one",
        );
    }
    errors.finish(ProtectConfig {
        common,
        organization_id,
        workspace_id,
        optional,
        or_machine,
        sign_in_redirect,
    })
}

/// `key = true` or `key = false`.
fn boolean(arg: &Arg, errors: &mut Errors) -> Option<syn::LitBool> {
    if let Value::Other(Expr::Lit(syn::ExprLit {
        lit: Lit::Bool(value),
        ..
    })) = &arg.value
    {
        return Some(value.clone());
    }
    errors.push(syn::Error::new_spanned(
        &arg.value,
        format!(
            "`{}` takes `true` or `false`, e.g. `{}`",
            arg.key.name(),
            arg.key.example()
        ),
    ));
    None
}

/// `or_machine(…)`: the machine side, checked as `#[wacht::machine(…)]` is; `on_reject` and
/// `crate` belong to the outer attribute.
fn check_or_machine(arg: &Arg, errors: &mut Errors) -> Option<(proc_macro2::Span, MachineConfig)> {
    let Value::Other(Expr::Verbatim(tokens)) = &arg.value else {
        return None;
    };
    let config = syn::parse2::<Args<Machine>>(tokens.clone())
        .and_then(machine)
        .map_err(|error| errors.push(error))
        .ok()?;
    let mut valid = true;
    for (present, name) in [
        (config.common.on_reject.is_some(), "on_reject"),
        (config.common.krate.is_some(), "crate"),
    ] {
        if present {
            errors.at(
                arg.key_span,
                format!("give `{name}` on the outer attribute, not inside `or_machine(…)`"),
            );
            valid = false;
        }
    }
    valid.then_some((arg.key_span, config))
}

/// Calls `check` on each argument in source order, except repeated keys, which are reported;
/// syntax errors from parsing are reported in their place.
///
/// The one place duplicates are detected, for every key of every macro.
pub(crate) fn for_each_arg(
    items: Vec<syn::Result<Arg>>,
    errors: &mut Errors,
    mut check: impl FnMut(Arg, &mut Errors),
) {
    let mut seen = Vec::new();
    for item in items {
        match item {
            Err(error) => errors.push(error),
            Ok(arg) if seen.contains(&arg.key) => errors.at(
                arg.key_span,
                format!(
                    "duplicate argument `{}`; give each argument once",
                    arg.key.name()
                ),
            ),
            Ok(arg) => {
                seen.push(arg.key);
                check(arg, errors);
            }
        }
    }
}

pub(crate) struct CommonBuilder {
    /// [`Spec::UNRESTRICTED`] of the macro being checked.
    unrestricted: &'static str,
    /// The first of `permission` / `any` / `all` seen, and what it asked for.
    permissions: Option<(Key, Option<Permissions>)>,
    on_reject: Option<ExprPath>,
    krate: Option<Path>,
}

impl CommonBuilder {
    pub(crate) fn new<M: Spec>() -> Self {
        CommonBuilder {
            unrestricted: M::UNRESTRICTED,
            permissions: None,
            on_reject: None,
            krate: None,
        }
    }

    /// Checks one of the shared keys; other keys are left to the caller.
    pub(crate) fn take(&mut self, arg: &Arg, errors: &mut Errors) {
        let permissions = match arg.key {
            Key::Permission => text(arg, errors).map(Permissions::One),
            Key::Any => text_list(arg, self.unrestricted, errors).map(Permissions::Any),
            Key::All => text_list(arg, self.unrestricted, errors).map(Permissions::All),
            Key::OnReject => {
                self.on_reject = function_path(arg, errors);
                return;
            }
            Key::Crate => {
                self.krate = crate_path(arg, errors);
                return;
            }
            Key::OrganizationId
            | Key::WorkspaceId
            | Key::Resource
            | Key::Method
            | Key::Principal
            | Key::Header
            | Key::Optional
            | Key::OrMachine
            | Key::Event
            | Key::Events
            | Key::SecretEnv
            | Key::MaxBodyBytes
            | Key::ToleranceSeconds
            | Key::Dedup
            | Key::SignInRedirect => return,
        };
        match &self.permissions {
            None => self.permissions = Some((arg.key, permissions)),
            Some((first, _)) => errors.at(
                arg.key_span,
                format!(
                    "`{}` cannot be combined with `{}`; keep one of them: \
                     `permission = \"a\"` requires one permission, \
                     `any = [\"a\", \"b\"]` at least one of several, \
                     `all = [\"a\", \"b\"]` every one of them",
                    arg.key.name(),
                    first.name()
                ),
            ),
        }
    }

    pub(crate) fn finish(self) -> Common {
        Common {
            permissions: match self.permissions {
                Some((_, Some(permissions))) => permissions,
                // Nothing given, or given wrong (already reported).
                Some((_, None)) | None => Permissions::Unrestricted,
            },
            on_reject: self.on_reject,
            krate: self.krate,
        }
    }
}

/// A non-empty string literal without surrounding whitespace.
pub(crate) fn text(arg: &Arg, errors: &mut Errors) -> Option<LitStr> {
    let name = arg.key.name();
    let example = arg.key.example();
    match &arg.value {
        Value::Str(text) => {
            let word = matches!(arg.key, Key::Permission);
            let checked = check_text(text, &format!("`{name}`"), example, word, errors);
            checked.then(|| text.clone())
        }
        Value::List(list) => {
            let hint = match arg.key {
                Key::Permission => {
                    "; to require several permissions use `any = [...]` (at least one) or \
                     `all = [...]` (every one)"
                }
                _ => "",
            };
            errors.push(syn::Error::new_spanned(
                list,
                format!("`{name}` takes a single string, e.g. `{example}`{hint}"),
            ));
            None
        }
        Value::Path(_) | Value::Other(_) => {
            errors.push(syn::Error::new_spanned(
                &arg.value,
                not_a_string(&arg.value, &format!("`{name}`"), example),
            ));
            None
        }
    }
}

/// A non-empty list of [`text`]s, without repeats. `unrestricted` says who would pass without
/// the argument.
fn text_list(arg: &Arg, unrestricted: &str, errors: &mut Errors) -> Option<Vec<LitStr>> {
    let name = arg.key.name();
    let example = arg.key.example();
    let list = match &arg.value {
        Value::List(list) => list,
        Value::Str(text) => {
            errors.push(syn::Error::new_spanned(
                text,
                format!(
                    "`{name}` takes a list of strings, e.g. `{example}`; \
                     for a single permission write `permission = {:?}`",
                    text.value()
                ),
            ));
            return None;
        }
        Value::Path(_) | Value::Other(_) => {
            errors.push(syn::Error::new_spanned(
                &arg.value,
                format!(
                    "`{name}` takes a list of string literals, e.g. `{example}`; the macro reads \
                     the permissions at compile time, so constants and expressions cannot be used"
                ),
            ));
            return None;
        }
    };
    if list.elems.is_empty() {
        errors.push(syn::Error::new_spanned(
            list,
            format!(
                "`{name}` needs at least one permission, e.g. `{example}`; \
                 remove the argument to only require {unrestricted}"
            ),
        ));
        return None;
    }
    let mut texts: Vec<LitStr> = Vec::new();
    let mut valid = true;
    for element in &list.elems {
        match Value::from(element.clone()) {
            Value::Str(text) => {
                if !check_text(
                    &text,
                    &format!("a permission in `{name}`"),
                    r#""user:read""#,
                    true,
                    errors,
                ) {
                    valid = false;
                } else if texts.iter().any(|seen| seen.value() == text.value()) {
                    errors.push(syn::Error::new_spanned(
                        &text,
                        format!("{:?} is listed twice in `{name}`; remove one", text.value()),
                    ));
                    valid = false;
                } else {
                    texts.push(text);
                }
            }
            other => {
                errors.push(syn::Error::new_spanned(
                    &other,
                    not_a_string(&other, &format!("each permission in `{name}`"), example),
                ));
                valid = false;
            }
        }
    }
    valid.then_some(texts)
}

/// Reports an empty or blank string, or one with surrounding whitespace (or, for a `word`
/// such as a permission, any whitespace); true when fine.
pub(crate) fn check_text(
    text: &LitStr,
    what: &str,
    example: &str,
    word: bool,
    errors: &mut Errors,
) -> bool {
    let value = text.value();
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.push(syn::Error::new_spanned(
            text,
            format!("{what} cannot be empty; write e.g. `{example}`, or remove it"),
        ));
        false
    } else if trimmed.len() != value.len() {
        errors.push(syn::Error::new_spanned(
            text,
            format!("{what} has leading or trailing whitespace; write `{trimmed:?}`"),
        ));
        false
    } else if word && value.contains(char::is_whitespace) {
        // Permissions are single tokens (`user:read`): one with a space can never be held,
        // so the handler would be unreachable.
        let suggestion: String = value.split_whitespace().collect::<Vec<_>>().join(":");
        errors.push(syn::Error::new_spanned(
            text,
            format!(
                "{what} contains white space, and permissions never do; did you mean `{suggestion:?}`?"
            ),
        ));
        false
    } else {
        true
    }
}

/// The message for a value that should have been a string literal.
pub(crate) fn not_a_string(value: &Value, what: &str, example: &str) -> String {
    let found = match value {
        Value::Other(Expr::Lit(literal)) => match &literal.lit {
            Lit::Int(_) => Some("an integer"),
            Lit::Float(_) => Some("a float"),
            Lit::Bool(_) => Some("a boolean"),
            Lit::Char(_) => Some("a character"),
            Lit::Byte(_) => Some("a byte"),
            Lit::ByteStr(_) => Some("a byte string"),
            Lit::CStr(_) => Some("a C string"),
            _ => Some("this literal"),
        },
        _ => None,
    };
    match found {
        Some(found) => {
            format!("{what} takes a string literal, not {found}; write e.g. `{example}`")
        }
        None => format!(
            "{what} takes a string literal, e.g. `{example}`; the macro reads the value at \
             compile time, so constants, variables and expressions cannot be used"
        ),
    }
}

/// `on_reject = path::to::function`
pub(crate) fn function_path(arg: &Arg, errors: &mut Errors) -> Option<ExprPath> {
    match &arg.value {
        Value::Path(path) => Some(path.clone()),
        Value::Str(text) => {
            errors.push(syn::Error::new_spanned(
                text,
                format!(
                    "`on_reject` takes the path of a function, without quotes: \
                     `on_reject = {}`",
                    text.value()
                ),
            ));
            None
        }
        Value::List(_) | Value::Other(_) => {
            errors.push(syn::Error::new_spanned(
                &arg.value,
                "`on_reject` takes the path of a function `fn(wacht::Rejection) -> R`, where `R` \
                 is the handler's return type, e.g. `on_reject = my_rejection`; closures and \
                 other expressions are not supported, define a function and name it here",
            ));
            None
        }
    }
}

/// `crate = "path::to::wacht"`, parsed into a path spanned at the string.
pub(crate) fn crate_path(arg: &Arg, errors: &mut Errors) -> Option<Path> {
    let example = arg.key.example();
    match &arg.value {
        Value::Str(text) if text.value().trim().is_empty() => {
            errors.push(syn::Error::new_spanned(
                text,
                format!(
                    "`crate` cannot be empty; write the path of the `wacht` crate, e.g. `{example}`"
                ),
            ));
            None
        }
        Value::Str(text) => match text.parse_with(Path::parse_mod_style) {
            Ok(path) => Some(path),
            Err(_) => {
                errors.push(syn::Error::new_spanned(
                    text,
                    format!(
                        "`crate` must hold a path to the `wacht` crate, such as `\"my_wacht\"` \
                         or `\"::renamed\"`; {:?} is not a path",
                        text.value()
                    ),
                ));
                None
            }
        },
        Value::Path(path) => {
            let written = path.to_token_stream().to_string().replace(' ', "");
            errors.push(syn::Error::new_spanned(
                path,
                format!("`crate` takes the path as a string: `crate = \"{written}\"`"),
            ));
            None
        }
        Value::List(_) | Value::Other(_) => {
            errors.push(syn::Error::new_spanned(
                &arg.value,
                format!(
                    "`crate` takes the path of the `wacht` crate as a string, e.g. `{example}`"
                ),
            ));
            None
        }
    }
}

/// The checked arguments of `#[wacht::machine]`.
pub(crate) struct MachineConfig {
    pub(crate) common: Common,
    /// `resource = "/path"` or `"urn:wacht:…"`; default: the request's path.
    pub(crate) resource: Option<LitStr>,
    /// Default: the request's method.
    pub(crate) method: Option<(HttpMethod, LitStr)>,
    /// Default: [`Principal::ApiKey`].
    pub(crate) principal: Option<(Principal, LitStr)>,
    /// Where the API key is read from, lower case; default `x-api-key`.
    pub(crate) header: Option<LitStr>,
}

/// The methods the gateway knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl HttpMethod {
    /// The name of the `http::Method` constant (`GET`, …).
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
        }
    }

    const ALL: [(&'static str, HttpMethod); 7] = [
        (HttpMethod::Get.as_str(), HttpMethod::Get),
        (HttpMethod::Post.as_str(), HttpMethod::Post),
        (HttpMethod::Put.as_str(), HttpMethod::Put),
        (HttpMethod::Patch.as_str(), HttpMethod::Patch),
        (HttpMethod::Delete.as_str(), HttpMethod::Delete),
        (HttpMethod::Head.as_str(), HttpMethod::Head),
        (HttpMethod::Options.as_str(), HttpMethod::Options),
    ];
}

/// Which credentials a machine handler accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    /// `"api_key"`: from `x-api-key` (or `header`).
    ApiKey,
    /// `"oauth_access_token"`: from `Authorization: Bearer`.
    OauthAccessToken,
    /// `"any"`: either.
    Any,
}

impl Principal {
    const ALL: [(&'static str, Principal); 3] = [
        ("api_key", Principal::ApiKey),
        ("oauth_access_token", Principal::OauthAccessToken),
        ("any", Principal::Any),
    ];
}

/// Checks `#[wacht::machine]` arguments.
pub(crate) fn machine(args: Args<Machine>) -> syn::Result<MachineConfig> {
    let mut errors = Errors::default();
    let mut common = CommonBuilder::new::<Machine>();
    let (mut resource, mut method, mut principal, mut header) = (None, None, None, None);
    for_each_arg(args.items, &mut errors, |arg, errors| match arg.key {
        Key::Resource => resource = check_resource(&arg, errors),
        Key::Method => method = check_method(&arg, errors),
        Key::Principal => principal = check_principal(&arg, errors),
        Key::Header => header = check_header(&arg, errors),
        Key::Permission | Key::Any | Key::All | Key::OnReject | Key::Crate => {
            common.take(&arg, errors);
        }
        // Not in `Machine::KEYS`: refused while parsing.
        Key::OrganizationId
        | Key::WorkspaceId
        | Key::Optional
        | Key::OrMachine
        | Key::Event
        | Key::Events
        | Key::SecretEnv
        | Key::MaxBodyBytes
        | Key::ToleranceSeconds
        | Key::Dedup
        | Key::SignInRedirect => {}
    });
    errors.finish(MachineConfig {
        common: common.finish(),
        resource,
        method,
        principal,
        header,
    })
}

fn check_resource(arg: &Arg, errors: &mut Errors) -> Option<LitStr> {
    let text = text(arg, errors)?;
    let value = text.value();
    let mut problems = Errors::default();
    if !value.starts_with('/') && !value.starts_with("urn:wacht:") {
        problems.push(syn::Error::new_spanned(
            &text,
            format!(
                "`resource` must be a path starting with `/`, e.g. `resource = \"/machine/users\"`, \
                 or a name starting with `urn:wacht:`; found {value:?}"
            ),
        ));
    }
    if value.chars().any(char::is_whitespace) {
        problems.push(syn::Error::new_spanned(
            &text,
            "`resource` cannot contain whitespace; percent-encode it (`%20`) or remove it",
        ));
    }
    if let Some(at) = value.find(['?', '#']) {
        let without = &value[..at];
        let suggestion = if without.starts_with('/') || without.starts_with("urn:wacht:") {
            without.to_owned()
        } else {
            format!("/{without}")
        };
        problems.push(syn::Error::new_spanned(
            &text,
            format!(
                "`resource` is matched without query string or fragment; write `resource = {suggestion:?}`"
            ),
        ));
    }
    if value == "urn:wacht:" {
        problems.push(syn::Error::new_spanned(
            &text,
            "`resource` names nothing after `urn:wacht:`; write e.g. `resource = \"urn:wacht:organization:123\"`",
        ));
    }
    let valid = problems.finish(()).map_err(|error| errors.push(error));
    valid.ok().map(|()| text)
}

fn check_method(arg: &Arg, errors: &mut Errors) -> Option<(HttpMethod, LitStr)> {
    let text = text(arg, errors)?;
    let value = text.value();
    if let Some((_, method)) = HttpMethod::ALL.iter().find(|(name, _)| *name == value) {
        return Some((*method, text));
    }
    let upper = value.to_ascii_uppercase();
    let message = if HttpMethod::ALL.iter().any(|(name, _)| *name == upper) {
        format!("HTTP methods are written in upper case; write `method = \"{upper}\"`")
    } else {
        format!(
            "unknown method {value:?}; expected one of {}",
            choices(HttpMethod::ALL.iter().map(|(name, _)| *name))
        )
    };
    errors.push(syn::Error::new_spanned(&text, message));
    None
}

fn check_principal(arg: &Arg, errors: &mut Errors) -> Option<(Principal, LitStr)> {
    let text = text(arg, errors)?;
    let value = text.value();
    if let Some((_, principal)) = Principal::ALL.iter().find(|(name, _)| *name == value) {
        return Some((*principal, text));
    }
    let lower = value.to_ascii_lowercase();
    let message = if Principal::ALL.iter().any(|(name, _)| *name == lower) {
        format!("principals are written in lower case; write `principal = \"{lower}\"`")
    } else {
        format!(
            "unknown principal {value:?}; expected one of {}",
            choices(Principal::ALL.iter().map(|(name, _)| *name))
        )
    };
    errors.push(syn::Error::new_spanned(&text, message));
    None
}

fn check_header(arg: &Arg, errors: &mut Errors) -> Option<LitStr> {
    let text = text(arg, errors)?;
    let value = text.value();
    // RFC 9110 §5.1: a field name is a token.
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let message = if !value.chars().all(is_token_char) {
        format!(
            "{value:?} is not a valid HTTP header name; use letters, digits and `-`, \
             e.g. `header = \"x-custom-key\"`"
        )
    } else if value.chars().any(|c| c.is_ascii_uppercase()) {
        format!(
            "header names are written in lower case; write `header = {:?}`",
            value.to_ascii_lowercase()
        )
    } else {
        return Some(text);
    };
    errors.push(syn::Error::new_spanned(&text, message));
    None
}

/// "`A`, `B`, `C`"
pub(crate) fn choices<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Spec;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn protect_errors(tokens: TokenStream) -> Vec<String> {
        let args = syn::parse2::<Args<Protect>>(tokens).unwrap();
        match protect(args) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn machine_errors(tokens: TokenStream) -> Vec<String> {
        let args = syn::parse2::<Args<Machine>>(tokens).unwrap();
        match machine(args) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn protect_ok(tokens: TokenStream) -> ProtectConfig {
        let args = syn::parse2::<Args<Protect>>(tokens).unwrap();
        match protect(args) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        }
    }

    fn values(texts: &[LitStr]) -> Vec<String> {
        texts.iter().map(LitStr::value).collect()
    }

    #[test]
    fn valid_protect_arguments() {
        let config = protect_ok(quote!(permission = "user:read"));
        assert!(
            matches!(&config.common.permissions, Permissions::One(p) if p.value() == "user:read")
        );

        let config = protect_ok(quote!(
            any = ["a", "b"],
            organization_id = "org_1",
            workspace_id = "ws_1"
        ));
        assert!(
            matches!(&config.common.permissions, Permissions::Any(p) if values(p) == ["a", "b"])
        );
        assert_eq!(config.organization_id.unwrap().value(), "org_1");
        assert_eq!(config.workspace_id.unwrap().value(), "ws_1");

        let config = protect_ok(quote!(
            all = ["a"],
            on_reject = self::reject,
            crate = "::renamed"
        ));
        assert!(matches!(&config.common.permissions, Permissions::All(p) if values(p) == ["a"]));
        assert!(config.common.on_reject.is_some());
        let krate = config.common.krate.unwrap();
        assert_eq!(quote!(#krate).to_string(), ":: renamed");

        let config = protect_ok(quote!());
        assert!(matches!(
            config.common.permissions,
            Permissions::Unrestricted
        ));
        assert!(config.common.on_reject.is_none() && config.common.krate.is_none());
    }

    #[test]
    fn empty_values_are_refused() {
        assert_eq!(
            protect_errors(quote!(
                permission = "",
                any = [],
                organization_id = " ",
                all = ["a", ""]
            )),
            [
                "`permission` cannot be empty; write e.g. `permission = \"user:read\"`, or remove it",
                "`any` needs at least one permission, e.g. `any = [\"user:read\", \"user:write\"]`; \
                 remove the argument to only require a signed-in caller",
                "`any` cannot be combined with `permission`; keep one of them: \
                 `permission = \"a\"` requires one permission, `any = [\"a\", \"b\"]` at least one \
                 of several, `all = [\"a\", \"b\"]` every one of them",
                "`organization_id` cannot be empty; write e.g. `organization_id = \"org_123\"`, \
                 or remove it",
                "a permission in `all` cannot be empty; write e.g. `\"user:read\"`, or remove it",
                "`all` cannot be combined with `permission`; keep one of them: \
                 `permission = \"a\"` requires one permission, `any = [\"a\", \"b\"]` at least one \
                 of several, `all = [\"a\", \"b\"]` every one of them",
            ]
        );
    }

    #[test]
    fn duplicates_are_reported_once_each() {
        assert_eq!(
            protect_errors(quote!(
                permission = "a",
                permission = "b",
                crate = "x",
                crate = "y",
                permission = "c"
            )),
            [
                "duplicate argument `permission`; give each argument once",
                "duplicate argument `crate`; give each argument once",
                "duplicate argument `permission`; give each argument once",
            ]
        );
        assert_eq!(
            machine_errors(quote!(method = "GET", method = "POST")),
            ["duplicate argument `method`; give each argument once"]
        );
    }

    #[test]
    fn wrong_value_kinds() {
        assert_eq!(
            protect_errors(quote!(permission = 5)),
            [
                "`permission` takes a string literal, not an integer; write e.g. `permission = \"user:read\"`"
            ]
        );
        assert_eq!(
            protect_errors(quote!(permission = PERMISSION)),
            [
                "`permission` takes a string literal, e.g. `permission = \"user:read\"`; the macro reads \
              the value at compile time, so constants, variables and expressions cannot be used"
            ]
        );
        assert_eq!(
            protect_errors(quote!(permission = ["a", "b"])),
            [
                "`permission` takes a single string, e.g. `permission = \"user:read\"`; to require \
              several permissions use `any = [...]` (at least one) or `all = [...]` (every one)"
            ]
        );
        assert_eq!(
            protect_errors(quote!(any = "a")),
            [
                "`any` takes a list of strings, e.g. `any = [\"user:read\", \"user:write\"]`; for a \
              single permission write `permission = \"a\"`"
            ]
        );
        assert_eq!(
            protect_errors(quote!(all = ["a", 1, B, "a", " c"])),
            [
                "each permission in `all` takes a string literal, not an integer; write e.g. \
                 `all = [\"user:read\", \"user:write\"]`",
                "each permission in `all` takes a string literal, e.g. `all = [\"user:read\", \
                 \"user:write\"]`; the macro reads the value at compile time, so constants, \
                 variables and expressions cannot be used",
                "\"a\" is listed twice in `all`; remove one",
                "a permission in `all` has leading or trailing whitespace; write `\"c\"`",
            ]
        );
        assert_eq!(
            protect_errors(quote!(workspace_id = true, organization_id = concat!("a"))),
            [
                "`workspace_id` takes a string literal, not a boolean; write e.g. `workspace_id = \"ws_123\"`",
                "`organization_id` takes a string literal, e.g. `organization_id = \"org_123\"`; the \
                 macro reads the value at compile time, so constants, variables and expressions \
                 cannot be used",
            ]
        );
    }

    #[test]
    fn on_reject_must_be_a_path() {
        assert!(protect_errors(quote!(on_reject = handlers::reject)).is_empty());
        assert!(protect_errors(quote!(on_reject = <Api>::reject)).is_empty());
        assert_eq!(
            protect_errors(quote!(on_reject = "reject")),
            ["`on_reject` takes the path of a function, without quotes: `on_reject = reject`"]
        );
        assert_eq!(
            protect_errors(quote!(on_reject = |r| r)),
            [
                "`on_reject` takes the path of a function `fn(wacht::Rejection) -> R`, where `R` is \
              the handler's return type, e.g. `on_reject = my_rejection`; closures and other \
              expressions are not supported, define a function and name it here"
            ]
        );
    }

    #[test]
    fn crate_must_be_a_path_in_a_string() {
        assert!(protect_errors(quote!(crate = "crate::deps::wacht")).is_empty());
        assert_eq!(
            protect_errors(quote!(crate = my_wacht)),
            ["`crate` takes the path as a string: `crate = \"my_wacht\"`"]
        );
        assert_eq!(
            protect_errors(quote!(crate = "")),
            [
                "`crate` cannot be empty; write the path of the `wacht` crate, e.g. `crate = \"my_wacht\"`"
            ]
        );
        assert_eq!(
            protect_errors(quote!(crate = "my wacht")),
            [
                "`crate` must hold a path to the `wacht` crate, such as `\"my_wacht\"` or \
              `\"::renamed\"`; \"my wacht\" is not a path"
            ]
        );
        assert_eq!(
            protect_errors(quote!(crate = 1)),
            [
                "`crate` takes the path of the `wacht` crate as a string, e.g. `crate = \"my_wacht\"`"
            ]
        );
    }

    #[test]
    fn parse_and_validation_errors_come_together() {
        let messages = protect_errors(quote!(permision = "a", any = [], crate = 5));
        assert_eq!(messages.len(), 3);
        assert!(messages[0].starts_with("unknown argument `permision`"));
        assert!(messages[1].starts_with("`any` needs at least one permission"));
        assert!(messages[2].starts_with("`crate` takes the path"));
    }

    #[test]
    fn valid_machine_arguments() {
        let args = syn::parse2::<Args<Machine>>(quote!(
            resource = "/machine/users",
            method = "GET",
            all = ["user:read"],
            principal = "oauth_access_token",
            header = "x-custom-key",
            on_reject = reject,
            crate = "w"
        ))
        .unwrap();
        let config = machine(args).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(config.resource.unwrap().value(), "/machine/users");
        assert_eq!(config.method.unwrap().0, HttpMethod::Get);
        assert_eq!(config.principal.unwrap().0, Principal::OauthAccessToken);
        assert_eq!(config.header.unwrap().value(), "x-custom-key");
        assert!(matches!(config.common.permissions, Permissions::All(_)));
        assert!(config.common.on_reject.is_some() && config.common.krate.is_some());

        for (name, method) in HttpMethod::ALL {
            let args = syn::parse2::<Args<Machine>>(quote!(method = #name)).unwrap();
            assert_eq!(
                machine(args).map(|c| c.method.unwrap().0).ok(),
                Some(method)
            );
        }
        for (name, principal) in Principal::ALL {
            let args = syn::parse2::<Args<Machine>>(quote!(principal = #name)).unwrap();
            assert_eq!(
                machine(args).map(|c| c.principal.unwrap().0).ok(),
                Some(principal)
            );
        }
        assert!(
            machine_errors(quote!(resource = "urn:wacht:users:list", permission = "a")).is_empty()
        );
        assert!(machine_errors(quote!()).is_empty());
    }

    #[test]
    fn machine_resource_rules() {
        assert_eq!(
            machine_errors(quote!(resource = "machine/users")),
            [
                "`resource` must be a path starting with `/`, e.g. `resource = \"/machine/users\"`, \
              or a name starting with `urn:wacht:`; found \"machine/users\""
            ]
        );
        assert_eq!(
            machine_errors(quote!(resource = "/a b?x#y")),
            [
                "`resource` cannot contain whitespace; percent-encode it (`%20`) or remove it",
                "`resource` is matched without query string or fragment; write `resource = \"/a b\"`",
            ]
        );
        assert_eq!(
            machine_errors(quote!(resource = "/users#top")),
            [
                "`resource` is matched without query string or fragment; write `resource = \"/users\"`"
            ]
        );
        assert_eq!(
            machine_errors(quote!(resource = "")),
            [
                "`resource` cannot be empty; write e.g. `resource = \"/machine/users\"`, or remove it"
            ]
        );
    }

    #[test]
    fn machine_method_principal_header_rules() {
        assert_eq!(
            machine_errors(quote!(
                method = "get",
                principal = "API_KEY",
                header = "X-Custom-Key"
            )),
            [
                "HTTP methods are written in upper case; write `method = \"GET\"`",
                "principals are written in lower case; write `principal = \"api_key\"`",
                "header names are written in lower case; write `header = \"x-custom-key\"`",
            ]
        );
        assert_eq!(
            machine_errors(quote!(
                method = "FETCH",
                principal = "session",
                header = "x key:"
            )),
            [
                "unknown method \"FETCH\"; expected one of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, \
                 `HEAD`, `OPTIONS`",
                "unknown principal \"session\"; expected one of `api_key`, `oauth_access_token`, `any`",
                "\"x key:\" is not a valid HTTP header name; use letters, digits and `-`, e.g. \
                 `header = \"x-custom-key\"`",
            ]
        );
        assert_eq!(
            machine_errors(quote!(method = 1, principal = ["any"], header = "")),
            [
                "`method` takes a string literal, not an integer; write e.g. `method = \"GET\"`",
                "`principal` takes a single string, e.g. `principal = \"api_key\"`",
                "`header` cannot be empty; write e.g. `header = \"x-custom-key\"`, or remove it",
            ]
        );
    }

    #[test]
    fn machine_conflicts_and_unknown_keys() {
        let messages = machine_errors(quote!(
            permission = "a",
            any = ["b"],
            workspace_id = "w",
            methd = "GET"
        ));
        assert_eq!(messages.len(), 3);
        assert!(messages[0].starts_with("`any` cannot be combined with `permission`"));
        assert!(messages[1].starts_with("`workspace_id` is an argument of `#[wacht::protect]`"));
        assert_eq!(
            messages[2],
            format!(
                "unknown argument `methd`; expected one of {}",
                Machine::expected()
            )
        );
        assert_eq!(
            Machine::expected(),
            "`resource`, `method`, `permission`, `any`, `all`, `principal`, `header`, \
             `on_reject`, `crate`"
        );
    }
}
