//! The handler contract: which functions the macros accept, where the request is, and which
//! parameters receive the verified identity.
//!
//! All checks are syntactic. A type is recognised by the last segment of its path (`Request`,
//! `Auth`), so aliases and re-exports under those names work, and the compiler has the last
//! word on everything else.

use crate::args::Spec;
use crate::errors::Errors;
use syn::{
    AttrStyle, Attribute, Block, FnArg, GenericArgument, ItemFn, PatType, PathArguments,
    ReturnType, Signature, Type, Visibility,
};

/// How a parameter receives the identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdentityForm {
    /// `auth: wacht::Auth` (or `MachineAuth`).
    Plain,
    /// `auth: Option<wacht::Auth>`, under `optional`.
    Option,
    /// `caller: wacht::Caller`, under `or_machine(…)`.
    Caller,
}

/// A function that satisfies the handler contract, taken apart for re-emission.
pub(crate) struct Handler {
    /// Outer attributes, re-emitted as written.
    pub(crate) attrs: Vec<Attribute>,
    /// `#![…]` attributes from the top of the body, re-emitted there.
    pub(crate) inner_attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// The signature as written (its inputs are rebuilt from the fields below).
    pub(crate) sig: Signature,
    /// `self`, `&self`, … for a method.
    pub(crate) receiver: Option<FnArg>,
    /// The request parameter as written (`req: http::Request<B>`), wherever it stands.
    pub(crate) request: PatType,
    /// How many of [`Handler::rest`] come before the request in the signature.
    pub(crate) request_at: usize,
    /// Parameters that receive the verified identity (`auth: wacht::Auth`, or
    /// `auth: Option<wacht::Auth>` under `optional`), in order, from any position, each with
    /// whether it is the `Option` form.
    pub(crate) identities: Vec<(PatType, IdentityForm)>,
    /// Every other parameter (not `self`, the request or an identity), in order.
    pub(crate) rest: Vec<FnArg>,
    /// The declared return type.
    pub(crate) output: Type,
    /// With the `axum` feature: the return type is not a `Response` (or a `Result` of one),
    /// so the emitted function returns `axum::response::Response` and converts with
    /// `IntoResponse`.
    pub(crate) into_response: bool,
    pub(crate) block: Block,
}

