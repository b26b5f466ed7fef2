//! Instances of the description's schemas, for the generated tests: a *full* one (every
//! property set, nothing null) and a *minimal* one (required properties only, `null` where
//! allowed).

use serde_json::{Map, Value, json};

pub struct Samples<'a> {
    components: &'a Map<String, Value>,
}

/// Deeper than this, a full instance stops adding optional properties (recursive schemas).
const MAX_DEPTH: usize = 6;

impl<'a> Samples<'a> {
    pub fn new(document: &'a Value) -> Self {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        Samples {
            components: document["components"]["schemas"]
                .as_object()
                .unwrap_or_else(|| EMPTY.get_or_init(Map::new)),
        }
    }

    fn resolve(&self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference
                .rsplit('/')
                .next()
                .and_then(|name| self.components.get(name))
                .unwrap_or(&Value::Null),
            None => schema,
        }
    }

    /// Every property set, no `null`.
    pub fn full(&self, schema: &'a Value) -> Value {
        self.instance(schema, 0, true)
    }

    /// Required properties only; `null` where the schema allows it.
    pub fn minimal(&self, schema: &'a Value) -> Value {
        self.instance(schema, 0, false)
    }

    fn instance(&self, schema: &'a Value, depth: usize, full: bool) -> Value {
        let schema = self.resolve(schema);
        if !full && schema.get("nullable") == Some(&json!(true)) {
            return Value::Null;
        }
        if let Some(value) = schema.get("const") {
            return value.clone();
        }
        if let Some(Value::Array(values)) = schema.get("enum")
            && let Some(first) = values.iter().find(|v| !v.is_null())
        {
            return first.clone();
        }
        if let Some(Value::Array(variants)) = schema.get("oneOf")
            && let Some(first) = variants.first()
        {
            return self.instance(first, depth + 1, full);
        }
        if let Some(Value::Array(parts)) = schema.get("allOf") {
            let mut merged = Map::new();
            for part in parts {
                if let Value::Object(members) = self.instance(part, depth + 1, full) {
                    merged.extend(members);
                }
            }
            return Value::Object(merged);
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("string") => match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => json!("2024-01-02T03:04:05Z"),
                _ => json!("text"),
            },
            Some("integer") => json!(7),
            Some("number") => json!(1.5),
            Some("boolean") => json!(true),
            Some("array") => {
                if full {
                    json!([self.instance(&schema["items"], depth + 1, full)])
                } else {
                    json!([])
                }
            }
            Some("object") | None => {
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut out = Map::new();
                match schema.get("properties").and_then(Value::as_object) {
                    Some(properties) if !properties.is_empty() => {
                        for (name, property) in properties {
                            let wanted =
                                required.contains(&name.as_str()) || (full && depth < MAX_DEPTH);
                            if wanted {
                                out.insert(name.clone(), self.instance(property, depth + 1, full));
                            }
                        }
                    }
                    // A free-form object (`{}`, `{type: object}`): any member will do.
                    _ if full => {
                        out.insert("key".into(), json!("value"));
                    }
                    _ => {}
                }
                Value::Object(out)
            }
            Some(_) => Value::Null,
        }
    }
}
