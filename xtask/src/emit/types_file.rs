//! `types.rs`: typify's types, the open enums, query structs, forms and body builders.

use heck::ToPascalCase;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::ops::doc_target;
use super::params::{form_struct, init, query_struct};
use super::redact::redact_debug;
use super::schemas::ref_name;
use super::{HEADER, Typed};
use crate::spec::{Api, BodySpec};
use crate::{Result, format};

pub(super) fn types_file(api: &Api, typed: &Typed) -> Result<String> {
    let enums = typed.enums.iter().map(|(name, values)| {
        let name_ident = format_ident!("{}", name);
        let doc = format!("`{name}`: a closed set of values (unknown ones are kept).");
        let variants = values.iter().map(|v| {
            let variant = format_ident!("{}", v.to_pascal_case());
            quote!(#variant = #v)
        });
        quote! {
            crate::open_enum! {
                #[doc = #doc]
                #name_ident { #(#variants),* }
            }
        }
    });
    let mut own = Vec::new();
    for op in &api.operations {
        let target = doc_target(op);
        if let Some(query) = query_struct(op, &target) {
            own.push(query);
        }
        if let Some(BodySpec::Multipart(schema)) = &op.body {
            own.push(form_struct(op, schema, &target)?);
        }
    }
    own.push(body_builders(api, typed)?);
    let typify = redact_debug(typed.types.to_stream())?;
    let tokens = quote! {
        //! The types of the operations: the description's schemas (written by typify), the
        //! query and form parameters of each operation, and its closed value sets.
        #![allow(missing_docs, unused_qualifications, clippy::all, clippy::pedantic)]
        #(#enums)*
        #(#own)*
        #typify
    };
    let text = format(tokens, HEADER)?;
    Ok(strip_schema_docs(&text))
}

/// typify documents each type with its JSON schema (`<details>…</details>`): prose the
/// repository does not keep. Those doc lines are removed.
fn strip_schema_docs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut skipping = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed == "/// <details><summary>JSON schema</summary>" {
            skipping = true;
            // Drop a blank `///` line just before.
            if out.ends_with("///\n") {
                let cut = out.len() - out.lines().last().map_or(0, |l| l.len() + 1);
                out.truncate(cut);
            }
            continue;
        }
        if skipping {
            if trimmed == "/// </details>" {
                skipping = false;
            }
            continue;
        }
        let _ = i;
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// For each JSON request body: `new(<required fields>)` and a setter per optional field, so a
/// body is written `CreateRoleRequest::new("admin").permissions(vec![…])`.
fn body_builders(api: &Api, typed: &Typed) -> Result<TokenStream> {
    let mut names: Vec<String> = api
        .operations
        .iter()
        .filter_map(|op| match &op.body {
            Some(BodySpec::Json(schema)) => ref_name(schema).map(str::to_owned),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let Some(ty) = typed.types.iter_types().find(|t| t.name() == name) else {
            return Err(format!("body type {name} not generated"));
        };
        let typify::TypeDetails::Struct(details) = ty.details() else {
            continue;
        };
        let mut new_args = Vec::new();
        let mut inits = Vec::new();
        let mut setters = Vec::new();
        for prop in details.properties_info() {
            let field = syn::parse_str::<Ident>(prop.name)
                .or_else(|_| syn::parse_str::<Ident>(&format!("r#{}", prop.name)))
                .map_err(|e| format!("{name}.{}: {e}", prop.name))?;
            let field_type = typed
                .types
                .get_type(&prop.type_id)
                .map_err(|e| format!("{name}.{}: {e}", prop.name))?;
            let field_ty = field_type.ident();
            let inner = match field_type.details() {
                typify::TypeDetails::Option(inner) => Some(
                    typed
                        .types
                        .get_type(&inner)
                        .map_err(|e| format!("{name}.{}: {e}", prop.name))?
                        .ident(),
                ),
                _ => None,
            };
            let is_string =
                |ty: &TokenStream| ty.to_string().replace(' ', "") == "::std::string::String";
            let arg = |ty: &TokenStream| {
                if is_string(ty) {
                    (
                        quote!(impl ::std::convert::Into<::std::string::String>),
                        quote!(value.into()),
                    )
                } else {
                    (ty.clone(), quote!(value))
                }
            };
            match (prop.required, inner) {
                (true, None) => {
                    let (ty, conv) = arg(&field_ty);
                    new_args.push(quote!(#field: #ty));
                    inits.push(init(&field, &conv));
                }
                (_, Some(inner)) => {
                    let (ty, conv) = arg(&inner);
                    inits.push(quote!(#field: ::std::option::Option::None,));
                    let doc = format!("Sets `{}`.", prop.name.trim_start_matches("r#"));
                    setters.push(quote! {
                        #[doc = #doc]
                        #[must_use]
                        pub fn #field(mut self, value: #ty) -> Self {
                            self.#field = ::std::option::Option::Some(#conv);
                            self
                        }
                    });
                }
                (false, None) => {
                    let (ty, conv) = arg(&field_ty);
                    inits.push(quote!(#field: ::std::default::Default::default(),));
                    let doc = format!("Sets `{}`.", prop.name.trim_start_matches("r#"));
                    setters.push(quote! {
                        #[doc = #doc]
                        #[must_use]
                        pub fn #field(mut self, value: #ty) -> Self {
                            self.#field = #conv;
                            self
                        }
                    });
                }
            }
        }
        let ident = format_ident!("{}", name);
        out.push(quote! {
            impl #ident {
                /// With the required fields; the optional ones unset.
                #[allow(clippy::new_without_default)]
                pub fn new(#(#new_args),*) -> Self {
                    #ident { #(#inits)* }
                }
                #(#setters)*
            }
        });
    }
    Ok(quote!(#(#out)*))
}
