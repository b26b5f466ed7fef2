//! One file of operations per group: the handles and their methods.

use std::collections::BTreeMap;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::params::Scalar;
use super::{Answer, Typed, ident};
use crate::Result;
use crate::spec::{BodySpec, Operation};

/// The rustdoc path of an operation's method (`crate::Users::list`), for the docs of its query,
/// form and body types.
pub fn doc_target(op: &Operation) -> String {
    let owner = op
        .name
        .sub_type()
        .unwrap_or_else(|| op.name.group_type.clone());
    format!("crate::{owner}::{}", op.name.method)
}

pub(super) fn group_file(
    name: &crate::names::Name,
    ops: &[(usize, &Operation)],
    typed: &Typed,
) -> Result<TokenStream> {
    let group = format_ident!("{}", name.group);
    let group_type = format_ident!("{}", name.group_type);
    let group_doc = format!(
        "The `{}` operations of the backend API: [`Backend::{}`](crate::Backend::{}).",
        name.group_type, name.group, name.group
    );
    let accessor_doc = format!("The `{}` operations.", name.group_type);
    let mut subs: BTreeMap<String, (Ident, String)> = BTreeMap::new();
    let mut top = Vec::new();
    let mut by_sub: BTreeMap<String, Vec<TokenStream>> = BTreeMap::new();
    for (index, op) in ops {
        let method = operation(op, &typed.answers[*index], typed.bodies[*index].as_ref())?;
        match (&op.name.sub, op.name.sub_type()) {
            (Some(sub), Some(sub_type)) => {
                subs.entry(sub.clone())
                    .or_insert_with(|| (format_ident!("{}", sub_type), op.path_params[0].clone()));
                by_sub.entry(sub.clone()).or_default().push(method);
            }
            _ => top.push(method),
        }
    }
    let sub_accessors = subs.iter().map(|(sub, (sub_type, param))| {
        let sub_ident = format_ident!("{}", sub);
        let param_ident = ident(param);
        let doc = format!(
            "The `{sub}` of one {}: `{param}`.",
            name.group.trim_end_matches('s')
        );
        quote! {
            #[doc = #doc]
            pub fn #sub_ident(&self, #param_ident: &str) -> #sub_type {
                #sub_type { backend: self.backend.clone(), #param_ident: #param_ident.to_owned() }
            }
        }
    });
    let sub_structs = subs.iter().map(|(sub, (sub_type, param))| {
        let param_ident = ident(param);
        let methods = &by_sub[sub];
        let doc = format!(
            "The `{sub}` operations of one of [`{}`](crate::{})'s resources ([`{}::{sub}`](crate::{}::{sub})).",
            name.group_type, name.group_type, name.group_type, name.group_type
        );
        let field_doc = format!("`{param}`.");
        quote! {
            #[doc = #doc]
            #[derive(Debug, Clone)]
            pub struct #sub_type {
                backend: crate::Backend,
                #[doc = #field_doc]
                #param_ident: ::std::string::String,
            }
            impl #sub_type {
                #(#methods)*
            }
        }
    });
    Ok(quote! {
        #![allow(unused_imports, unused_qualifications, clippy::too_many_arguments)]
        use std::future::Future;
        use futures_util::Stream;
        use http::Method;
        use crate::types::*;
        use crate::{Backend, Call, Error, segment};

        impl Backend {
            #[doc = #accessor_doc]
            pub fn #group(&self) -> #group_type {
                #group_type { backend: self.clone() }
            }
        }

        #[doc = #group_doc]
        #[derive(Debug, Clone)]
        pub struct #group_type {
            backend: crate::Backend,
        }

        impl #group_type {
            #(#sub_accessors)*
            #(#top)*
        }

        #(#sub_structs)*
    })
}

