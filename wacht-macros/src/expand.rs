//! Generating the guarded handler.
//!
//! The signature is re-emitted as written, except that the request parameter becomes `mut`
//! (under the user's own name; an internal `__wacht_request` only for a pattern or `_`) and
//! identity parameters are removed. The body gains a few statements in front: check the request (all logic lives in the runtime, reached via `__private`), return a
//! rejection in the handler's own type, store the identity in the request's extensions, and bind
//! the user's parameters. The user's block follows as its own block, unchanged.

use crate::args::{Args, Machine, Protect, Spec};
use crate::errors::Errors;
use crate::handler::{Handler, IdentityForm};
use crate::openapi;
use crate::validate::{self, Common, MachineConfig, Permissions, Principal, ProtectConfig};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{ExprPath, FnArg, ItemFn, LitStr, Pat, PatIdent, PatType, Path};

/// What differs between the two macros' expansions: how arguments are checked, and the
/// runtime calls put in front of the body.
pub(crate) trait Expand: Spec + Sized {
    /// The checked arguments.
    type Config;
    /// Checks the parsed arguments, collecting every problem.
    fn validate(args: Args<Self>) -> syn::Result<Self::Config>;
    /// The `crate = "…"` and `on_reject = …` overrides.
    fn common(config: &Self::Config) -> &Common;
    /// The requirement (built once) and the calls that check it.
    fn guard(config: &Self::Config, private: &TokenStream) -> Guard;
    /// The identity form parameters must take under this configuration.
    fn form(_config: &Self::Config) -> IdentityForm {
        IdentityForm::Plain
    }
    /// What the configuration enforces, for a `#[utoipa::path]` on the handler.
    fn doc(config: &Self::Config) -> openapi::Doc;
}

impl Expand for Protect {
    type Config = ProtectConfig;

    fn validate(args: Args<Self>) -> syn::Result<ProtectConfig> {
        validate::protect(args)
    }

    fn common(config: &ProtectConfig) -> &Common {
        &config.common
    }

    fn form(config: &ProtectConfig) -> IdentityForm {
        match (config.optional, &config.or_machine) {
            (Some(_), _) => IdentityForm::Option,
            (None, Some(_)) => IdentityForm::Caller,
            (None, None) => IdentityForm::Plain,
        }
    }

    fn doc(config: &ProtectConfig) -> openapi::Doc {
        openapi::Doc::protect(config)
    }

