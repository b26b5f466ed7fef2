//! `#[wacht::webhook]`: its arguments, their checks, and its expansion.
//!
//! The handler contract is the other attributes' (`handler`), with `wacht::WebhookEvent` as
//! the identity; the expansion differs: the check takes the request by value (it reads the
//! body), and gives the handler the request back with its body made again.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprPath, FnArg, ItemFn, Lit, LitInt, LitStr, Pat, PatIdent, PatType};

use crate::args::{Arg, Args, Key, Value, Webhook};
use crate::errors::Errors;
use crate::expand::{
    identity_ident, not_a_function, private_path, refuse_stacked, rejection_answer, request_ident,
    unchanged_with_errors, unchanged_with_errors_of, version_check_name, without_compiler_errors,
};
use crate::handler::{Handler, IdentityForm};
use crate::validate::{Common, CommonBuilder, check_text, for_each_arg, not_a_string};

// The event types Wacht sends today: the runtime's `wacht::webhook::EVENT_TYPES` (the facade's
// tests/webhook.rs checks that the two lists are the same). A name within two edits of one of
// these, and not one of them, is taken for a typo.
// BEGIN EVENT TYPES
const EVENT_TYPES: &[&str] = &[
    "user.created",
    "user.updated",
    "user.deleted",
    "user.email.added",
    "user.email.removed",
    "user.email.verified",
    "user.phone.added",
    "user.phone.removed",
    "user.phone.verified",
    "user.password.updated",
    "user.mfa.enabled",
    "user.mfa.disabled",
    "session.created",
    "session.deleted",
    "session.expired",
    "organization.created",
    "organization.updated",
    "organization.deleted",
    "organization.member.added",
    "organization.member.removed",
    "organization.member.role.updated",
    "organization.invitation.created",
    "organization.invitation.accepted",
    "organization.invitation.revoked",
    "workspace.created",
    "workspace.updated",
    "workspace.deleted",
    "workspace.member.added",
    "workspace.member.removed",
    "workspace.member.role.updated",
    "workspace.invitation.created",
    "workspace.invitation.accepted",
    "workspace.invitation.revoked",
    "api_key.created",
    "api_key.deleted",
    "api_key.rotated",
    "agent.created",
    "agent.updated",
    "agent.deleted",
    "agent.execution.started",
    "agent.execution.completed",
    "agent.execution.failed",
    "agent.model.usage",
    "agent.thread.message",
    "agent.thread.platform_event",
    "waitlist.entry.created",
    "waitlist.entry.approved",
];
// END EVENT TYPES

/// The accepted body caps, in bytes (the runtime's `MAX_BODY_BYTES_RANGE`).
const MAX_BODY_BYTES: std::ops::RangeInclusive<u64> = 1..=64 * 1024 * 1024;
/// The accepted tolerances, in seconds (the runtime's `TOLERANCE_RANGE`).
const TOLERANCE_SECONDS: std::ops::RangeInclusive<u64> = 1..=7 * 24 * 3600;

/// `dedup`.
pub(crate) enum Dedup {
    /// A bare `dedup`: the in-memory log.
    Memory,
    /// `dedup = path`: a function returning the log.
    Log(ExprPath),
}

/// The checked arguments of `#[wacht::webhook]`.
pub(crate) struct WebhookConfig {
    pub(crate) common: Common,
    /// `event` / `events`; empty: every type.
    pub(crate) events: Vec<LitStr>,
    pub(crate) secret_env: Option<LitStr>,
    pub(crate) max_body_bytes: Option<LitInt>,
    pub(crate) tolerance_seconds: Option<LitInt>,
    pub(crate) dedup: Option<Dedup>,
}

