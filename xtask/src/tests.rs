//! The generated tests (`tests/backend_operations/generated.rs`): for every operation, one
//! row calling it through the real transport against a recording loopback server, with what
//! the server must see (method, path, query, body) and an answer built from the success
//! schema that must decode and encode back to itself; and a table of minimal answers
//! (required properties only, `null` where allowed) that must decode.
//!
//! The expectations are computed here from the description, not from the emitted code.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Value, json};

use crate::emit::{self, Answer, Scalar, ident};
use crate::samples::Samples;
use crate::spec::{Api, BodySpec, Operation, object};
use crate::{Result, format};

/// The sample value of a path parameter: its name plus a `/` and a space, which must arrive
/// percent-encoded inside one segment.
fn path_sample(name: &str) -> String {
    format!("{name}/x y")
}

fn path_encoded(name: &str) -> String {
    format!("{name}%2Fx%20y")
}

/// A sample scalar: the Rust expression passed, and the text the server must see.
fn scalar_sample(
    name: &str,
    scalar: &Scalar,
    enums: &BTreeMap<String, Vec<String>>,
) -> (TokenStream, String) {
    match scalar {
        Scalar::Unsigned if name == "offset" => (quote!(3), "3".into()),
        Scalar::Unsigned | Scalar::Integer => (quote!(7), "7".into()),
        Scalar::Number => (quote!(1.5), "1.5".into()),
        Scalar::Boolean => (quote!(true), "true".into()),
        Scalar::Text => (quote!("text value"), "text value".into()),
        Scalar::Enum(enum_name) => {
            let first = enums
                .get(enum_name)
                .and_then(|v| v.first())
                .cloned()
                .unwrap_or_default();
            (quote!(#first), first)
        }
        Scalar::Json => (
            quote!(::serde_json::json!({"key": "value"})),
            r#"{"key":"value"}"#.into(),
        ),
        Scalar::File => (
            quote!(::wacht::backend_api::File::new(
                b"file bytes".to_vec(),
                "file.png",
                "image/png"
            )),
            "file bytes".into(),
        ),
    }
}

/// `crate::` paths of the emitted code, as seen from a test.
fn external(tokens: &TokenStream) -> TokenStream {
    let text = tokens
        .to_string()
        .replace("crate :: types ::", "")
        .replace("crate ::", "wacht::backend_api ::");
    text.parse().unwrap_or_default()
}

pub fn files(api: &Api, document: &Value) -> Result<Vec<(String, String)>> {
    let typed = emit::typed(api, document)?;
    let samples = Samples::new(document);
    let mut groups: BTreeMap<String, Vec<TokenStream>> = BTreeMap::new();
    let mut minimal = Vec::new();
    for (index, op) in api.operations.iter().enumerate() {
        let answer = &typed.answers[index];
        groups.entry(op.name.group.clone()).or_default().push(row(
            op,
            answer,
            typed.bodies[index].as_ref(),
            &typed.enums,
            &samples,
        )?);
        minimal.push(minimal_row(op, answer, &samples));
    }
    let tests = groups.iter().map(|(group, rows)| {
        let name = format_ident!("{}", group);
        let doc = format!(" Every `{group}` operation: request shape and answer decoding.");
        quote! {
            #[doc = #doc]
            #[tokio::test]
            async fn #name() {
                let rows = [#(#rows),*];
                harness::check(&rows).await;
            }
        }
    });
    let count = api.operations.len();
    let tokens = quote! {
        //! One row per operation of the description (the generator's own expectations, from the
        //! description), checked by `harness`.
        #![allow(clippy::too_many_lines, clippy::unreadable_literal, clippy::needless_raw_string_hashes)]
        use wacht::backend_api::types::*;
        use super::harness::{self, Row, Sent};

        #(#tests)*

        /// Every operation's minimal answer (required properties only, `null` where allowed)
        /// decodes as its answer type.
        #[test]
        fn minimal_answers_decode() {
            let rows: [(&str, &str, fn(&str) -> Result<(), serde_json::Error>); #count] = [#(#minimal),*];
            assert_eq!(rows.len(), #count);
            harness::check_minimal(&rows);
        }
    };
    let text = format(tokens, emit::HEADER)?;
    Ok(vec![(
        "tests/backend_operations/generated.rs".to_owned(),
        text,
    )])
}

fn answer_sample(answer: &Answer, ok: &Value, samples: &Samples<'_>, full: bool) -> Value {
    let instance = |schema: &Value| {
        if full {
            samples.full(schema)
        } else {
            samples.minimal(schema)
        }
    };
    match answer {
        Answer::Page(_) => {
            let item = instance(&ok["properties"]["data"]["items"]);
            if full {
                json!({"data": [item], "has_more": false, "limit": 1, "offset": 0})
            } else {
                json!({"data": [item]})
            }
        }
        Answer::CursorPage(_) => {
            let item = instance(&ok["properties"]["data"]["items"]);
            if full {
                json!({"data": [item], "has_more": false, "limit": 1, "next_cursor": "cursor"})
            } else {
                json!({"data": [item]})
            }
        }
        Answer::Plain(_) if ok.is_null() => json!({"key": "value"}),
        Answer::Plain(_) => instance(ok),
    }
}

fn row(
    op: &Operation,
    answer: &Answer,
    body_type: Option<&TokenStream>,
    enums: &BTreeMap<String, Vec<String>>,
    samples: &Samples<'_>,
) -> Result<TokenStream> {
    let id = &op.id;
    let method = &op.method;
    let path: String = op
        .path
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => path_encoded(name),
                None => s.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/");
    // The call: group, sub-resource, method, arguments.
    let group = format_ident!("{}", op.name.group);
    let method_ident = ident(&op.name.method);
    let mut receiver = quote!(b.#group());
    let mut args = Vec::new();
    for (i, param) in op.path_params.iter().enumerate() {
        let sample = path_sample(param);
        if i == 0
            && let Some(sub) = &op.name.sub
        {
            let sub = format_ident!("{}", sub);
            receiver = quote!(#receiver.#sub(#sample));
        } else {
            args.push(quote!(#sample));
        }
    }
    let mut query_pairs = Vec::new();
    if !op.query.is_empty() {
        let query_type = format_ident!("{}Query", op.name.type_prefix());
        let mut required = Vec::new();
        let mut setters = Vec::new();
        for param in &op.query {
            let scalar = Scalar::of(&param.name, &param.schema);
            let (value, text) = scalar_sample(&param.name, &scalar, enums);
            query_pairs.push((param.name.clone(), text));
            if param.required {
                required.push(value);
            } else {
                let setter = ident(&param.name);
                setters.push(quote!(.#setter(#value)));
            }
        }
        args.push(quote!(#query_type::new(#(#required),*) #(#setters)*));
    }
    let sent = match &op.body {
        None => quote!(Sent::Empty),
        Some(BodySpec::Json(schema)) => {
            let sample = raw(&samples.full(schema).to_string());
            let ty = external(body_type.ok_or_else(|| format!("{id}: no body type"))?);
            args.push(quote!(&harness::body::<#ty>(#sample)?));
            quote!(Sent::Json(#sample))
        }
        Some(BodySpec::Multipart(schema)) => {
            let form_type = format_ident!("{}Form", op.name.type_prefix());
            let required_names: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut required = Vec::new();
            let mut setters = Vec::new();
            let mut parts = Vec::new();
            for (name, property) in object(&schema["properties"])? {
                let scalar = Scalar::of(name, property);
                let (value, text) = scalar_sample(name, &scalar, enums);
                let is_file = matches!(scalar, Scalar::File);
                parts.push(quote!((#name, #text, #is_file)));
                if required_names.contains(&name.as_str()) {
                    required.push(value);
                } else {
                    let setter = ident(name);
                    setters.push(quote!(.#setter(#value)));
                }
            }
            args.push(quote!(&#form_type::new(#(#required),*) #(#setters)*));
            quote!(Sent::Form(&[#(#parts),*]))
        }
    };
    let query = query_pairs.iter().map(|(n, v)| quote!((#n, #v)));
    let answer_text = raw(&answer_sample(answer, &op.ok, samples, true).to_string());
    Ok(quote! {
        Row {
            id: #id,
            method: #method,
            path: #path,
            query: &[#(#query),*],
            sent: #sent,
            answer: #answer_text,
            call: |b| Box::pin(async move { harness::json(#receiver.#method_ident(#(#args),*).await?) }),
        }
    })
}

fn minimal_row(op: &Operation, answer: &Answer, samples: &Samples<'_>) -> TokenStream {
    let id = &op.id;
    let text = raw(&answer_sample(answer, &op.ok, samples, false).to_string());
    let ty = external(&answer.tokens());
    quote!((#id, #text, |s| serde_json::from_str::<#ty>(s).map(drop)))
}

/// `text` as a raw string literal (`r#"…"#`): JSON reads as JSON.
fn raw(text: &str) -> TokenStream {
    let hashes = if text.contains("\"#") { "##" } else { "#" };
    format!("r{hashes}\"{text}\"{hashes}")
        .parse()
        .unwrap_or_else(|_| quote!(#text))
}