impl Handler {
    /// Checks `function` against the handler contract of macro `M`, reporting every problem.
    pub(crate) fn analyze<M: Spec>(function: ItemFn) -> syn::Result<Handler> {
        let ItemFn {
            attrs,
            vis,
            sig,
            block,
        } = function;
        let mut errors = Errors::default();
        let name = M::MACRO;

        if let Some(constness) = &sig.constness {
            errors.at(
                constness.span,
                format!("`{name}` handlers cannot be `const fn`; remove `const`"),
            );
        }
        if let Some(unsafety) = &sig.unsafety {
            errors.at(
                unsafety.span,
                format!(
                    "`{name}` handlers cannot be `unsafe fn`; remove `unsafe` and use an \
                     `unsafe {{ … }}` block in the body where needed"
                ),
            );
        }
        if sig.asyncness.is_none() {
            let message = if attrs.iter().any(is_test_attribute) {
                // `#[tokio::test]` above the macro has already turned the function into a
                // synchronous test: the macro sees its output, not what the user wrote.
                format!(
                    "`{name}` goes on a request handler, not on a test: the test attribute \
                     above it has already made `{}` a synchronous test function. Protect the \
                     handler itself and call it from the test (a test takes no request)",
                    sig.ident
                )
            } else {
                format!(
                    "`{name}` handlers must be `async`; write `async fn {}`",
                    sig.ident
                )
            };
            errors.at(sig.fn_token.span, message);
        }
        if let Some(variadic) = &sig.variadic {
            errors.push(syn::Error::new_spanned(
                variadic,
                format!("`{name}` handlers cannot be variadic; remove `...`"),
            ));
        }

        let mut receiver = None;
        let mut request: Option<(usize, PatType)> = None;
        let mut identities = Vec::new();
        let mut rest = Vec::new();
        let mut unreadable = None;
        for (index, input) in sig.inputs.iter().enumerate() {
            let FnArg::Typed(param) = input else {
                if index == 0 {
                    receiver = Some(input.clone());
                } else {
                    // `self` after another parameter: the compiler reports it.
                    rest.push(input.clone());
                }
                continue;
            };
            match Kind::of::<M>(&param.ty) {
                Kind::Identity => identities.push((param.clone(), IdentityForm::Plain)),
                Kind::OptionalIdentity => identities.push((param.clone(), IdentityForm::Option)),
                Kind::Caller => identities.push((param.clone(), IdentityForm::Caller)),
                Kind::Request if request.is_some() => errors.push(syn::Error::new_spanned(
                    &param.ty,
                    format!(
                        "`{name}` handlers take one request, and this is a second parameter \
                         whose type is named `Request`; the macro recognises the request by \
                         that name, so remove this parameter or pass it in another type"
                    ),
                )),
                Kind::Request => request = Some((rest.len(), param.clone())),
                Kind::Unreadable => {
                    unreadable.get_or_insert((rest.len(), param.clone()));
                    rest.push(input.clone());
                }
                Kind::Other => {
                    check_passed_through::<M>(&param.ty, &mut errors);
                    rest.push(input.clone());
                }
            }
        }
        if request.is_none() {
            if let Some((at, param)) = unreadable {
                // A type the macro cannot read (a macro call): the compiler has the last word.
                rest.remove(at);
                request = Some((at, param));
            } else if !sig.inputs.iter().any(is_request_by_reference) {
                missing_request::<M>(&sig, receiver.is_some(), &rest, &mut errors);
            }
        }

        let mut into_response = false;
        let output = match &sig.output {
            ReturnType::Type(_, output) => {
                if cfg!(feature = "axum") && !is_response_like(output) {
                    into_response = true;
                } else if let Some(opaque) = find_impl_trait(output) {
                    errors.push(syn::Error::new_spanned(
                        opaque,
                        format!(
                            "`{name}` handlers cannot return `impl Trait`: a rejection is \
                             returned in the handler's own response type, so it must be named; \
                             write `http::Response<B>` or `Result<http::Response<B>, E>` instead, \
                             or enable the `axum` feature of `wacht` to return any \
                             `impl IntoResponse` (the handler then returns \
                             `axum::response::Response`)"
                        ),
                    ));
                }
                Some((**output).clone())
            }
            ReturnType::Default => {
                errors.at(
                    sig.ident.span(),
                    format!(
                        "`{name}` handlers must declare their return type, in which a rejection \
                         is returned; add `-> http::Response<B>` or \
                         `-> Result<http::Response<B>, E>`"
                    ),
                );
                None
            }
        };

        let (inner_attrs, attrs) = attrs
            .into_iter()
            .partition(|attr| matches!(attr.style, AttrStyle::Inner(_)));
        errors.finish(())?;
        let (Some((request_at, request)), Some(output)) = (request, output) else {
            // Every path to `None` above reported an error, so `finish` has returned.
            return Err(syn::Error::new(
                sig.ident.span(),
                "handler signature not understood",
            ));
        };
        Ok(Handler {
            attrs,
            inner_attrs,
            vis,
            sig,
            receiver,
            request,
            request_at,
            identities,
            rest,
            output,
            into_response,
            block: *block,
        })
    }
}

/// What a parameter is to the macro, by its type's name.
enum Kind {
    /// `…::Request<…>`, taken by value.
    Request,
    /// `…::Auth` (or `MachineAuth`): receives the verified identity.
    Identity,
    /// `Option<…::Auth>`: receives it under `optional`.
    OptionalIdentity,
    /// `…::Caller`: receives it under `or_machine(…)`.
    Caller,
    /// A macro call or `_`: cannot be told from the tokens.
    Unreadable,
    /// Anything else: passed through untouched.
    Other,
}

impl Kind {
    fn of<M: Spec>(ty: &Type) -> Kind {
        match peel(ty) {
            Type::Macro(_) | Type::Infer(_) | Type::Verbatim(_) => Kind::Unreadable,
            ty if is_named(ty, REQUEST) => Kind::Request,
            ty if is_named(ty, M::IDENTITY) => Kind::Identity,
            ty if option_of(ty).is_some_and(|inner| is_named(inner, M::IDENTITY)) => {
                Kind::OptionalIdentity
            }
            ty if M::EITHER_IDENTITY.is_some_and(|name| is_named(ty, name)) => Kind::Caller,
            _ => Kind::Other,
        }
    }
}

/// The name the request's type is recognised by.
const REQUEST: &str = "Request";

