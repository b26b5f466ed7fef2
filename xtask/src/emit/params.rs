//! Query structs and multipart forms: a constructor of the required fields and a setter per
//! optional one; scalars typed and turned into text.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::ident;
use super::redact::is_secret;
use super::schemas::ref_name;
use crate::Result;
use crate::spec::{Operation, Param, object};

/// How a scalar parameter or form field is typed and turned into text.
#[derive(Clone)]
pub enum Scalar {
    Integer,
    Unsigned,
    Number,
    Boolean,
    Text,
    Enum(String),
    File,
    Json,
}

impl Scalar {
    pub fn of(name: &str, schema: &Value) -> Scalar {
        if let Some(component) = ref_name(schema) {
            return Scalar::Enum(component.to_owned());
        }
        match (
            schema.get("type").and_then(Value::as_str),
            schema.get("format"),
        ) {
            (Some("integer"), _) if matches!(name, "limit" | "offset") => Scalar::Unsigned,
            // The description types the users list's `sort_order` as `SortOrder` and the other
            // lists' as a string; the values are the same (`asc`, `desc`), and the open enum
            // still takes any string.
            (Some("string"), None) if name == "sort_order" => Scalar::Enum("SortOrder".to_owned()),
            (Some("integer"), _) => Scalar::Integer,
            (Some("number"), _) => Scalar::Number,
            (Some("boolean"), _) => Scalar::Boolean,
            (Some("string"), Some(f)) if f == "binary" => Scalar::File,
            (Some("string"), _) => Scalar::Text,
            _ => Scalar::Json,
        }
    }

