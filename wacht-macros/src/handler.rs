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
    /// The request parameter as written (`req: http::Request<B>`).
    pub(crate) request: PatType,
    /// Parameters that receive the verified identity (`auth: wacht::Auth`), in order.
    pub(crate) identities: Vec<PatType>,
    /// Every other parameter after the request, in order.
    pub(crate) rest: Vec<FnArg>,
    /// The declared return type.
    pub(crate) output: Type,
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
            errors.at(
                sig.fn_token.span,
                format!(
                    "`{name}` handlers must be `async`; write `async fn {}`",
                    sig.ident
                ),
            );
        }
        if let Some(variadic) = &sig.variadic {
            errors.push(syn::Error::new_spanned(
                variadic,
                format!("`{name}` handlers cannot be variadic; remove `...`"),
            ));
        }

        let mut inputs = sig.inputs.iter().cloned();
        let mut receiver = None;
        let mut first = inputs.next();
        if let Some(FnArg::Receiver(_)) = &first {
            receiver = first;
            first = inputs.next();
        }
        let request = match first {
            Some(FnArg::Typed(request)) => {
                check_request::<M>(&request.ty, &mut errors);
                Some(request)
            }
            Some(FnArg::Receiver(second)) => {
                errors.push(syn::Error::new_spanned(
                    second,
                    format!("`{name}` handlers take the request right after `self`"),
                ));
                None
            }
            None => {
                let after_self = if receiver.is_some() {
                    " after `self`"
                } else {
                    ""
                };
                errors.at(
                    sig.paren_token.span.join(),
                    format!(
                        "`{name}` handlers take the request as their first parameter{after_self}; \
                         add `req: http::Request<B>`"
                    ),
                );
                None
            }
        };

        let mut identities = Vec::new();
        let mut rest = Vec::new();
        for input in inputs {
            match &input {
                FnArg::Typed(param) if is_named(&param.ty, M::IDENTITY) => {
                    identities.push(param.clone());
                }
                FnArg::Typed(param) => {
                    check_passed_through::<M>(&param.ty, &mut errors);
                    rest.push(input);
                }
                FnArg::Receiver(_) => rest.push(input),
            }
        }

        let output = match &sig.output {
            ReturnType::Type(_, output) => {
                if let Some(opaque) = find_impl_trait(output) {
                    errors.push(syn::Error::new_spanned(
                        opaque,
                        format!(
                            "`{name}` handlers cannot return `impl Trait`: a rejection is \
                             returned in the handler's own response type, so it must be named; \
                             write `http::Response<B>` or `Result<http::Response<B>, E>` instead"
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
        let (Some(request), Some(output)) = (request, output) else {
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
            identities,
            rest,
            output,
            block: *block,
        })
    }
}

/// Refuses a first parameter that is obviously not the request.
fn check_request<M: Spec>(ty: &Type, errors: &mut Errors) {
    let message = match peel(ty) {
        Type::Reference(_) => {
            "the request must be taken by value, so the verified identity can be stored in its \
             extensions; write `req: http::Request<B>`, without `&`"
                .to_owned()
        }
        Type::Path(path) => match path.path.segments.last() {
            Some(last) if last.ident == "Request" => return,
            Some(last) if last.ident == M::IDENTITY => format!(
                "the request must come first and the identity after it; write \
                 `(req: http::Request<B>, auth: wacht::{})`",
                M::IDENTITY
            ),
            Some(last) => format!(
                "the first parameter must be the request, e.g. `req: http::Request<B>`, not \
                 `{}`; put the request first (the macro recognises it by its type's name, \
                 `Request`)",
                last.ident
            ),
            None => return,
        },
        // Cannot tell from the tokens: leave it to the compiler.
        Type::Macro(_) | Type::Infer(_) | Type::Verbatim(_) => return,
        _ => "the first parameter must be the request, e.g. `req: http::Request<B>`; put the \
              request first (the macro recognises it by its type's name, `Request`)"
            .to_owned(),
    };
    errors.push(syn::Error::new_spanned(ty, message));
}

/// Refuses parameters that look meant for an identity but would not receive one.
fn check_passed_through<M: Spec>(ty: &Type, errors: &mut Errors) {
    let message = match peel(ty) {
        Type::Reference(reference) if is_named(&reference.elem, M::IDENTITY) => format!(
            "the verified identity is passed by value; write `auth: wacht::{}`, without `&`",
            M::IDENTITY
        ),
        other if is_named(other, M::OTHER_IDENTITY) => format!(
            "`{}` handlers receive `wacht::{}`; `{}` is for `{}` handlers",
            M::MACRO,
            M::IDENTITY,
            M::OTHER_IDENTITY,
            M::OTHER_MACRO
        ),
        _ => return,
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

/// `ty` without parentheses and the invisible groups `macro_rules!` adds.
fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => peel(&group.elem),
        Type::Paren(paren) => peel(&paren.elem),
        other => other,
    }
}

/// The first `impl Trait` anywhere in `ty`.
fn find_impl_trait(ty: &Type) -> Option<&Type> {
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
            .map(|p| quote!(#p).to_string())
            .collect();
        assert_eq!(identities, ["a : wacht :: Auth", "b : Auth"]);
        assert_eq!(handler.rest.len(), 1);
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
                "`#[wacht::protect]` handlers take the request as their first parameter; add \
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
    fn requires_the_request_first() {
        assert_eq!(
            errors(quote!(
                async fn f(&self) -> R {}
            )),
            [
                "`#[wacht::protect]` handlers take the request as their first parameter after \
              `self`; add `req: http::Request<B>`"
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
                async fn f(ctx: Ctx, req: Request<B>) -> R {}
            )),
            [
                "the first parameter must be the request, e.g. `req: http::Request<B>`, not `Ctx`; \
              put the request first (the macro recognises it by its type's name, `Request`)"
            ]
        );
        assert_eq!(
            errors(quote!(
                async fn f(auth: wacht::Auth, req: Request<B>) -> R {}
            )),
            [
                "the request must come first and the identity after it; write \
              `(req: http::Request<B>, auth: wacht::Auth)`"
            ]
        );
        assert_eq!(
            errors(quote!(
                async fn f((a, b): (A, B)) -> R {}
            ))
            .len(),
            1
        );
        assert!(
            errors(quote!(
                async fn f(_: (Request<B>)) -> R {}
            ))
            .is_empty()
        );
        assert!(
            errors(quote!(
                async fn f(req: my_macro!()) -> R {}
            ))
            .is_empty()
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