/// Checks `#[wacht::webhook]` arguments.
pub(crate) fn validate(args: Args<Webhook>) -> syn::Result<WebhookConfig> {
    let mut errors = Errors::default();
    let mut common = CommonBuilder::new::<Webhook>();
    let mut events: Option<(Key, Vec<LitStr>)> = None;
    let (mut secret_env, mut max_body_bytes, mut tolerance_seconds, mut dedup) =
        (None, None, None, None);
    for_each_arg(args.items, &mut errors, |arg, errors| match arg.key {
        Key::Event | Key::Events => {
            if let Some((first, _)) = &events {
                errors.at(
                    arg.key_span,
                    format!(
                        "`{}` cannot be combined with `{}`; keep one: `event = \"user.created\"` \
                         takes one type, `events = [\"user.created\", \"user.updated\"]` several",
                        arg.key.name(),
                        first.name()
                    ),
                );
                return;
            }
            let checked = if arg.key == Key::Event {
                event_name(&arg, errors).map(|name| vec![name])
            } else {
                event_list(&arg, errors)
            };
            events = Some((arg.key, checked.unwrap_or_default()));
        }
        Key::SecretEnv => secret_env = variable_name(&arg, errors),
        Key::MaxBodyBytes => {
            max_body_bytes = integer(&arg, MAX_BODY_BYTES, "bytes", errors);
        }
        Key::ToleranceSeconds => {
            tolerance_seconds = integer(&arg, TOLERANCE_SECONDS, "seconds", errors);
        }
        Key::Dedup => dedup = check_dedup(&arg, errors),
        Key::OnReject | Key::Crate => common.take(&arg, errors),
        // Not in `Webhook::KEYS`: refused while parsing.
        Key::Permission
        | Key::Any
        | Key::All
        | Key::OrganizationId
        | Key::WorkspaceId
        | Key::Resource
        | Key::Method
        | Key::Principal
        | Key::Header
        | Key::Optional
        | Key::OrMachine
        | Key::SignInRedirect => {}
    });
    errors.finish(WebhookConfig {
        common: common.finish(),
        events: events.map(|(_, names)| names).unwrap_or_default(),
        secret_env,
        max_body_bytes,
        tolerance_seconds,
        dedup,
    })
}

/// `event = "user.created"`.
fn event_name(arg: &Arg, errors: &mut Errors) -> Option<LitStr> {
    match &arg.value {
        Value::Str(name) => check_event(name, "`event`", errors).then(|| name.clone()),
        Value::List(list) => {
            errors.push(syn::Error::new_spanned(
                list,
                "`event` takes a single event type, e.g. `event = \"user.created\"`; for several \
                 write `events = [\"user.created\", \"user.updated\"]`",
            ));
            None
        }
        Value::Path(_) | Value::Other(_) => {
            errors.push(syn::Error::new_spanned(
                &arg.value,
                not_a_string(&arg.value, "`event`", arg.key.example()),
            ));
            None
        }
    }
}

/// `events = ["user.created", …]`: at least one, no repeats.
fn event_list(arg: &Arg, errors: &mut Errors) -> Option<Vec<LitStr>> {
    let list = match &arg.value {
        Value::List(list) => list,
        Value::Str(name) => {
            errors.push(syn::Error::new_spanned(
                name,
                format!(
                    "`events` takes a list, e.g. `events = [\"user.created\", \"user.updated\"]`; \
                     for one type write `event = {:?}`",
                    name.value()
                ),
            ));
            return None;
        }
        Value::Path(_) | Value::Other(_) => {
            errors.push(syn::Error::new_spanned(
                &arg.value,
                "`events` takes a list of string literals, e.g. `events = [\"user.created\", \
                 \"user.updated\"]`; the macro reads them at compile time, so constants and \
                 expressions cannot be used",
            ));
            return None;
        }
    };
    if list.elems.is_empty() {
        errors.push(syn::Error::new_spanned(
            list,
            "`events` needs at least one event type, e.g. `events = [\"user.created\"]`; remove \
             the argument to take every event type",
        ));
        return None;
    }
    let mut names: Vec<LitStr> = Vec::new();
    let mut valid = true;
    for element in &list.elems {
        match Value::from(element.clone()) {
            Value::Str(name) => {
                if !check_event(&name, "an event type in `events`", errors) {
                    valid = false;
                } else if names.iter().any(|seen| seen.value() == name.value()) {
                    errors.push(syn::Error::new_spanned(
                        &name,
                        format!("{:?} is listed twice in `events`; remove one", name.value()),
                    ));
                    valid = false;
                } else {
                    names.push(name);
                }
            }
            other => {
                errors.push(syn::Error::new_spanned(
                    &other,
                    not_a_string(&other, "each event type in `events`", arg.key.example()),
                ));
                valid = false;
            }
        }
    }
    valid.then_some(names)
}

