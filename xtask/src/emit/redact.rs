//! `Debug` that prints `***` for credential fields.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::Result;

/// Fields whose values are credentials: a type holding one has a `Debug` that prints `***`
/// for it (a body or an answer logged with `{:?}` must not carry a password, an API key or a
/// client secret into the logs).
pub fn is_secret(name: &str) -> bool {
    let name = name.trim_start_matches("r#");
    matches!(
        name,
        "password"
            | "new_password"
            | "token"
            | "access_token"
            | "refresh_token"
            | "key"
            | "api_key"
            | "secret"
            | "signing_secret"
            | "client_secret"
            | "secret_access_key"
            | "credentials"
            | "custom_signing_key"
            | "private_key"
    ) || name.ends_with("_api_key")
}

/// Whether a field of this type can hold a credential (text or free-form JSON: not a flag, a
/// number or a settings struct).
pub(super) fn can_hold_secret(ty: &syn::Type) -> bool {
    let text = quote!(#ty).to_string();
    text.contains("String") || text.contains("serde_json")
}

/// typify derives `Debug`; for a struct with a credential field ([`is_secret`]) the derive is
/// replaced by an impl that prints `***` for it.
pub(super) fn redact_debug(tokens: TokenStream) -> Result<TokenStream> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("typify output does not parse: {e}"))?;
    let mut impls = Vec::new();
    for item in &mut file.items {
        let syn::Item::Struct(item) = item else {
            continue;
        };
        let syn::Fields::Named(fields) = &item.fields else {
            continue;
        };
        let names: Vec<(Ident, bool)> = fields
            .named
            .iter()
            .filter_map(|f| {
                let ident = f.ident.clone()?;
                let secret = is_secret(&ident.to_string()) && can_hold_secret(&f.ty);
                Some((ident, secret))
            })
            .collect();
        if !names.iter().any(|(_, secret)| *secret) {
            continue;
        }
        for attr in &mut item.attrs {
            if !attr.path().is_ident("derive") {
                continue;
            }
            let derives: syn::punctuated::Punctuated<syn::Path, syn::Token![,]> = attr
                .parse_args_with(syn::punctuated::Punctuated::parse_terminated)
                .map_err(|e| format!("derive of {}: {e}", item.ident))?;
            let kept = derives.iter().filter(|p| !p.is_ident("Debug"));
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
        let ident = &item.ident;
        let name = ident.to_string();
        let shown = names.iter().map(|(field, secret)| {
            let label = field.to_string().trim_start_matches("r#").to_owned();
            if *secret {
                quote!(.field(#label, &"***"))
            } else {
                quote!(.field(#label, &self.#field))
            }
        });
        impls.push(quote! {
            impl ::std::fmt::Debug for #ident {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct(#name) #(#shown)* .finish()
                }
            }
        });
    }
    Ok(quote!(#file #(#impls)*))
}