/// One operation: its method, and for lists its `_pages` stream.
pub(super) fn operation(
    op: &Operation,
    answer: &Answer,
    body: Option<&TokenStream>,
) -> Result<TokenStream> {
    let method_ident = ident(&op.name.method);
    let id = &op.id;
    let http_method = format_ident!("{}", op.method);
    let bound = op.name.sub.as_ref().map(|_| op.path_params[0].clone());
    // Arguments: the path parameters not bound by a sub-resource, the query, the body.
    let mut args = Vec::new();
    let mut owned = Vec::new();
    for param in &op.path_params {
        if Some(param) == bound.as_ref() {
            continue;
        }
        let p = ident(param);
        args.push(quote!(#p: &str));
        owned.push(quote!(let #p = #p.to_owned();));
    }
    let path_format = op
        .path
        .split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/");
    let path_args = op.path_params.iter().map(|param| {
        let p = ident(param);
        if Some(param) == bound.as_ref() {
            quote!(segment(&self.#p))
        } else {
            quote!(segment(#p))
        }
    });
    let path_args: Vec<TokenStream> = path_args.collect();
    let has_query = !op.query.is_empty();
    let query_type = format_ident!("{}Query", op.name.type_prefix());
    let query_fallible = op
        .query
        .iter()
        .any(|p| matches!(Scalar::of(&p.name, &p.schema), Scalar::Json));
    if has_query {
        args.push(quote!(query: #query_type));
    }
    // The call is built when the method is called (arguments borrowed only until then); an
    // argument that cannot be encoded fails when the future is awaited, sending nothing.
    let (set_query, use_query) = if !has_query {
        (quote!(), quote!())
    } else if query_fallible {
        (
            quote!(let query = query.pairs();),
            quote!(call.query = query?;),
        )
    } else {
        (quote!(call.query = query.pairs();), quote!())
    };
    let (set_body, use_body) = match (&op.body, body) {
        (Some(BodySpec::Json(_)), Some(ty)) => {
            args.push(quote!(body: &#ty));
            (
                quote!(let body = crate::json_body(body);),
                quote!(call.body = body?;),
            )
        }
        (Some(BodySpec::Multipart(_)), _) => {
            let form = format_ident!("{}Form", op.name.type_prefix());
            args.push(quote!(form: &#form));
            (
                quote!(let body = form.to_form().map(crate::form_body);),
                quote!(call.body = body?;),
            )
        }
        _ => (quote!(), quote!()),
    };
    let ret = answer.tokens();
    let doc = format!("`{} {}` (operation `{}`).", op.method, op.path, op.id);
    let mut_call = if has_query || op.body.is_some() {
        quote!(mut)
    } else {
        quote!()
    };
    let path_expr = if op.path_params.is_empty() {
        quote!(#path_format.to_owned())
    } else {
        quote!(format!(#path_format, #(#path_args),*))
    };
    let call_expr = quote!(Call::new(#id, Method::#http_method, #path_expr));
    let main = quote! {
        #[doc = #doc]
        pub fn #method_ident(&self, #(#args),*) -> impl Future<Output = ::std::result::Result<#ret, Error>> + Send + 'static {
            let #mut_call call = #call_expr;
            #set_query
            #set_body
            let backend = self.backend.clone();
            async move {
                #use_query
                #use_body
                backend.send(call).await
            }
        }
    };
    // Streams over every page, for the lists that take an offset or a cursor.
    let offset = op.query.iter().any(|p| p.name == "offset");
    let cursor = op.query.iter().any(|p| p.name == "cursor");
    // (what the stream walks by, the page type, the first position, the pager, the call's query)
    let walk = match answer {
        Answer::Page(item) if offset && op.body.is_none() => Some((
            "offset",
            quote!(crate::Page<#item>),
            quote!(query.offset.unwrap_or(0)),
            quote!(crate::offset_pages),
            quote!(call.query = query.clone().offset(offset).pairs();),
        )),
        Answer::CursorPage(item) if cursor && op.body.is_none() => Some((
            "cursor",
            quote!(crate::CursorPage<#item>),
            quote!(query.cursor.clone()),
            quote!(crate::cursor_pages),
            quote! {
                let mut query = query.clone();
                query.cursor = cursor;
                call.query = query.pairs();
            },
        )),
        _ => None,
    };
    let pages = walk.map(|(by, page, start, pager, page_query)| {
        let pages_ident = format_ident!("{}_pages", op.name.method);
        let position = format_ident!("{}", by);
        let doc = format!(
            "Every page of [`{m}`](Self::{m}), from `query`'s {by} on (`{} {}`): \
             the stream ends after the last page or the first error.",
            op.method,
            op.path,
            m = op.name.method
        );
        let bound_owned = bound.as_ref().map(|b| {
            let p = ident(b);
            quote!(let #p = self.#p.clone();)
        });
        let owned_path = owned_path(op, &path_format);
        quote! {
            #[doc = #doc]
            pub fn #pages_ident(&self, #(#args),*) -> impl Stream<Item = ::std::result::Result<#page, Error>> + Send + 'static {
                let backend = self.backend.clone();
                #bound_owned
                #(#owned)*
                let start = #start;
                #pager(start, move |#position| {
                    let mut call = Call::new(#id, Method::#http_method, #owned_path);
                    #page_query
                    let backend = backend.clone();
                    async move { backend.send(call).await }
                })
            }
        }
    });
    Ok(quote!(#main #pages))
}

/// The path of a stream's calls, from owned copies of the parameters.
fn owned_path(op: &Operation, path_format: &str) -> TokenStream {
    if op.path_params.is_empty() {
        return quote!(#path_format.to_owned());
    }
    let args = op.path_params.iter().map(|param| {
        let p = ident(param);
        quote!(segment(&#p))
    });
    quote!(format!(#path_format, #(#args),*))
}