/// Whether `input` is `req: &Request<B>` (or `&mut`), refused in [`check_passed_through`].
fn is_request_by_reference(input: &FnArg) -> bool {
    matches!(input, FnArg::Typed(param)
        if matches!(peel(&param.ty), Type::Reference(reference) if is_named(&reference.elem, REQUEST)))
}

/// Reports a handler with no request parameter, at the narrowest place that explains it.
fn missing_request<M: Spec>(sig: &Signature, method: bool, rest: &[FnArg], errors: &mut Errors) {
    let name = M::MACRO;
    let typed: Vec<&PatType> = rest
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(param) => Some(param),
            FnArg::Receiver(_) => None,
        })
        .collect();
    if let [only] = typed.as_slice() {
        // One candidate: most likely meant as the request, under a type the macro cannot see.
        let shown = match peel(&only.ty) {
            Type::Path(path) => path
                .path
                .segments
                .last()
                .map(|last| format!("`{}`", last.ident)),
            _ => None,
        }
        .unwrap_or_else(|| "this type".to_owned());
        errors.push(syn::Error::new_spanned(
            &only.ty,
            format!(
                "`{name}` handlers take the request as a parameter whose type is named \
                 `Request` (`http::Request<B>`, `lambda_http::Request`, \
                 `axum::extract::Request`, …), and {shown} is not one; write \
                 `req: http::Request<B>`"
            ),
        ));
        return;
    }
    let message = if typed.is_empty() {
        let besides = if method { " besides `self`" } else { "" };
        format!(
            "`{name}` handlers take the request as a parameter{besides}; add `req: http::Request<B>`"
        )
    } else {
        format!(
            "`{name}` handlers take the request as a parameter, and none of these is one (the \
             macro recognises the request by its type's name, `Request`); add \
             `req: http::Request<B>`"
        )
    };
    errors.at(sig.paren_token.span.join(), message);
}

/// Refuses parameters that look meant for the request or an identity but would not be filled.
fn check_passed_through<M: Spec>(ty: &Type, errors: &mut Errors) {
    let message = match peel(ty) {
        Type::Reference(reference) if is_named(&reference.elem, REQUEST) => {
            "the request must be taken by value, so the verified identity can be stored in its \
             extensions; write `req: http::Request<B>`, without `&`"
                .to_owned()
        }
        Type::Reference(reference) if is_named(&reference.elem, M::IDENTITY) => format!(
            "the verified identity is passed by value; write `auth: wacht::{}`, without `&`",
            M::IDENTITY
        ),
        other => {
            let inner = option_of(other).unwrap_or(other);
            let Some((name, owner)) = M::OTHER_IDENTITIES
                .iter()
                .find(|(name, _)| is_named(inner, name))
            else {
                return;
            };
            format!(
                "`{}` handlers receive `wacht::{}`; `{name}` is for {owner}",
                M::MACRO,
                M::IDENTITY,
            )
        }
    };
    errors.push(syn::Error::new_spanned(ty, message));
}

/// Whether the last segment of `ty`'s path is `name`.
fn is_named(ty: &Type, name: &str) -> bool {
    match peel(ty) {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == name),
        _ => false,
    }
}

/// `…Response<…>`, or `Result<…Response<…>, E>`: a type a rejection can be returned in
/// directly.
fn is_response_like(ty: &Type) -> bool {
    let Type::Path(path) = peel(ty) else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    if last.ident == "Response" {
        return true;
    }
    if last.ident != "Result" {
        return false;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(arguments) => matches!(
            arguments.args.first(),
            Some(GenericArgument::Type(ok)) if is_response_like(ok)
        ),
        _ => false,
    }
}

