//! What handlers read of a request: JSON bodies, form fields, list parameters.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Call;
use crate::testing::backend::query_pairs;
use crate::testing::directory::ApiError;
use crate::testing::multipart::Form;

/// Page size when `limit` is absent.
const DEFAULT_LIMIT: u64 = 10;
/// Largest page size; a larger `limit` is lowered to it.
const MAX_LIMIT: u64 = 100;

pub(super) fn json_body<T: DeserializeOwned>(call: &Call<'_>) -> Result<T, ApiError> {
    serde_json::from_slice(call.body)
        .map_err(|err| ApiError::BadRequest(format!("invalid JSON body: {err}")))
}

pub(super) fn form(call: &Call<'_>) -> Result<Form, ApiError> {
    Form::parse(call.content_type, call.body).map_err(|err| ApiError::BadRequest(err.to_string()))
}

pub(super) fn text(form: &Form, name: &str) -> Result<Option<String>, ApiError> {
    form.text(name)
        .map(|value| value.map(str::to_owned))
        .map_err(|err| ApiError::BadRequest(err.to_string()))
}

/// A text field that must be present and not blank.
pub(super) fn required(form: &Form, name: &str) -> Result<String, ApiError> {
    non_empty(form, name)?.ok_or_else(|| ApiError::BadRequest(format!("`{name}` is required")))
}

/// A text field that, when present, must not be blank.
pub(super) fn non_empty(form: &Form, name: &str) -> Result<Option<String>, ApiError> {
    match text(form, name)? {
        Some(value) if value.trim().is_empty() => {
            Err(ApiError::BadRequest(format!("`{name}` must not be empty")))
        }
        value => Ok(value),
    }
}

/// A boolean field: `true` or `false`.
pub(super) fn flag(form: &Form, name: &str) -> Result<Option<bool>, ApiError> {
    text(form, name)?
        .map(|value| match value.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ApiError::BadRequest(format!(
                "`{name}` must be true or false"
            ))),
        })
        .transpose()
}

/// A metadata field: a JSON object.
pub(super) fn metadata(form: &Form, name: &str) -> Result<Option<Value>, ApiError> {
    text(form, name)?
        .map(|value| match serde_json::from_str::<Value>(&value) {
            Ok(object @ Value::Object(_)) => Ok(object),
            _ => Err(ApiError::BadRequest(format!(
                "`{name}` must be a JSON object"
            ))),
        })
        .transpose()
}

/// The deterministic URL of an uploaded image (its bytes are dropped), if one was sent.
pub(super) fn image_url(form: &Form, field: &str, kind: &str, id: &str) -> Option<String> {
    let part = form.part(field).filter(|part| !part.data.is_empty())?;
    let extension = match part.content_type.as_deref().unwrap_or_default() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "bin",
    };
    let length = part.data.len();
    Some(format!(
        "https://img.example.com/{kind}/{id}/{field}-{length}.{extension}"
    ))
}

/// `offset`, `limit`, `search`, `sort_key`, `sort_order` of a list.
pub(super) struct Page {
    limit: u64,
    offset: u64,
    search: Option<String>,
    sort_key: Option<String>,
    descending: bool,
}

impl Page {
    /// Parses a query; `sort_key` must be one of `sort_keys`.
    pub(super) fn parse(query: &str, sort_keys: &[&str]) -> Result<Self, ApiError> {
        let mut page = Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
            search: None,
            sort_key: None,
            descending: false,
        };
        let bad =
            |what: &str, value: &str| ApiError::BadRequest(format!("invalid {what} `{value}`"));
        for (name, value) in query_pairs(query) {
            let trimmed = value.trim();
            match name.as_str() {
                "limit" => match trimmed.parse::<u64>() {
                    Ok(0) | Err(_) => return Err(bad("limit", &value)),
                    Ok(limit) => page.limit = limit.min(MAX_LIMIT),
                },
                "offset" => page.offset = trimmed.parse().map_err(|_| bad("offset", &value))?,
                "search" => {
                    page.search = Some(trimmed.to_lowercase()).filter(|s| !s.is_empty());
                }
                "sort_key" if sort_keys.contains(&trimmed) => {
                    page.sort_key = Some(trimmed.to_owned());
                }
                "sort_key" => return Err(bad("sort_key", &value)),
                "sort_order" => {
                    page.descending = match trimmed.to_ascii_lowercase().as_str() {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(bad("sort_order", &value)),
                    }
                }
                _ => {}
            }
        }
        Ok(page)
    }

    /// Filters (search over `fields`), sorts and pages `items` into
    /// `{"data","has_more","limit","offset"}`.
    pub(super) fn apply(&self, mut items: Vec<Value>, fields: &[&str]) -> Result<Value, ApiError> {
        if let Some(search) = &self.search {
            items.retain(|item| {
                fields.iter().any(|field| {
                    item[*field]
                        .as_str()
                        .is_some_and(|text| text.to_lowercase().contains(search))
                })
            });
        }
        if let Some(key) = &self.sort_key {
            let text = |item: &Value| {
                item[key.as_str()]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase()
            };
            items.sort_by_key(text);
        }
        if self.descending {
            items.reverse();
        }
        let total = items.len();
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let data: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
        let has_more = offset.saturating_add(data.len()) < total;
        Ok(
            json!({ "data": data, "has_more": has_more, "limit": self.limit, "offset": self.offset }),
        )
    }
}