/// An event type: not empty, no white space, not a near miss of one of Wacht's.
fn check_event(name: &LitStr, what: &str, errors: &mut Errors) -> bool {
    if !check_text(name, what, "\"user.created\"", false, errors) {
        return false;
    }
    let value = name.value();
    if value.contains(char::is_whitespace) {
        errors.push(syn::Error::new_spanned(
            name,
            format!(
                "{what} contains white space, and event types never do (e.g. `\"user.created\"`)"
            ),
        ));
        return false;
    }
    if EVENT_TYPES.contains(&value.as_str()) {
        return true;
    }
    let lower = value.to_lowercase();
    let near = EVENT_TYPES
        .iter()
        .map(|known| (distance(&lower, known), *known))
        .filter(|(distance, _)| *distance <= 2)
        .min();
    match near {
        Some((_, known)) => {
            errors.push(syn::Error::new_spanned(
                name,
                format!(
                    "unknown event type {value:?}; did you mean {known:?}? (Wacht's types are \
                     listed in `wacht::webhook::EVENT_TYPES`; a type of your own app that is not \
                     this close to one of them is taken as written)"
                ),
            ));
            false
        }
        None => true,
    }
}

/// The edit distance (Levenshtein) between two short names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// `secret_env = "NAME"`: an environment variable's name.
fn variable_name(arg: &Arg, errors: &mut Errors) -> Option<LitStr> {
    let Value::Str(name) = &arg.value else {
        errors.push(syn::Error::new_spanned(
            &arg.value,
            not_a_string(&arg.value, "`secret_env`", arg.key.example()),
        ));
        return None;
    };
    let value = name.value();
    let valid = !value.starts_with("whsec_")
        && value
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        return Some(name.clone());
    }
    let message = if value.starts_with("whsec_") {
        "`secret_env` names the environment variable holding the secret, not the secret: \
         never put a secret in code; write e.g. `secret_env = \"WACHT_WEBHOOK_SECRET\"` and set \
         that variable"
            .to_owned()
    } else {
        format!(
            "{value:?} is not an environment variable's name (letters, digits and `_`, not \
             starting with a digit); write e.g. `secret_env = \"WACHT_WEBHOOK_SECRET\"`"
        )
    };
    errors.push(syn::Error::new_spanned(name, message));
    None
}

/// An integer literal within `range`.
fn integer(
    arg: &Arg,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
    errors: &mut Errors,
) -> Option<LitInt> {
    let name = arg.key.name();
    let example = arg.key.example();
    let literal = match &arg.value {
        Value::Other(Expr::Lit(syn::ExprLit {
            lit: Lit::Int(literal),
            ..
        })) => literal,
        Value::Str(text) => {
            errors.push(syn::Error::new_spanned(
                text,
                format!("`{name}` takes a number of {unit}, without quotes: e.g. `{example}`"),
            ));
            return None;
        }
        other => {
            errors.push(syn::Error::new_spanned(
                other,
                format!(
                    "`{name}` takes an integer literal ({unit}), e.g. `{example}`; the macro reads \
                     it at compile time, so constants and expressions cannot be used"
                ),
            ));
            return None;
        }
    };
    match literal.base10_parse::<u64>() {
        Ok(value) if range.contains(&value) && literal.suffix().is_empty() => Some(literal.clone()),
        Ok(_) if !literal.suffix().is_empty() => {
            errors.push(syn::Error::new_spanned(
                literal,
                format!("`{name}` takes a plain integer, without a type suffix: e.g. `{example}`"),
            ));
            None
        }
        _ => {
            errors.push(syn::Error::new_spanned(
                literal,
                format!(
                    "`{name}` must be between {} and {} {unit}",
                    range.start(),
                    range.end()
                ),
            ));
            None
        }
    }
}

/// `dedup` (the in-memory log) or `dedup = path::to::function`.
fn check_dedup(arg: &Arg, errors: &mut Errors) -> Option<Dedup> {
    match &arg.value {
        Value::Path(path) => Some(Dedup::Log(path.clone())),
        // The bare flag (see `args`).
        Value::Other(Expr::Verbatim(tokens)) if tokens.is_empty() => Some(Dedup::Memory),
        other => {
            errors.push(syn::Error::new_spanned(
                other,
                "`dedup` is written alone (a log in this process's memory), or as \
                 `dedup = my_log` naming a function that returns your \
                 `wacht::webhook::DeliveryLog`",
            ));
            None
        }
    }
}