/// `T` of `Option<T>` (any path ending in `Option`).
fn option_of(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = peel(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(arguments) => match arguments.args.first()? {
            GenericArgument::Type(inner) if arguments.args.len() == 1 => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

/// `ty` without parentheses and the invisible groups `macro_rules!` adds.
fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => peel(&group.elem),
        Type::Paren(paren) => peel(&paren.elem),
        other => other,
    }
}

/// The first `impl Trait` anywhere in `ty`.
pub(crate) fn find_impl_trait(ty: &Type) -> Option<&Type> {
    match ty {
        Type::ImplTrait(_) => Some(ty),
        Type::Array(array) => find_impl_trait(&array.elem),
        Type::Group(group) => find_impl_trait(&group.elem),
        Type::Paren(paren) => find_impl_trait(&paren.elem),
        Type::Ptr(pointer) => find_impl_trait(&pointer.elem),
        Type::Reference(reference) => find_impl_trait(&reference.elem),
        Type::Slice(slice) => find_impl_trait(&slice.elem),
        Type::Tuple(tuple) => tuple.elems.iter().find_map(find_impl_trait),
        Type::Path(path) => path
            .qself
            .as_ref()
            .and_then(|qself| find_impl_trait(&qself.ty))
            .or_else(|| {
                path.path
                    .segments
                    .iter()
                    .find_map(|segment| match &segment.arguments {
                        PathArguments::AngleBracketed(arguments) => {
                            arguments.args.iter().find_map(|argument| match argument {
                                GenericArgument::Type(ty) => find_impl_trait(ty),
                                GenericArgument::AssocType(assoc) => find_impl_trait(&assoc.ty),
                                _ => None,
                            })
                        }
                        PathArguments::Parenthesized(arguments) => arguments
                            .inputs
                            .iter()
                            .find_map(find_impl_trait)
                            .or_else(|| match &arguments.output {
                                ReturnType::Type(_, ty) => find_impl_trait(ty),
                                ReturnType::Default => None,
                            }),
                        PathArguments::None => None,
                    })
            }),
        _ => None,
    }
}

/// `#[test]` (or a path ending in `test`, as `#[tokio::test]` expands to
/// `#[::core::prelude::v1::test]`).
fn is_test_attribute(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "test")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Protect;
    use quote::quote;

    fn analyze(tokens: proc_macro2::TokenStream) -> syn::Result<Handler> {
        Handler::analyze::<Protect>(syn::parse2(tokens).unwrap())
    }

    fn errors(tokens: proc_macro2::TokenStream) -> Vec<String> {
        match analyze(tokens) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn finds_request_identities_and_the_rest() {
        let handler = analyze(quote! {
            #[doc = "x"]
            pub async fn f(&self, mut req: lambda_http::Request, a: wacht::Auth, ctx: Ctx, b: Auth)
                -> Result<http::Response<String>, E>
            {
                #![allow(unused)]
                body()
            }
        })
        .unwrap();
        assert!(handler.receiver.is_some());
        let request = &handler.request;
        assert_eq!(
            quote!(#request).to_string(),
            "mut req : lambda_http :: Request"
        );
        let identities: Vec<String> = handler
            .identities
            .iter()
            .map(|(param, _)| param)
            .map(|p| quote!(#p).to_string())
            .collect();
        assert_eq!(identities, ["a : wacht :: Auth", "b : Auth"]);
        assert_eq!(handler.rest.len(), 1);
        assert_eq!(handler.request_at, 0);
        assert_eq!(handler.attrs.len(), 1);
        assert_eq!(handler.inner_attrs.len(), 1);
    }

    #[test]
    fn refuses_functions_outside_the_contract() {
        assert_eq!(
            errors(quote!(
                const unsafe fn f(...) {}
            )),
            [
                "`#[wacht::protect]` handlers cannot be `const fn`; remove `const`",
                "`#[wacht::protect]` handlers cannot be `unsafe fn`; remove `unsafe` and use an \
                 `unsafe { … }` block in the body where needed",
                "`#[wacht::protect]` handlers must be `async`; write `async fn f`",
                "`#[wacht::protect]` handlers cannot be variadic; remove `...`",
                "`#[wacht::protect]` handlers take the request as a parameter; add \
                 `req: http::Request<B>`",
                "`#[wacht::protect]` handlers must declare their return type, in which a \
                 rejection is returned; add `-> http::Response<B>` or \
                 `-> Result<http::Response<B>, E>`",
            ]
        );
    }

    #[test]
    fn refuses_impl_trait_anywhere_in_the_return_type() {
        for output in [
            quote!(impl IntoResponse),
            quote!(Result<impl IntoResponse, E>),
            quote!(Box<Option<[(impl X,); 1]>>),
            quote!((Response<String>, impl X)),
        ] {
            let messages = errors(quote!(async fn f(req: Request<B>) -> #output {}));
            assert_eq!(messages.len(), 1, "{output}");
            assert!(
                messages[0].contains("cannot return `impl Trait`"),
                "{output}"
            );
        }
        assert!(
            errors(quote!(
                async fn f(req: Request<B>) -> Result<Response<B>, E> {}
            ))
            .is_empty()
        );
    }

    #[test]
    fn finds_the_request_in_any_position() {
        // axum wants the whole-request extractor last; identities may stand anywhere.
        let handler = analyze(quote!(
            async fn f(auth: Auth, State(s): State<S>, req: axum::extract::Request, n: u8) -> R {}
        ))
        .unwrap();
        let request = &handler.request;
        assert_eq!(
            quote!(#request).to_string(),
            "req : axum :: extract :: Request"
        );
        assert_eq!(handler.request_at, 1);
        assert_eq!(handler.rest.len(), 2);
        assert_eq!(handler.identities.len(), 1);

        let handler = analyze(quote!(
            async fn f(&self, ctx: Ctx, req: Request<B>) -> R {}
        ))
        .unwrap();
        assert!(handler.receiver.is_some());
        assert_eq!(handler.request_at, 1);

        // A type the macro cannot read is taken as the request when none is named `Request`.
        let handler = analyze(quote!(
            async fn f(ctx: Ctx, req: my_macro!()) -> R {}
        ))
        .unwrap();
        assert_eq!(handler.request_at, 1);
        assert_eq!(handler.rest.len(), 1);
        assert!(
            errors(quote!(
                async fn f(_: (Request<B>)) -> R {}
            ))
            .is_empty()
        );
    }

    #[test]
    fn refuses_handlers_without_exactly_one_request() {
        assert_eq!(
            errors(quote!(
                async fn f(&self) -> R {}
            )),
            [
                "`#[wacht::protect]` handlers take the request as a parameter besides `self`; \
                 add `req: http::Request<B>`"
            ]
        );
        assert_eq!(
            errors(quote!(
                async fn f(auth: wacht::Auth) -> R {}
            )),
            [
                "`#[wacht::protect]` handlers take the request as a parameter; add \
                 `req: http::Request<B>`"
            ]
        );
        assert_eq!(
            errors(quote!(
                async fn f(req: &http::Request<B>) -> R {}
            )),
            [
                "the request must be taken by value, so the verified identity can be stored in its \
              extensions; write `req: http::Request<B>`, without `&`"
            ]
        );
        assert_eq!(
            errors(quote!(
                async fn f(ctx: Ctx, auth: Auth) -> R {}
            )),
            [
                "`#[wacht::protect]` handlers take the request as a parameter whose type is named \
                 `Request` (`http::Request<B>`, `lambda_http::Request`, \
                 `axum::extract::Request`, …), and `Ctx` is not one; write \
                 `req: http::Request<B>`"
            ]
        );
        assert_eq!(
            errors(quote!(
                async fn f((a, b): (A, B)) -> R {}
            )),
            [
                "`#[wacht::protect]` handlers take the request as a parameter whose type is named \
                 `Request` (`http::Request<B>`, `lambda_http::Request`, \
                 `axum::extract::Request`, …), and this type is not one; write \
                 `req: http::Request<B>`"
            ]
        );
        assert_eq!(
            errors(quote!(
                async fn f(a: A, b: B) -> R {}
            )),
            [
                "`#[wacht::protect]` handlers take the request as a parameter, and none of these \
                 is one (the macro recognises the request by its type's name, `Request`); add \
                 `req: http::Request<B>`"
            ]
        );
        assert_eq!(
            errors(quote!(
                async fn f(a: Request<A>, b: http::Request<B>) -> R {}
            )),
            [
                "`#[wacht::protect]` handlers take one request, and this is a second parameter \
                 whose type is named `Request`; the macro recognises the request by that name, \
                 so remove this parameter or pass it in another type"
            ]
        );
    }

    #[test]
    fn refuses_identities_it_cannot_fill() {
        assert_eq!(
            errors(quote!(
                async fn f(req: Request<B>, auth: &Auth) -> R {}
            )),
            ["the verified identity is passed by value; write `auth: wacht::Auth`, without `&`"]
        );
        assert_eq!(
            errors(quote!(
                async fn f(req: Request<B>, auth: wacht::MachineAuth) -> R {}
            )),
            [
                "`#[wacht::protect]` handlers receive `wacht::Auth`; `MachineAuth` is for \
              `#[wacht::machine]` handlers"
            ]
        );
    }
}
