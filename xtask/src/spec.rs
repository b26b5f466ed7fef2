//! The pinned description: importing it (facts only) and reading its operations.

use std::path::Path;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::Result;
use crate::names;

/// The facts the generator reads, relative to the repository's root.
pub const FACTS: &str = "wacht-backend/spec/platform-api.json";
/// Where the facts came from.
pub const SOURCE: &str = "wacht-backend/spec/SOURCE";

pub fn load(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reduces an upstream description to the facts of the interface: per operation its id,
/// tags, method, path, parameters (name, place, required, schema), body (media type, schema)
/// and success schema; the component schemas. Summaries, descriptions, examples and the
/// error responses (one identical inline schema repeated 1 060 times) are left out.
pub fn import(file: &Path, commit: &str, root: &Path) -> Result<()> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let upstream: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut paths = Map::new();
    for (path, item) in object(&upstream["paths"])? {
        let mut methods = Map::new();
        for (method, op) in object(item)? {
            let mut reduced = Map::new();
            for key in ["operationId", "tags"] {
                reduced.insert(key.into(), op[key].clone());
            }
            if let Some(parameters) = op.get("parameters") {
                let parameters: Vec<Value> = array(parameters)?
                    .iter()
                    .map(|p| {
                        json!({"name": p["name"], "in": p["in"], "required": p["required"],
                               "schema": strip(&p["schema"])})
                    })
                    .collect();
                reduced.insert("parameters".into(), Value::Array(parameters));
            }
            if let Some(body) = op.get("requestBody") {
                let mut content = Map::new();
                for (media, spec) in object(&body["content"])? {
                    content.insert(media.clone(), json!({"schema": strip(&spec["schema"])}));
                }
                reduced.insert(
                    "requestBody".into(),
                    json!({"required": body["required"], "content": content}),
                );
            }
            let ok = &op["responses"]["200"]["content"]["application/json"]["schema"];
            reduced.insert(
                "responses".into(),
                json!({"200": {"content": {"application/json": {"schema": strip(ok)}}}}),
            );
            methods.insert(method.clone(), Value::Object(reduced));
        }
        paths.insert(path.clone(), Value::Object(methods));
    }
    let mut schemas = Map::new();
    for (name, schema) in object(&upstream["components"]["schemas"])? {
        schemas.insert(name.clone(), strip(schema));
    }
    let facts = json!({
        "openapi": upstream["openapi"],
        "info": {"title": upstream["info"]["title"], "version": upstream["info"]["version"]},
        "servers": upstream["servers"],
        "security": upstream["security"],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": upstream["components"]["securitySchemes"],
        },
    });
    let text = serde_json::to_string_pretty(&facts).map_err(|e| e.to_string())? + "\n";
    std::fs::write(root.join(FACTS), text).map_err(|e| format!("{FACTS}: {e}"))?;
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let source = format!(
        "repository: https://github.com/wacht-platform/docs\n\
         path: public/openapi/platform-api.json\n\
         commit: {commit}\n\
         sha256: {digest}\n\
         reduced by: cargo xtask import-spec (operations, paths, parameters, bodies, success \
         schemas and component schemas; no summaries, descriptions or error responses)\n"
    );
    std::fs::write(root.join(SOURCE), source).map_err(|e| format!("{SOURCE}: {e}"))?;
    println!("xtask import-spec: wrote {FACTS} and {SOURCE}");
    Ok(())
}

/// `schema` without prose (`description`, `summary`, `title`, `example(s)`), recursively.
fn strip(schema: &Value) -> Value {
    match schema {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(key, _)| {
                    !matches!(
                        key.as_str(),
                        "description" | "summary" | "title" | "example" | "examples"
                    )
                })
                .map(|(key, value)| {
                    // `properties` holds names, not keywords: its members are kept whatever
                    // they are called.
                    let value = if key == "properties" {
                        match value {
                            Value::Object(props) => Value::Object(
                                props.iter().map(|(k, v)| (k.clone(), strip(v))).collect(),
                            ),
                            other => other.clone(),
                        }
                    } else {
                        strip(value)
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
        other => other.clone(),
    }
}

pub fn object(value: &Value) -> Result<&Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| format!("expected an object, found {value}"))
}

pub fn array(value: &Value) -> Result<&Vec<Value>> {
    value
        .as_array()
        .ok_or_else(|| format!("expected an array, found {value}"))
}

/// The operations, as the emitter sees them.
pub struct Api {
    pub operations: Vec<Operation>,
}

pub struct Operation {
    pub id: String,
    pub method: String,
    pub path: String,
    pub name: names::Name,
    pub path_params: Vec<String>,
    pub query: Vec<Param>,
    pub body: Option<BodySpec>,
    /// The success schema (after fixes), `Value::Null` when absent.
    pub ok: Value,
}

pub struct Param {
    pub name: String,
    pub required: bool,
    pub schema: Value,
}

pub enum BodySpec {
    Json(Value),
    Multipart(Value),
}

impl Api {
    pub fn read(document: &Value) -> Result<Api> {
        let mut operations = Vec::new();
        for (path, item) in object(&document["paths"])? {
            for (method, op) in object(item)? {
                let id = op["operationId"]
                    .as_str()
                    .ok_or_else(|| format!("{method} {path}: no operationId"))?
                    .to_owned();
                let tag = op["tags"][0].as_str().unwrap_or("Default");
                let mut path_params = Vec::new();
                let mut query = Vec::new();
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().ok_or("a parameter without a name")?;
                    match p["in"].as_str() {
                        Some("path") => path_params.push(name.to_owned()),
                        Some("query") => query.push(Param {
                            name: name.to_owned(),
                            required: p["required"].as_bool().unwrap_or(false),
                            schema: p["schema"].clone(),
                        }),
                        other => return Err(format!("{id}: parameter in {other:?}")),
                    }
                }
                // Path parameters in the order they appear in the path.
                let in_path = placeholders(path);
                if in_path.len() != path_params.len()
                    || in_path.iter().any(|p| !path_params.contains(p))
                {
                    return Err(format!("{id}: path parameters {path_params:?} vs {path}"));
                }
                let content = &op["requestBody"]["content"];
                let body = if let Some(schema) = content.get("application/json") {
                    Some(BodySpec::Json(schema["schema"].clone()))
                } else {
                    content
                        .get("multipart/form-data")
                        .map(|schema| BodySpec::Multipart(schema["schema"].clone()))
                };
                let ok = op["responses"]["200"]["content"]["application/json"]["schema"].clone();
                let name = names::name(&id, tag, &in_path)?;
                operations.push(Operation {
                    id,
                    method: method.to_uppercase(),
                    path: path.clone(),
                    name,
                    path_params: in_path,
                    query,
                    body,
                    ok,
                });
            }
        }
        names::check_unique(operations.iter().map(|op| &op.name))?;
        // Every rename must name an operation: one that disappeared upstream is noticed.
        for renamed in names::renamed_ids() {
            if !operations.iter().any(|op| op.id == renamed) {
                return Err(format!(
                    "names.rs renames {renamed}, which is no longer described"
                ));
            }
        }
        Ok(Api { operations })
    }
}

/// The `{name}` placeholders of `path`, in order.
pub fn placeholders(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect()
}