    fn guard(config: &ProtectConfig, private: &TokenStream) -> Guard {
        // Session permissions are checked here: `permission` is "any of one".
        let permissions = match &config.common.permissions {
            Permissions::Unrestricted => quote!(#private::Permissions::Unrestricted),
            Permissions::One(permission) => quote!(#private::Permissions::Any(&[#permission])),
            Permissions::Any(list) => quote!(#private::Permissions::Any(&[#(#list),*])),
            Permissions::All(list) => quote!(#private::Permissions::All(&[#(#list),*])),
        };
        let organization_id = optional(config.organization_id.as_ref());
        let workspace_id = optional(config.workspace_id.as_ref());
        let sign_in_redirect = match &config.sign_in_redirect {
            Some(value) => quote!(#value),
            None => quote!(true),
        };
        let session = quote! {
            #private::ProtectSpec {
                permissions: #permissions,
                organization_id: #organization_id,
                workspace_id: #workspace_id,
                sign_in_redirect: #sign_in_redirect,
            }
        };
        if let Some((_, machine)) = &config.or_machine {
            let machine = machine_spec(machine, private);
            return Guard {
                setup: quote! {
                    static __WACHT_REQUIREMENT: #private::LazyLock<(
                        #private::Requirement,
                        #private::MachineRequirement,
                    )> = #private::LazyLock::new(|| {
                        #private::either_requirement(#session, #machine)
                    });
                },
                check: quote! { #private::protect_or_machine },
                insert: quote! { #private::insert_caller },
                answer_headers: true,
            };
        }
        Guard {
            setup: quote! {
                static __WACHT_REQUIREMENT: #private::LazyLock<#private::Requirement> =
                    #private::LazyLock::new(|| {
                        #private::requirement(#session)
                    });
            },
            check: if config.optional.is_some() {
                quote! { #private::protect_optional }
            } else {
                quote! { #private::protect }
            },
            insert: if config.optional.is_some() {
                quote! { #private::insert_optional_auth }
            } else {
                quote! { #private::insert_auth }
            },
            answer_headers: true,
        }
    }
}

impl Expand for Machine {
    type Config = MachineConfig;

    fn validate(args: Args<Self>) -> syn::Result<MachineConfig> {
        validate::machine(args)
    }

    fn common(config: &MachineConfig) -> &Common {
        &config.common
    }

    fn doc(config: &MachineConfig) -> openapi::Doc {
        openapi::Doc::machine(config)
    }

    fn guard(config: &MachineConfig, private: &TokenStream) -> Guard {
        let spec = machine_spec(config, private);
        Guard {
            setup: quote! {
                static __WACHT_REQUIREMENT: #private::LazyLock<#private::MachineRequirement> =
                    #private::LazyLock::new(|| {
                        #private::machine_requirement(#spec)
                    });
            },
            check: quote! { #private::machine },
            insert: quote! { #private::insert_machine_auth },
            answer_headers: false,
        }
    }
}

/// The `MachineSpec { … }` of a machine configuration: typed, by field.
fn machine_spec(config: &MachineConfig, private: &TokenStream) -> TokenStream {
    // The gateway ANDs `required_permissions`: `permission` and `all` go there; `any` is
    // checked on the permissions the gateway returns.
    let permissions = match &config.common.permissions {
        Permissions::Unrestricted => quote!(#private::Permissions::Unrestricted),
        Permissions::One(permission) => quote!(#private::Permissions::All(&[#permission])),
        Permissions::Any(list) => quote!(#private::Permissions::Any(&[#(#list),*])),
        Permissions::All(list) => quote!(#private::Permissions::All(&[#(#list),*])),
    };
    let resource = optional(config.resource.as_ref());
    let method = match &config.method {
        Some((method, literal)) => {
            let name = Ident::new(method.as_str(), literal.span());
            quote!(::core::option::Option::Some(#private::Method::#name))
        }
        None => quote!(::core::option::Option::None),
    };
    let principal = match config.principal.as_ref().map(|(principal, _)| *principal) {
        Some(Principal::OauthAccessToken) => quote!(OauthAccessToken),
        Some(Principal::Any) => quote!(Any),
        Some(Principal::ApiKey) | None => quote!(ApiKey),
    };
    // Checked at compile time (a `const`): an invalid name cannot reach the runtime.
    let header = match &config.header {
        Some(header) => quote! {
            ::core::option::Option::Some({
                const __WACHT_HEADER: #private::HeaderName =
                    #private::HeaderName::from_static(#header);
                __WACHT_HEADER
            })
        },
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #private::MachineSpec {
            resource: #resource,
            method: #method,
            permissions: #permissions,
            principal: #private::AcceptedPrincipal::#principal,
            header: #header,
        }
    }
}

/// `#[wacht::protect(args)] item` or `#[wacht::machine(args)] item`.
pub(crate) fn expand<M: Expand>(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(error) => return not_a_function::<M>(item, &error),
    };
    let mut errors = Errors::default();
    let config = syn::parse2::<Args<M>>(args)
        .and_then(M::validate)
        .map_err(|error| errors.push(error));
    let fallback = without_compiler_errors(&function).unwrap_or(item);
    let function_for_stacking = function.clone();
    let krate = config
        .as_ref()
        .ok()
        .and_then(|config| M::common(config).krate.clone());
    if let Some(refused) = refuse_stacked::<M>(&function_for_stacking, krate.as_ref()) {
        return refused;
    }
    let mut handler = Handler::analyze::<M>(function).map_err(|error| errors.push(error));
    if let (Ok(config), Ok(handler)) = (&config, &mut handler) {
        // A `#[utoipa::path]` below: its `security` and refusal answers, from the arguments.
        let private = private_path(M::common(config).krate.as_ref());
        if let Err(error) =
            openapi::rewrite(&mut handler.attrs, &M::doc(config), &private, M::MACRO)
        {
            errors.push(error);
        }
        let expected = M::form(config);
        for (param, form) in &handler.identities {
            if *form == expected {
                continue;
            }
            let message = match (expected, form) {
                (IdentityForm::Option, _) => "with `optional`, a signed-out caller has no \
                    identity: take `Option<wacht::Auth>` (`None` when signed out)"
                    .to_owned(),
                (IdentityForm::Caller, _) => "with `or_machine(…)`, the caller is a person or a \
                    machine: take `wacht::Caller` (`Caller::Session(auth)` or \
                    `Caller::Machine(auth)`)"
                    .to_owned(),
                (IdentityForm::Plain, IdentityForm::Option) => format!(
                    "an `Option` of the identity is filled only under \
                     `#[wacht::protect(optional)]`; add `optional`, or take `wacht::{}`",
                    M::IDENTITY
                ),
                (IdentityForm::Plain, _) => format!(
                    "`wacht::Caller` is filled only under `#[wacht::protect(…, or_machine(…))]`; \
                     add `or_machine(…)`, or take `wacht::{}`",
                    M::IDENTITY
                ),
            };
            errors.push(syn::Error::new_spanned(&param.ty, message));
        }
    }
    if let Err(error) = std::mem::take(&mut errors).finish(()) {
        return unchanged_with_errors_of(fallback, error);
    }
    match (config, handler) {
        (Ok(config), Ok(handler)) => {
            let common = M::common(&config);
            let krate = private_path(common.krate.as_ref());
            // Every runtime path goes through one `use` of `__private`: a wrong `crate = "…"`
            // is then one error, at its string.
            let private = quote!(__wacht);
            let guard = M::guard(&config, &private);
            let import = quote!(use #krate as __wacht;);
            guarded(
                handler,
                &krate,
                import,
                &private,
                common.on_reject.as_ref(),
                guard,
            )
        }
        _ => unchanged_with_errors(fallback, errors),
    }
}

/// The three attributes' names.
const WACHT_ATTRIBUTES: [&str; 3] = ["protect", "machine", "webhook"];

/// Another `wacht` attribute on the same function: `#[wacht::protect]`, `#[wacht::machine]`,
/// `#[wacht::webhook]`, the same through the `crate = "…"` path, or a bare one.
pub(crate) fn stacked_attribute<'a>(
    attrs: &'a [syn::Attribute],
    krate: Option<&Path>,
) -> Option<&'a syn::Attribute> {
    attrs.iter().find(|attr| {
        let path = attr.path();
        let Some(last) = path.segments.last() else {
            return false;
        };
        if !WACHT_ATTRIBUTES.iter().any(|name| last.ident == name) {
            return false;
        }
        let prefix: Vec<String> = path
            .segments
            .iter()
            .take(path.segments.len() - 1)
            .map(|segment| segment.ident.to_string())
            .collect();
        let krate: Option<Vec<String>> =
            krate.map(|krate| krate.segments.iter().map(|s| s.ident.to_string()).collect());
        prefix.is_empty() || prefix == ["wacht"] || krate.is_some_and(|krate| krate == prefix)
    })
}

/// With another `wacht` attribute under this one: exactly one error, at that attribute, and
/// in place of the function a stub with the signature callers expect (no identity
/// parameter, no `wacht` attribute left to expand), so nothing else is reported: not the
/// inner attribute's own errors, nor a wrong argument count at every call.
pub(crate) fn refuse_stacked<M: Spec>(
    function: &ItemFn,
    krate: Option<&Path>,
) -> Option<TokenStream> {
    let stacked = stacked_attribute(&function.attrs, krate)?;
    let other = stacked
        .path()
        .segments
        .last()
        .map(|segment| segment.ident.to_string())
        .unwrap_or_default();
    let this = M::MACRO;
    let message = match (this, other.as_str()) {
        ("#[wacht::protect]", "protect") => "two `#[wacht::protect]` on one handler do not add \
            up: each checks the request on its own. To require several permissions, write one \
            attribute: `#[wacht::protect(all = [\"a\", \"b\"])]` (every one) or \
            `#[wacht::protect(any = [\"a\", \"b\"])]` (at least one)"
            .to_owned(),
        ("#[wacht::machine]", "machine") => "two `#[wacht::machine]` on one handler do not add \
            up: each asks the gateway on its own. Write one attribute: \
            `#[wacht::machine(all = [\"a\", \"b\"])]` requires every permission"
            .to_owned(),
        ("#[wacht::webhook]", _) | (_, "webhook") => format!(
            "`#[wacht::webhook]` cannot be combined with `#[wacht::{}]`: a webhook delivery \
             comes from Wacht itself, signed with the endpoint's secret, and carries no session \
             or API key. Give the webhook its own handler",
            if other == "webhook" {
                this.trim_start_matches("#[wacht::").trim_end_matches(']')
            } else {
                other.as_str()
            }
        ),
        _ => format!(
            "`{this}` cannot be combined with another `#[wacht::protect]` or \
             `#[wacht::machine]` on the same handler: each checks the request on its own and \
             the handler receives one identity. For people and machines on one route write \
             `#[wacht::protect(…, or_machine(…))]` (the handler takes a `wacht::Caller`); \
             otherwise use one handler for people, another for machines"
        ),
    };
    let mut errors = Errors::default();
    errors.push(syn::Error::new_spanned(stacked, message));
    Some(unchanged_with_errors(stacked_stub(function, krate), errors))
}

/// The function as callers see it once expanded: `wacht` attributes and identity parameters
/// removed, the body never run.
fn stacked_stub(function: &ItemFn, krate: Option<&Path>) -> TokenStream {
    const IDENTITIES: [&str; 4] = ["Auth", "MachineAuth", "WebhookEvent", "Caller"];
    let named = |ty: &syn::Type, names: &[&str]| {
        match ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|last| {
                names.iter().any(|name| last.ident == name)
                    || (last.ident == "Option"
                        && matches!(&last.arguments, syn::PathArguments::AngleBracketed(args)
                            if args.args.iter().any(|arg| matches!(arg,
                                syn::GenericArgument::Type(syn::Type::Path(inner))
                                    if inner.path.segments.last().is_some_and(|s| names.iter().any(|name| s.ident == name))))))
            }),
        _ => false,
    }
    };
    let mut stub = function.clone();
    stub.attrs.retain(|attr| {
        !attr
            .path()
            .segments
            .last()
            .is_some_and(|last| WACHT_ATTRIBUTES.iter().any(|name| last.ident == name))
    });
    stub.sig.inputs = stub
        .sig
        .inputs
        .into_iter()
        .filter(|input| !matches!(input, FnArg::Typed(param) if named(&param.ty, &IDENTITIES)))
        .collect();
    if cfg!(feature = "axum")
        && let syn::ReturnType::Type(_, output) = &stub.sig.output
        && crate::handler::find_impl_trait(output).is_some()
    {
        let private = private_path(krate);
        stub.sig.output = syn::parse_quote!(-> #private::AxumResponse);
    }
    stub.block = Box::new(syn::parse_quote!({
        ::core::unreachable!("refused at compile time")
    }));
    stub.attrs
        .push(syn::parse_quote!(#[allow(unused_variables, unreachable_code)]));
    quote!(#stub)
}

/// The macro-specific parts of a guarded handler.
pub(crate) struct Guard {
    /// Items placed first in the body (the requirement, built once).
    setup: TokenStream,
    /// `async fn(&Request<B>, &Requirement) -> Result<Identity, Rejection>`, called with the
    /// request and `&__WACHT_REQUIREMENT`.
    check: TokenStream,
    /// `fn(&mut Request<B>, &Identity)` storing the identity in the request's extensions.
    insert: TokenStream,
    /// Whether the check may want headers on the answer (a browser session's cookies): the
    /// body's value then passes through `Finish`.
    answer_headers: bool,
}

/// The handler with `guard` in front of its body.
fn guarded(
    handler: Handler,
    krate: &TokenStream,
    import: TokenStream,
    private: &TokenStream,
    on_reject: Option<&ExprPath>,
    guard: Guard,
) -> TokenStream {
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
    let Guard {
        setup,
        check,
        insert,
        answer_headers,
    } = guard;
    // `wacht` and `wacht-macros` must be the same release: `__private` changes between them.
    let version_check = Ident::new(&version_check_name(), Span::call_site());
    let version_check = quote!(let () = #private::#version_check;);

    // Bindings. Where the user named a parameter with a plain identifier, the expansion binds
    // that identifier (the request, the last identity): a name the user's own signature
    // already binds cannot be a constant in scope, so nothing the user has in scope clashes.
    // Only for a pattern or `_` does it fall back to an internal mixed-site name, which the
    // body cannot see; a *constant* of that name in scope would still clash there (rustc
    // resolves identifier patterns against items at the call site whatever the span, and
    // `def_site` hygiene is unstable). The rejection is bound under the request's name, in
    // its own match arm.
    let plain_ident = |pat: &Pat| match pat {
        Pat::Ident(PatIdent {
            by_ref: None,
            subpat: None,
            ident,
            ..
        }) => Some(ident.clone()),
        _ => None,
    };
    // The outer signature: the request in its place, under the user's own name when it is a
    // plain identifier (so `#[tracing::instrument(skip(req))]` below still sees `req`);
    // identity parameters removed.
    let request = plain_ident(&user_request.pat).unwrap_or_else(request_ident);
    let identity = identities
        .last()
        .map(|(param, _)| plain_ident(&param.pat).unwrap_or_else(identity_ident));
    let rejection = request.clone();
    let outer_request = FnArg::Typed(PatType {
        attrs: Vec::new(),
        pat: Box::new(Pat::Ident(PatIdent {
            attrs: Vec::new(),
            by_ref: None,
            mutability: Some(Default::default()),
            ident: request.clone(),
            subpat: None,
        })),
        colon_token: user_request.colon_token,
        ty: user_request.ty.clone(),
    });
    rest.insert(request_at, outer_request);
    sig.inputs = receiver
        .into_iter()
        .chain(rest)
        .collect::<Punctuated<FnArg, syn::Token![,]>>();

    let reject = rejection_answer(&output, on_reject, into_response, private, &rejection);

    let bind_request = {
        let PatType { attrs, pat, ty, .. } = &user_request;
        quote! { #(#attrs)* let #pat: #ty = #request; }
    };
    let last = identities.len().saturating_sub(1);
    let bind_identities = identities.iter().enumerate().map(|(index, (param, _))| {
        let PatType { attrs, pat, ty, .. } = param;
        let value = if index == last {
            quote!(#identity)
        } else {
            quote!(::core::clone::Clone::clone(&#identity))
        };
        // A parameter whose type merely shares the name (`struct Auth;`) is reported at it,
        // saying that matching is by name.
        let span = Span::call_site().located_at(ty.span());
        let value = quote_spanned! {span=> <#ty as #private::Identity<_>>::from_identity(#value) };
        quote! { #(#attrs)* let #pat: #ty = #value; }
    });

    // The body stays its own block. Its braces are marked as generated (in place) so that
    // lints about the braces themselves (`unused_braces` on a one-line body) do not fire on
    // what the user wrote as a function body. The function's own braces take the user's
    // spans instead: the item then spans the user's code only, so lints about the function
    // itself (`dead_code`) still fire, as without the macro.
    let mut block = block;
    let user_braces = block.brace_token;
    block.brace_token = syn::token::Brace(Span::call_site().located_at(user_braces.span.join()));

    // With the `axum` feature and a return type that is not a response: the emitted function
    // returns `axum::response::Response`; the user's block runs in an async closure with the
    // declared return type (so `return` and `?` mean what they meant), and its value is
    // converted with `IntoResponse`.
    let block = if into_response {
        // Run by value (`AsyncFnOnce`), so the future owns the closure: a captured request
        // whose body is not `Sync` keeps the future `Send`.
        let closure = if crate::handler::find_impl_trait(&output).is_some() {
            quote! { #private::run_body(async move || #block) }
        } else {
            quote! { #private::run_body(async move || -> #output #block) }
        };
        // The signature is outside the body's `use`: the full path.
        sig.output = syn::parse_quote!(-> #krate::AxumResponse);
        quote! {
            #private::into_axum_response(#closure.await)
        }
    } else if answer_headers {
        // The body's value must pass through `Finish` (a browser session's cookies), so it
        // runs in an async closure with the declared return type: `return` and `?` keep
        // their meaning.
        quote! { #private::run_body(async move || -> #output #block).await }
    } else {
        quote!(#block)
    };
    let bindings = quote! {
        #bind_request
        #(#bind_identities)*
    };
    // A session check may want headers on the answer (the cookies of a browser session):
    // they leave the request before the body takes it, and join the body's value. A return
    // type that is not a response (possible with `on_reject`) cannot carry them.
    let tail = if answer_headers {
        let value_type = if into_response {
            quote!(#private::AxumResponse)
        } else {
            quote!(#output)
        };
        quote! {
            {
                #[allow(unused_imports)]
                use #private::{ViaOther as _, ViaResponse as _};
                (&&#private::Finish::<#value_type>::new()).finish(
                    #private::take_headers(&mut #request),
                    {
                        #bindings
                        #block
                    },
                )
            }
        }
    } else {
        quote! {
            #bindings
            #block
        }
    };

    // The check, the identity stored in the request, and an early return on a rejection.
    let outcome = quote! {
        #private::admit(#check(&#request, &__WACHT_REQUIREMENT).await, &mut #request, #insert)
    };
    let admit = match &identity {
        Some(identity) => quote! {
            let #identity = match #outcome {
                ::core::result::Result::Ok(#identity) => #identity,
                ::core::result::Result::Err(#rejection) => return #reject,
            };
        },
        None => quote! {
            if let ::core::result::Result::Err(#rejection) = #outcome {
                return #reject;
            }
        },
    };

    let mut body = TokenStream::new();
    user_braces.surround(&mut body, |body| {
        body.extend(quote! {
            #(#inner_attrs)*
            #import
            #version_check
            #setup
            #admit
            #tail
        });
    });
    quote! {
        #(#attrs)*
        #vis #sig #body
    }
}

/// The expression a rejected request returns, in the handler's own return type: through the
/// `on_reject` function, axum's `IntoResponse`, the Workers body, or `RejectionResponse`. A
/// missing conversion is reported at the return type. `rejection` is the rejection's binding.
pub(crate) fn rejection_answer(
    output: &syn::Type,
    on_reject: Option<&ExprPath>,
    into_response: bool,
    private: &TokenStream,
    rejection: &Ident,
) -> TokenStream {
    match (on_reject, into_response) {
        // Through a `fn(Rejection) -> R` pointer: a function of another shape (`async fn`,
        // a wrong return type) is reported as that, at the path.
        (Some(path), false) => quote_spanned! {path.span()=>
            #private::OnReject::<#output> { function: #path }.call(#rejection)
        },
        (Some(path), true) => quote_spanned! {path.span()=>
            #private::into_axum_response(#path(#rejection))
        },
        (None, true) => quote! { #private::into_axum_response(#rejection) },
        (None, false) if cfg!(feature = "workers") => {
            // `worker::Body` responses and all others (see `Reply` in the runtime).
            let span = Span::call_site().located_at(output.span());
            quote_spanned! {span=>
                {
                    #[allow(unused_imports)]
                    use #private::{ViaBody as _, ViaWorkers as _};
                    (&&#private::Reply::<#output>::new()).reply(#rejection)
                }
            }
        }
        (None, false) => {
            let span = Span::call_site().located_at(output.span());
            quote_spanned! {span=>
                <#output as #private::RejectionResponse>::from_rejection(#rejection)
            }
        }
    }
}

/// `WACHT_MACROS_0_2_0_NEED_WACHT_0_2_0`: a constant of `wacht::__private` the expansion
/// names, so a `wacht` of another release fails to compile with this name in the message.
pub(crate) fn version_check_name() -> String {
    let version = env!("CARGO_PKG_VERSION").replace(['.', '-', '+'], "_");
    format!("WACHT_MACROS_{version}_NEED_WACHT_{version}")
}

pub(crate) fn request_ident() -> Ident {
    Ident::new("__wacht_request", Span::mixed_site())
}

pub(crate) fn identity_ident() -> Ident {
    Ident::new("__wacht_auth", Span::mixed_site())
}

/// `::wacht::__private`, or `<crate>::__private` (spanned at the `crate = "…"` string).
pub(crate) fn private_path(krate: Option<&Path>) -> TokenStream {
    match krate {
        Some(krate) => {
            let private = Ident::new("__private", krate.span());
            quote!(#krate::#private)
        }
        None => quote!(::wacht::__private),
    }
}

fn optional(value: Option<&LitStr>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

/// For a function the compiler would refuse on its own for a mistake the macro reports
/// (`const async fn`, a C-variadic `...`), the function without that mistake, so the user
/// reads the macro's error alone rather than a cascade of the compiler's about the same
/// tokens. `None` for every other function: it is re-emitted token for token.
pub(crate) fn without_compiler_errors(function: &ItemFn) -> Option<TokenStream> {
    if function.sig.constness.is_none() && function.sig.variadic.is_none() {
        return None;
    }
    let mut function = function.clone();
    function.sig.constness = None;
    function.sig.variadic = None;
    Some(quote!(#function))
}

/// The item as the user wrote it, followed by `error`.
pub(crate) fn unchanged_with_errors_of(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut errors = Errors::default();
    errors.push(error);
    unchanged_with_errors(item, errors)
}

/// The item as the user wrote it, followed by the errors, so the build fails on them alone.
pub(crate) fn unchanged_with_errors(item: TokenStream, errors: Errors) -> TokenStream {
    let mut tokens = item;
    if let Err(error) = errors.finish(()) {
        tokens.extend(error.into_compile_error());
    }
    tokens
}

pub(crate) fn not_a_function<M: Spec>(item: TokenStream, error: &syn::Error) -> TokenStream {
    let mut errors = Errors::default();
    errors.at(
        error.span(),
        format!(
            "`{}` goes on an `async fn` handler with a body, e.g. \
             `async fn handler(req: http::Request<B>) -> http::Response<B> {{ … }}`",
            M::MACRO
        ),
    );
    unchanged_with_errors(item, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protect(args: TokenStream, item: TokenStream) -> TokenStream {
        super::expand::<Protect>(args, item)
    }

    fn machine(args: TokenStream, item: TokenStream) -> TokenStream {
        super::expand::<Machine>(args, item)
    }

    fn expand(args: TokenStream, item: TokenStream) -> String {
        protect(args, item).to_string()
    }

    fn normalized(tokens: TokenStream) -> String {
        tokens.to_string()
    }

    #[test]
    fn expands_to_the_documented_shape() {
        let output = expand(
            quote!(permission = "user:read"),
            quote! {
                pub async fn f(req: http::Request<Body>, auth: wacht::Auth, ctx: Ctx)
                    -> Result<http::Response<Body>, Error>
                { body(req, auth, ctx) }
            },
        );
        let expected = normalized(quote! {
            pub async fn f(mut req: http::Request<Body>, ctx: Ctx)
                -> Result<http::Response<Body>, Error>
            {
                use ::wacht::__private as __wacht;
                let () = __wacht::WACHT_MACROS_0_2_0_NEED_WACHT_0_2_0;
                static __WACHT_REQUIREMENT: __wacht::LazyLock<__wacht::Requirement> =
                    __wacht::LazyLock::new(|| {
                        __wacht::requirement(__wacht::ProtectSpec {
                            permissions: __wacht::Permissions::Any(&["user:read"]),
                            organization_id: ::core::option::Option::None,
                            workspace_id: ::core::option::Option::None,
                            sign_in_redirect: true,
                        })
                    });
                // The user's own names are bound: nothing in scope can clash with them.
                let auth = match __wacht::admit(
                    __wacht::protect(&req, &__WACHT_REQUIREMENT).await,
                    &mut req,
                    __wacht::insert_auth
                ) {
                    ::core::result::Result::Ok(auth) => auth,
                    ::core::result::Result::Err(req) => return
                        <Result<http::Response<Body>, Error> as __wacht::RejectionResponse>
                            ::from_rejection(req),
                };
                // The body's value carries the headers the check wants on the answer (a
                // browser session's cookies), taken out of the request before the body runs.
                {
                    #[allow(unused_imports)]
                    use __wacht::{ViaOther as _, ViaResponse as _};
                    (&&__wacht::Finish::<Result<http::Response<Body>, Error> >::new()).finish(
                        __wacht::take_headers(&mut req),
                        {
                            let req: http::Request<Body> = req;
                            let auth: wacht::Auth = <wacht::Auth as __wacht::Identity<_>>::from_identity(auth);
                            __wacht::run_body(async move || -> Result<http::Response<Body>, Error> {
                                body(req, auth, ctx)
                            })
                            .await
                        },
                    )
                }
            }
        });
        assert_eq!(output, expected);
    }

    #[test]
    fn maps_arguments_to_the_requirement() {
        let output = expand(
            quote!(
                all = ["a", "b"],
                organization_id = "org",
                workspace_id = "ws"
            ),
            quote!(
                async fn f(req: Request<B>) -> Response<B> {}
            ),
        );
        let call = normalized(quote!(__wacht::requirement(__wacht::ProtectSpec {
            permissions: __wacht::Permissions::All(&["a", "b"]),
            organization_id: ::core::option::Option::Some("org"),
            workspace_id: ::core::option::Option::Some("ws"),
            sign_in_redirect: true,
        })));
        assert!(output.contains(&call), "{output}");

        let output = expand(
            quote!(any = ["a", "b"]),
            quote!(
                async fn f(req: Request<B>) -> Response<B> {}
            ),
        );
        assert!(
            output.contains(r#"permissions : __wacht :: Permissions :: Any (& ["a" , "b"]) ,"#),
            "{output}"
        );

        let output = expand(
            quote!(),
            quote!(
                async fn f(req: Request<B>) -> Response<B> {}
            ),
        );
        assert!(
            output.contains("permissions : __wacht :: Permissions :: Unrestricted ,"),
            "{output}"
        );
    }

    #[test]
    fn crate_and_on_reject_overrides() {
        let output = expand(
            quote!(crate = "::renamed", on_reject = errors::reject),
            quote!(
                async fn f(req: Request<B>) -> Response<B> {}
            ),
        );
        assert!(!output.contains(":: wacht ::"), "{output}");
        // One import of the overridden path: a wrong one is one error.
        assert_eq!(output.matches(":: renamed").count(), 1, "{output}");
        assert!(output.contains("use :: renamed :: __private as __wacht ;"));
        assert!(output.contains("__wacht :: protect (& req"));
        // `on_reject` goes through a `fn(Rejection) -> R` pointer.
        assert!(
            output.contains(
                "return __wacht :: OnReject :: < Response < B > > { function : errors :: reject } . call (req) ;"
            ),
            "{output}"
        );
        // No identity parameter: nothing bound but the rejection, in its arm.
        assert!(
            output.contains(&normalized(quote!(
                if let ::core::result::Result::Err(req) = __wacht::admit(
                    __wacht::protect(&req, &__WACHT_REQUIREMENT).await,
                    &mut req,
                    __wacht::insert_auth
                )
            ))),
            "{output}"
        );
        assert!(!output.contains("RejectionResponse"));
    }

    #[test]
    fn keeps_the_signature_and_body_as_written() {
        let output = expand(
            quote!(),
            quote! {
                /// Docs.
                #[inline]
                pub(crate) async fn get<'a, T: Clone>(&'a self, mut req: Request<T>, a: Auth, b: crate::Auth, n: u8) -> Response<T>
                where
                    T: Send,
                {
                    #![allow(unused)]
                    return other(req, a, b, n);
                }
            },
        );
        let signature = normalized(quote! {
            #[doc = r" Docs."]
            #[inline]
            pub(crate) async fn get<'a, T: Clone>(&'a self, mut req: Request<T>, n: u8) -> Response<T>
            where
                T: Send,
        });
        let first = normalized(
            quote!(#![allow(unused)] use ::wacht::__private as __wacht; let () = __wacht::WACHT_MACROS_0_2_0_NEED_WACHT_0_2_0; static __WACHT_REQUIREMENT),
        );
        assert!(
            output.starts_with(&format!("{signature} {{ {first}")),
            "{output}"
        );
        let last = normalized(quote! {
            let mut req: Request<T> = req;
            let a: Auth = <Auth as __wacht::Identity<_>>::from_identity(::core::clone::Clone::clone(&b));
            let b: crate::Auth = <crate::Auth as __wacht::Identity<_>>::from_identity(b);
            __wacht::run_body(async move || -> Response<T> { return other(req, a, b, n); }).await
        });
        let tail = format!("{last} }} ,) }} }}");
        assert!(output.ends_with(&tail), "{output}");
    }

    #[test]
    fn bad_arguments_leave_the_function_unchanged_and_report_everything() {
        let item = quote!(
            fn f(req: Request<B>) -> Response<B> {
                body()
            }
        );
        let output = protect(quote!(permision = "a", any = []), item.clone());
        let text = output.to_string();
        assert!(text.starts_with(&item.to_string()), "{text}");
        assert_eq!(text.matches("compile_error").count(), 3, "{text}");
        assert!(text.contains("unknown argument `permision`"));
        assert!(text.contains("`any` needs at least one permission"));
        assert!(text.contains("handlers must be `async`"));
    }

    #[test]
    fn refuses_items_that_are_not_functions() {
        let item = quote!(
            struct S;
        );
        let output = protect(quote!(), item.clone()).to_string();
        assert!(output.starts_with(&item.to_string()), "{output}");
        assert!(
            output.contains("goes on an `async fn` handler with a body"),
            "{output}"
        );
    }

    fn expand_machine(args: TokenStream, item: TokenStream) -> String {
        machine(args, item).to_string()
    }

    /// The `machine_requirement(…)` call a bare machine handler expands to with `args`.
    fn machine_call(args: TokenStream) -> String {
        let output = expand_machine(
            args,
            quote!(
                async fn f(req: Request<B>) -> Response<B> {}
            ),
        );
        assert!(!output.contains("compile_error"), "{output}");
        let start = output
            .find("__wacht :: machine_requirement (")
            .unwrap_or_else(|| panic!("no requirement in {output}"));
        // The call is the closure's whole body: `|| { call })`.
        let end = start + output[start..].find(" }) }").map_or(0, |at| at + 3);
        output[start..end].to_owned()
    }

    #[test]
    fn machine_expands_to_the_documented_shape() {
        let output = expand_machine(
            quote!(
                resource = "/machine/users",
                method = "GET",
                permission = "user:read"
            ),
            quote! {
                pub async fn machine_users(req: http::Request<Body>, auth: wacht::MachineAuth, ctx: Ctx)
                    -> Result<http::Response<Body>, Error>
                { body(req, auth, ctx) }
            },
        );
        let expected = normalized(quote! {
            pub async fn machine_users(mut req: http::Request<Body>, ctx: Ctx)
                -> Result<http::Response<Body>, Error>
            {
                use ::wacht::__private as __wacht;
                let () = __wacht::WACHT_MACROS_0_2_0_NEED_WACHT_0_2_0;
                static __WACHT_REQUIREMENT: __wacht::LazyLock<__wacht::MachineRequirement> =
                    __wacht::LazyLock::new(|| {
                        __wacht::machine_requirement(__wacht::MachineSpec {
                            resource: ::core::option::Option::Some("/machine/users"),
                            method: ::core::option::Option::Some(__wacht::Method::GET),
                            permissions: __wacht::Permissions::All(&["user:read"]),
                            principal: __wacht::AcceptedPrincipal::ApiKey,
                            header: ::core::option::Option::None,
                        })
                    });
                let auth = match __wacht::admit(
                    __wacht::machine(&req, &__WACHT_REQUIREMENT).await,
                    &mut req,
                    __wacht::insert_machine_auth
                ) {
                    ::core::result::Result::Ok(auth) => auth,
                    ::core::result::Result::Err(req) => return
                        <Result<http::Response<Body>, Error> as __wacht::RejectionResponse>
                            ::from_rejection(req),
                };
                let req: http::Request<Body> = req;
                let auth: wacht::MachineAuth = <wacht::MachineAuth as __wacht::Identity<_>>::from_identity(auth);
                { body(req, auth, ctx) }
            }
        });
        assert_eq!(output, expected);
    }

    /// The `MachineSpec { … }` a machine handler with `args` expands to.
    fn machine_spec(
        resource: TokenStream,
        method: TokenStream,
        permissions: TokenStream,
        principal: TokenStream,
        header: TokenStream,
    ) -> String {
        normalized(quote! {
            __wacht::machine_requirement(__wacht::MachineSpec {
                resource: #resource,
                method: #method,
                permissions: __wacht::Permissions::#permissions,
                principal: __wacht::AcceptedPrincipal::#principal,
                header: #header,
            })
        })
    }

    #[test]
    fn machine_permission_and_all_are_required_permissions_any_is_not() {
        let none = quote!(::core::option::Option::None);
        let spec = |permissions: TokenStream| {
            machine_spec(
                none.clone(),
                none.clone(),
                permissions,
                quote!(ApiKey),
                none.clone(),
            )
        };
        // The gateway ANDs `required_permissions`: `All`.
        assert_eq!(
            machine_call(quote!(permission = "user:read")),
            spec(quote!(All(&["user:read"])))
        );
        assert_eq!(
            machine_call(quote!(all = ["user:read", "user:write"])),
            spec(quote!(All(&["user:read", "user:write"])))
        );
        // `any` is checked on the permissions the gateway returns.
        assert_eq!(
            machine_call(quote!(any = ["user:read", "user:admin"])),
            spec(quote!(Any(&["user:read", "user:admin"])))
        );
        assert_eq!(machine_call(quote!()), spec(quote!(Unrestricted)));
    }

    #[test]
    fn machine_values_are_emitted_typed() {
        // The principal as a variant, the method as an `http::Method` constant, the header
        // as a `const` (checked by the compiler): a changed one cannot compile.
        let call = machine_call(quote!(
            header = "x-custom-key",
            principal = "oauth_access_token",
            method = "DELETE",
            resource = "/machine/users/1"
        ));
        let expected = machine_spec(
            quote!(::core::option::Option::Some("/machine/users/1")),
            quote!(::core::option::Option::Some(__wacht::Method::DELETE)),
            quote!(Unrestricted),
            quote!(OauthAccessToken),
            quote!(::core::option::Option::Some({
                const __WACHT_HEADER: __wacht::HeaderName =
                    __wacht::HeaderName::from_static("x-custom-key");
                __WACHT_HEADER
            })),
        );
        assert_eq!(call, expected);

        let none = quote!(::core::option::Option::None);
        let call = machine_call(quote!(
            resource = "urn:wacht:organization:123",
            principal = "any"
        ));
        let expected = machine_spec(
            quote!(::core::option::Option::Some("urn:wacht:organization:123")),
            none.clone(),
            quote!(Unrestricted),
            quote!(Any),
            none,
        );
        assert_eq!(call, expected);

        // Without `principal`, API keys only.
        let call = machine_call(quote!(header = "x-k"));
        assert!(
            call.contains("principal : __wacht :: AcceptedPrincipal :: ApiKey ,"),
            "{call}"
        );
    }

    #[test]
    fn machine_crate_and_on_reject_overrides() {
        let output = expand_machine(
            quote!(crate = "::renamed", on_reject = errors::reject),
            quote!(
                async fn f(req: Request<B>) -> Response<B> {}
            ),
        );
        assert!(!output.contains(":: wacht ::"), "{output}");
        for item in [
            "use :: renamed :: __private as __wacht ;",
            "LazyLock < __wacht :: MachineRequirement >",
            "__wacht :: machine_requirement (",
            "__wacht :: machine (& req",
            "__wacht :: insert_machine_auth)",
        ] {
            assert!(output.contains(item), "{item} not in {output}");
        }
        assert_eq!(output.matches(":: renamed").count(), 1, "{output}");
        assert!(
            output.contains(
                "__wacht :: OnReject :: < Response < B > > { function : errors :: reject } . call (req)"
            ),
            "{output}"
        );
        assert!(!output.contains("RejectionResponse"));
    }

    #[test]
    fn machine_bad_arguments_leave_the_function_unchanged_and_report_everything() {
        let item = quote!(
            async fn f(req: Request<B>, auth: wacht::Auth) -> Response<B> {
                body()
            }
        );
        let output = machine(
            quote!(method = "get", organization_id = "o", all = []),
            item.clone(),
        );
        let text = output.to_string();
        assert!(text.starts_with(&item.to_string()), "{text}");
        assert_eq!(text.matches("compile_error").count(), 4, "{text}");
        // Inside `compile_error!("…")`, quotes are escaped.
        assert!(text.contains(r#"write `method = \"GET\"`"#), "{text}");
        assert!(text.contains("`organization_id` is an argument of `#[wacht::protect]`"));
        assert!(text.contains("only require a credential the gateway allows"));
        assert!(text.contains("`#[wacht::machine]` handlers receive `wacht::MachineAuth`"));
    }

    #[test]
    fn the_request_keeps_its_place_and_identities_leave_from_anywhere() {
        // axum: the whole request last, after `State`; the identity first.
        let output = expand(
            quote!(permission = "user:read"),
            quote! {
                async fn f(auth: Auth, State(s): State<S>, req: Request, n: u8) -> Response {
                    body(auth, s, req, n)
                }
            },
        );
        let signature = normalized(quote! {
            async fn f(State(s): State<S>, mut req: Request, n: u8) -> Response
        });
        assert!(output.starts_with(&signature), "{output}");
        let bindings = normalized(quote! {
            let req: Request = req;
            let auth: Auth = <Auth as __wacht::Identity<_>>::from_identity(auth);
            __wacht::run_body(async move || -> Response { body(auth, s, req, n) }).await
        });
        assert!(
            output.ends_with(&format!("{bindings} }} ,) }} }}")),
            "{output}"
        );

        let output = machine(
            quote!(),
            quote!(
                async fn g(&self, ctx: Ctx, auth: MachineAuth, req: Request<B>) -> Response<B> {}
            ),
        )
        .to_string();
        let signature = normalized(quote! {
            async fn g(&self, ctx: Ctx, mut req: Request<B>) -> Response<B>
        });
        assert!(output.starts_with(&signature), "{output}");

        // A pattern (or `_`) cannot be named in the signature: a hygienic name stands there.
        let output = expand(
            quote!(),
            quote!(
                async fn h(_: Request<B>) -> Response<B> {}
            ),
        );
        let signature = normalized(quote! {
            async fn h(mut __wacht_request: Request<B>) -> Response<B>
        });
        assert!(output.starts_with(&signature), "{output}");
        // Likewise for an identity bound by a pattern.
        let output = expand(
            quote!(),
            quote!(
                async fn i(r: Request<B>, _: Auth) -> Response<B> {}
            ),
        );
        assert!(
            output.contains(&normalized(quote!(
                ::core::result::Result::Ok(__wacht_auth) => __wacht_auth,
                ::core::result::Result::Err(r) => return
            ))),
            "{output}"
        );
    }

    #[test]
    fn stacking_two_attributes_is_refused_at_the_second() {
        for (stacked, says) in [
            (quote!(#[wacht::machine]), "or_machine(…)"),
            (
                quote!(#[wacht::protect(permission = "a")]),
                "all = [\\\"a\\\", \\\"b\\\"]",
            ),
            (quote!(#[machine]), "or_machine(…)"),
            (
                quote!(#[wacht::webhook]),
                "Give the webhook its own handler",
            ),
        ] {
            let output = expand(
                quote!(),
                quote!(
                    #stacked
                    async fn f(req: Request<B>, auth: wacht::Auth, n: u8) -> Response<B> {
                        body(auth)
                    }
                ),
            );
            // One error, and in place of the function a stub with the signature callers
            // expect: no identity, no `wacht` attribute left, the body never run.
            assert_eq!(output.matches("compile_error").count(), 1, "{output}");
            assert!(output.contains(says), "{says} not in {output}");
            let stub = normalized(quote! {
                #[allow(unused_variables, unreachable_code)]
                async fn f(req: Request<B>, n: u8) -> Response<B> {
                    ::core::unreachable!("refused at compile time")
                }
            });
            assert!(output.starts_with(&stub), "{output}");
        }
        // Attributes of other crates are not ours.
        let output = expand(
            quote!(),
            quote!(
                #[tracing::instrument(skip(req))]
                async fn f(req: Request<B>) -> Response<B> {}
            ),
        );
        assert!(!output.contains("compile_error"), "{output}");
    }

    #[test]
    fn a_function_the_compiler_would_also_refuse_is_emitted_without_that_mistake() {
        for item in [
            quote!(
                const async fn f(req: Request<B>) -> Response<B> {}
            ),
            quote!(
                async fn f(req: Request<B>, ...) -> Response<B> {}
            ),
        ] {
            let text = protect(quote!(), item).to_string();
            let (function, errors) = text.split_once(":: core :: compile_error").unwrap();
            assert!(
                function.starts_with("async fn f (req : Request < B >"),
                "{text}"
            );
            assert!(
                !function.contains("const") && !function.contains("..."),
                "{text}"
            );
            assert_eq!(errors.matches("compile_error").count(), 0, "{text}");
        }
    }
}