/// `#[wacht::webhook(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(error) => return not_a_function::<Webhook>(item, &error),
    };
    let mut errors = Errors::default();
    let config = syn::parse2::<Args<Webhook>>(args)
        .and_then(validate)
        .map_err(|error| errors.push(error));
    let fallback = without_compiler_errors(&function).unwrap_or(item);
    let krate = config
        .as_ref()
        .ok()
        .and_then(|config| config.common.krate.clone());
    if let Some(refused) = refuse_stacked::<Webhook>(&function, krate.as_ref()) {
        return refused;
    }
    let handler = Handler::analyze::<Webhook>(function).map_err(|error| errors.push(error));
    if let Ok(handler) = &handler {
        for (param, form) in &handler.identities {
            if *form == IdentityForm::Option {
                errors.push(syn::Error::new_spanned(
                    &param.ty,
                    "a webhook handler always has its event: take `wacht::WebhookEvent`, not \
                     an `Option` of it",
                ));
            }
        }
    }
    if let Err(error) = std::mem::take(&mut errors).finish(()) {
        return unchanged_with_errors_of(fallback, error);
    }
    match (config, handler) {
        (Ok(config), Ok(handler)) => guarded(handler, &config),
        _ => unchanged_with_errors(fallback, errors),
    }
}

/// The `WebhookSpec { … }` of the arguments.
fn spec(config: &WebhookConfig, private: &TokenStream) -> TokenStream {
    let secret_env = match &config.secret_env {
        Some(name) => quote!(#name),
        None => quote!("WACHT_WEBHOOK_SECRET"),
    };
    let events = &config.events;
    let some_usize = |literal: Option<&LitInt>| match literal {
        Some(literal) => {
            let value = LitInt::new(literal.base10_digits(), literal.span());
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    };
    let max_body_bytes = some_usize(config.max_body_bytes.as_ref());
    let tolerance_seconds = some_usize(config.tolerance_seconds.as_ref());
    let dedup = match &config.dedup {
        None => quote!(::core::option::Option::None),
        Some(Dedup::Memory) => quote!(::core::option::Option::Some(#private::memory_log)),
        Some(Dedup::Log(path)) => {
            // The user's function is called once; a value that is not a log is reported at
            // the path.
            let call = quote_spanned! {path.span()=> #private::user_log(#path()) };
            quote!(::core::option::Option::Some(|| #call))
        }
    };
    quote! {
        #private::WebhookSpec {
            secret_env: #secret_env,
            events: &[#(#events),*],
            max_body_bytes: #max_body_bytes,
            tolerance_seconds: #tolerance_seconds,
            dedup: #dedup,
        }
    }
}

/// The handler with the webhook check in front of its body.
fn guarded(handler: Handler, config: &WebhookConfig) -> TokenStream {
    let Handler {
        attrs,
        inner_attrs,
        vis,
        mut sig,
        receiver,
        request: user_request,
        request_at,
        identities,
        mut rest,
        output,
        into_response,
        block,
    } = handler;
    let krate = private_path(config.common.krate.as_ref());
    let private = quote!(__wacht);
    let import = quote!(use #krate as __wacht;);
    let version_check = Ident::new(&version_check_name(), Span::call_site());
    let spec = spec(config, &private);

    let plain_ident = |pat: &Pat| match pat {
        Pat::Ident(PatIdent {
            by_ref: None,
            subpat: None,
            ident,
            ..
        }) => Some(ident.clone()),
        _ => None,
    };
    let request = plain_ident(&user_request.pat).unwrap_or_else(request_ident);
    let event = identities
        .last()
        .map(|(param, _)| plain_ident(&param.pat).unwrap_or_else(identity_ident))
        .unwrap_or_else(identity_ident);
    let rejection = request.clone();
    // The outer signature: the request in its place under the user's name (not `mut`: it is
    // moved into the check), identity parameters removed.
    rest.insert(
        request_at,
        FnArg::Typed(PatType {
            attrs: Vec::new(),
            pat: Box::new(Pat::Ident(PatIdent {
                attrs: Vec::new(),
                by_ref: None,
                mutability: None,
                ident: request.clone(),
                subpat: None,
            })),
            colon_token: user_request.colon_token,
            ty: user_request.ty.clone(),
        }),
    );
    sig.inputs = receiver.into_iter().chain(rest).collect();

    let reject = rejection_answer(
        &output,
        config.common.on_reject.as_ref(),
        into_response,
        &private,
        &rejection,
    );

    // The request again, with its body made from the verified bytes; bound without a type:
    // a body that cannot be made again (hyper's `Incoming`) comes back as `Full<Bytes>`.
    let bind_request = {
        let PatType { attrs, pat, .. } = &user_request;
        quote! { #(#attrs)* let #pat = #request; }
    };
    let last = identities.len().saturating_sub(1);
    let bind_events = identities.iter().enumerate().map(|(index, (param, _))| {
        let PatType { attrs, pat, ty, .. } = param;
        let value = if index == last {
            quote!(#event)
        } else {
            quote!(::core::clone::Clone::clone(&#event))
        };
        let span = Span::call_site().located_at(ty.span());
        let value = quote_spanned! {span=> <#ty as #private::Identity<_>>::from_identity(#value) };
        quote! { #(#attrs)* let #pat: #ty = #value; }
    });

    let mut block = block;
    let user_braces = block.brace_token;
    block.brace_token = syn::token::Brace(Span::call_site().located_at(user_braces.span.join()));

    let closure = if crate::handler::find_impl_trait(&output).is_some() {
        quote! { #private::run_body(async move || #block) }
    } else {
        quote! { #private::run_body(async move || -> #output #block) }
    };
    if into_response {
        sig.output = syn::parse_quote!(-> #krate::AxumResponse);
    }
    let claim = Ident::new("__wacht_claim", Span::mixed_site());
    let answer = Ident::new("__wacht_answer", Span::mixed_site());
    let handled = Ident::new("__wacht_handled", Span::mixed_site());
    let run = match (config.dedup.is_some(), into_response) {
        (false, false) => quote!(#block),
        (false, true) => quote! { #private::into_axum_response(#closure.await) },
        // With a delivery log, the answer is looked at before it is returned: the body runs
        // in an async closure (so `return` and `?` mean what they meant).
        (true, false) => quote! {
            let #answer: #output = #closure.await;
            let #handled = #private::answered_ok(&#answer);
            #private::finish_delivery(#claim, #handled).await;
            #answer
        },
        (true, true) => quote! {
            let #answer = #private::into_axum_response(#closure.await);
            let #handled = #private::answered_ok(&#answer);
            #private::finish_delivery(#claim, #handled).await;
            #answer
        },
    };
    let delivery = Ident::new("__wacht_delivery", Span::mixed_site());
    let rebuild = Ident::new("__wacht_rebuild", Span::mixed_site());
    let bind_claim = config
        .dedup
        .is_some()
        .then(|| quote! { let #claim = #delivery.claim; });
    let bind_event = (!identities.is_empty()).then(|| quote! { let #event = #delivery.event; });

    let mut body = TokenStream::new();
    user_braces.surround(&mut body, |body| {
        body.extend(quote! {
            #(#inner_attrs)*
            #import
            let () = #private::#version_check;
            static __WACHT_WEBHOOK: #private::LazyLock<#private::Webhook> =
                #private::LazyLock::new(|| #private::webhook_settings(#spec));
            let #rebuild = #private::Rebuild::of(&#request);
            let #delivery = match #private::receive_webhook(#request, &__WACHT_WEBHOOK).await {
                ::core::result::Result::Ok(#delivery) => #delivery,
                ::core::result::Result::Err(#rejection) => return #reject,
            };
            let #request = {
                #[allow(unused_imports)]
                use #private::{
                    RebuildBytes as _, RebuildFull as _, RebuildString as _, RebuildVec as _,
                    RebuildWorkers as _,
                };
                #private::request_from_parts(
                    #delivery.parts,
                    (&&&&&#rebuild).rebuild(#delivery.body),
                )
            };
            #bind_claim
            #bind_event
            #bind_request
            #(#bind_events)*
            #run
        });
    });
    quote! {
        #(#attrs)*
        #vis #sig #body
    }
}