    fn ty(&self) -> TokenStream {
        match self {
            Scalar::Integer => quote!(i64),
            Scalar::Unsigned => quote!(u64),
            Scalar::Number => quote!(f64),
            Scalar::Boolean => quote!(bool),
            Scalar::Text => quote!(::std::string::String),
            Scalar::Enum(name) => {
                let name = format_ident!("{}", name);
                quote!(#name)
            }
            Scalar::File => quote!(crate::File),
            Scalar::Json => quote!(::serde_json::Value),
        }
    }

    /// The setter's argument type and how it becomes the field's value.
    fn setter(&self) -> (TokenStream, TokenStream) {
        match self {
            Scalar::Text => (
                quote!(impl ::std::convert::Into<::std::string::String>),
                quote!(value.into()),
            ),
            Scalar::Json => (
                quote!(impl ::std::convert::Into<::serde_json::Value>),
                quote!(value.into()),
            ),
            Scalar::Enum(_) => {
                let ty = self.ty();
                (quote!(impl ::std::convert::Into<#ty>), quote!(value.into()))
            }
            other => (other.ty(), quote!(value)),
        }
    }

    fn text(&self, value: TokenStream) -> TokenStream {
        match self {
            Scalar::Text => quote!(#value.clone()),
            Scalar::Enum(_) => quote!(#value.as_str().to_owned()),
            Scalar::Json => quote!(crate::form_text(#value)?),
            _ => quote!(#value.to_string()),
        }
    }
}

struct Field {
    name: String,
    required: bool,
    scalar: Scalar,
}

fn fields_of(params: &[Param]) -> Vec<Field> {
    params
        .iter()
        .map(|p| Field {
            name: p.name.clone(),
            required: p.required,
            scalar: Scalar::of(&p.name, &p.schema),
        })
        .collect()
}

/// A parameter struct (a query or a form) with a constructor of the required fields and a
/// setter per optional one.
fn parameter_struct(name: &Ident, doc: &str, fields: &[Field], secret: bool) -> TokenStream {
    let required: Vec<&Field> = fields.iter().filter(|f| f.required).collect();
    let decls = fields.iter().map(|f| {
        let id = ident(&f.name);
        let ty = f.scalar.ty();
        let doc = format!(
            "`{}`{}.",
            f.name,
            if f.required { "" } else { " (optional)" }
        );
        if f.required {
            quote!(#[doc = #doc] pub #id: #ty,)
        } else {
            quote!(#[doc = #doc] pub #id: ::std::option::Option<#ty>,)
        }
    });
    let new_args = required.iter().map(|f| {
        let id = ident(&f.name);
        let (ty, _) = f.scalar.setter();
        quote!(#id: #ty)
    });
    let new_inits = fields.iter().map(|f| {
        let id = ident(&f.name);
        if f.required {
            let (_, conv) = f.scalar.setter();
            init(&id, &conv)
        } else {
            quote!(#id: ::std::option::Option::None,)
        }
    });
    let setters = fields.iter().filter(|f| !f.required).map(|f| {
        let id = ident(&f.name);
        let (ty, conv) = f.scalar.setter();
        let doc = format!("Sets `{}`.", f.name);
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #id(mut self, value: #ty) -> Self {
                self.#id = ::std::option::Option::Some(#conv);
                self
            }
        }
    });
    let default = if required.is_empty() {
        quote!(Default,)
    } else {
        quote!()
    };
    let new_doc = if required.is_empty() {
        "Nothing set: the service's defaults.".to_owned()
    } else {
        format!(
            "With the required {}.",
            required
                .iter()
                .map(|f| format!("`{}`", f.name))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let debug = if secret {
        let shown = fields.iter().map(|f| {
            let id = ident(&f.name);
            let name = &f.name;
            if is_secret(name) {
                quote!(.field(#name, &"***"))
            } else {
                quote!(.field(#name, &self.#id))
            }
        });
        let struct_name = name.to_string();
        quote! {
            impl ::std::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct(#struct_name) #(#shown)* .finish()
                }
            }
        }
    } else {
        quote!()
    };
    let derive_debug = if secret { quote!() } else { quote!(Debug,) };
    quote! {
        #[doc = #doc]
        #[derive(#derive_debug Clone, #default PartialEq)]
        #[non_exhaustive]
        pub struct #name {
            #(#decls)*
        }
        #debug
        impl #name {
            #[doc = #new_doc]
            #[allow(clippy::new_without_default)]
            pub fn new(#(#new_args),*) -> Self {
                #name { #(#new_inits)* }
            }
            #(#setters)*
        }
    }
}

pub(super) fn query_struct(op: &Operation, doc_target: &str) -> Option<TokenStream> {
    if op.query.is_empty() {
        return None;
    }
    let name = format_ident!("{}Query", op.name.type_prefix());
    let fields = fields_of(&op.query);
    let doc = format!(
        "The query of [`{doc_target}`]: `{} {}`.",
        op.method, op.path
    );
    let decl = parameter_struct(&name, &doc, &fields, false);
    let pushes = fields.iter().map(|f| {
        let id = ident(&f.name);
        let wire = &f.name;
        if f.required {
            let text = f.scalar.text(quote!(self.#id));
            quote!(pairs.push((#wire, #text));)
        } else {
            let text = f.scalar.text(quote!(value));
            quote!(if let ::std::option::Option::Some(value) = &self.#id { pairs.push((#wire, #text)); })
        }
    });
    let fallible = fields.iter().any(|f| matches!(f.scalar, Scalar::Json));
    let body = quote! {
        let mut pairs = ::std::vec::Vec::new();
        #(#pushes)*
    };
    let pairs_fn = if fallible {
        quote! {
            /// The query pairs, in the description's order; unset parameters are left out.
            pub fn pairs(&self) -> ::std::result::Result<::std::vec::Vec<(&'static str, ::std::string::String)>, crate::Error> {
                #body
                Ok(pairs)
            }
        }
    } else {
        quote! {
            /// The query pairs, in the description's order; unset parameters are left out.
            pub fn pairs(&self) -> ::std::vec::Vec<(&'static str, ::std::string::String)> {
                #body
                pairs
            }
        }
    };
    Some(quote! {
        #decl
        impl #name { #pairs_fn }
    })
}

pub(super) fn form_struct(op: &Operation, schema: &Value, doc_target: &str) -> Result<TokenStream> {
    let name = format_ident!("{}Form", op.name.type_prefix());
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields: Vec<Field> = object(&schema["properties"])?
        .iter()
        .map(|(name, s)| Field {
            name: name.clone(),
            required: required.contains(&name.as_str()),
            scalar: Scalar::of(name, s),
        })
        .collect();
    let doc = format!(
        "The form (`multipart/form-data`) of [`{doc_target}`]: `{} {}`.",
        op.method, op.path
    );
    let secret = fields.iter().any(|f| is_secret(&f.name));
    let decl = parameter_struct(&name, &doc, &fields, secret);
    let parts = fields.iter().map(|f| {
        let id = ident(&f.name);
        let wire = &f.name;
        let add = |value: TokenStream| match f.scalar {
            Scalar::File => quote!(form.file(#wire, #value.clone());),
            _ => {
                let text = f.scalar.text(value);
                quote!(form.text(#wire, #text);)
            }
        };
        if f.required {
            add(quote!(self.#id))
        } else {
            let add = add(quote!(value));
            quote!(if let ::std::option::Option::Some(value) = &self.#id { #add })
        }
    });
    Ok(quote! {
        #decl
        impl #name {
            /// The form to send: every set field, in the description's order.
            #[allow(clippy::unnecessary_wraps)]
            pub fn to_form(&self) -> ::std::result::Result<crate::Form, crate::Error> {
                let mut form = crate::Form::new();
                #(#parts)*
                Ok(form)
            }
        }
    })
}

/// A constructor's field initialiser from its same-named argument: `field` or
/// `field: field.into()`.
pub(super) fn init(field: &Ident, conv: &TokenStream) -> TokenStream {
    if conv.to_string() == "value" {
        quote!(#field,)
    } else {
        quote!(#field: #field.into(),)
    }
}
