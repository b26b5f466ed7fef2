//! The description's schemas as Rust types: normalised for typify, then each operation's
//! answer and JSON body named.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Value, json};
use typify::{TypeSpace, TypeSpaceImpl, TypeSpaceSettings};

use super::{Answer, Typed};
use crate::Result;
use crate::spec::{Api, BodySpec, object};

/// Converts the description's schemas for typify: 3.0's `nullable` becomes a 3.1 type array
/// (or a `oneOf` with `null` around a `$ref`); formats typify would map to other crates
/// (`date-time` → chrono) are dropped, so times stay RFC 3339 strings; `discriminator`
/// (ignored by typify) is dropped.
pub fn normalise(schema: &Value) -> Value {
    let Value::Object(members) = schema else {
        return schema.clone();
    };
    let mut out = serde_json::Map::new();
    let mut nullable = false;
    for (key, value) in members {
        match key.as_str() {
            "nullable" => nullable = value.as_bool().unwrap_or(false),
            "discriminator" => {}
            "format" if value != "binary" => {}
            "properties" => {
                let props = value
                    .as_object()
                    .map(|p| p.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(props));
            }
            "items" | "additionalProperties" => {
                out.insert(key.clone(), normalise(value));
            }
            "oneOf" | "allOf" | "anyOf" => {
                let items = value
                    .as_array()
                    .map(|a| a.iter().map(normalise).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Array(items));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if !nullable {
        return Value::Object(out);
    }
    if let Some(Value::String(ty)) = out.get("type").cloned() {
        out.insert("type".into(), json!([ty, "null"]));
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            values.push(Value::Null);
        }
        return Value::Object(out);
    }
    if out.is_empty() {
        return Value::Object(out);
    }
    json!({"oneOf": [Value::Object(out), {"type": "null"}]})
}

fn schema(value: &Value) -> Result<schemars::schema::Schema> {
    serde_json::from_value(value.clone()).map_err(|e| format!("schema {value}: {e}"))
}

fn is_bare_object(schema: &Value) -> bool {
    match schema {
        Value::Null => true,
        Value::Object(m) => {
            m.is_empty()
                || (m.get("type") == Some(&json!("object"))
                    && m.get("properties")
                        .is_none_or(|p| p.as_object().is_none_or(|p| p.is_empty()))
                    && m.get("oneOf").is_none())
        }
        _ => false,
    }
}

pub(super) fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.rsplit('/').next()
}

pub fn typed(api: &Api, document: &Value) -> Result<Typed> {
    let components = object(&document["components"]["schemas"])?;
    let mut enums = BTreeMap::new();
    let mut settings = TypeSpaceSettings::default();
    settings.with_derive("PartialEq".to_owned());
    for (name, schema) in components {
        if let Some(Value::Array(values)) = schema.get("enum") {
            let values: Vec<String> = values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            settings.with_replacement(
                name,
                format!("crate::types::{name}"),
                [TypeSpaceImpl::Display, TypeSpaceImpl::FromStr].into_iter(),
            );
            enums.insert(name.clone(), values);
        }
    }
    let mut types = TypeSpace::new(&settings);
    let defs: Vec<(String, schemars::schema::Schema)> = components
        .iter()
        .map(|(name, s)| Ok((name.clone(), schema(&normalise(s))?)))
        .collect::<Result<_>>()?;
    types
        .add_ref_types(defs)
        .map_err(|e| format!("typify: {e}"))?;
    let mut answers = Vec::new();
    let mut bodies = Vec::new();
    for op in &api.operations {
        let prefix = op.name.type_prefix();
        let answer = answer(&mut types, &op.ok, &prefix)?;
        answers.push(answer);
        bodies.push(match &op.body {
            Some(BodySpec::Json(body)) => Some(named(&mut types, body, &format!("{prefix}Body"))?),
            _ => None,
        });
    }
    Ok(Typed {
        answers,
        bodies,
        types,
        enums,
    })
}

/// The Rust type of `schema`: a component by name, or a new type named `name`.
pub(super) fn named(
    types: &mut TypeSpace,
    schema_value: &Value,
    name: &str,
) -> Result<TokenStream> {
    if let Some(component) = ref_name(schema_value) {
        let ident = format_ident!("{}", component);
        return Ok(quote!(crate::types::#ident));
    }
    if is_bare_object(schema_value) {
        return Ok(quote!(::serde_json::Value));
    }
    let id = types
        .add_type_with_name(&schema(&normalise(schema_value))?, Some(name.to_owned()))
        .map_err(|e| format!("typify {name}: {e}"))?;
    let ty = types
        .get_type(&id)
        .map_err(|e| format!("typify {name}: {e}"))?;
    Ok(ty.ident())
}

fn answer(types: &mut TypeSpace, ok: &Value, prefix: &str) -> Result<Answer> {
    let props = ok.get("properties").and_then(Value::as_object);
    if let Some(props) = props
        && ok.get("$ref").is_none()
        && props
            .get("data")
            .is_some_and(|d| d.get("type") == Some(&json!("array")))
    {
        let item = &props["data"]["items"];
        let paged = props.contains_key("total") || props.contains_key("offset");
        let cursor = props.contains_key("next_cursor");
        if cursor || paged {
            let item = named(types, item, &format!("{prefix}Item"))?;
            return Ok(if cursor {
                Answer::CursorPage(item)
            } else {
                Answer::Page(item)
            });
        }
    }
    Ok(Answer::Plain(named(
        types,
        ok,
        &format!("{prefix}Response"),
    )?))
}
