//! OpenAPI descriptions of what `wacht` enforces (features `utoipa`, `aide`): the security
//! schemes and the rejections' JSON schema. Documentation only: nothing here takes part in a
//! check.
//!
//! With `utoipa`:
//! - [`WachtSecurity`], a `utoipa::Modify`: adds the three security schemes the attributes'
//!   requirements name (`wacht_session`, `wacht_api_key`, `wacht_oauth`), one scheme per custom
//!   API-key header an operation names (`wacht_api_key.<header>`), and the
//!   [`RejectionBody`] schema.
//! - [`RejectionBody`]: the schema of every refusal's body (`{"error", "reason", "message", …}`),
//!   named `WachtRejection` in the document.
//!
//! `#[wacht::protect]` and `#[wacht::machine]` written above `#[utoipa::path(…)]` fill in the
//! operation's `security` and its 401 / 403 / 429 / 503 answers from their own arguments; see
//! the facade's OpenAPI guide.
//!
//! ```
//! # #[cfg(feature = "utoipa")] {
//! use utoipa::Modify;
//! use utoipa::openapi::OpenApi;
//! use wacht_runtime::openapi::WachtSecurity;
//!
//! let mut document = OpenApi::default();
//! WachtSecurity.modify(&mut document);
//! let components = document.components.expect("components");
//! assert!(components.security_schemes.contains_key("wacht_session"));
//! assert!(components.schemas.contains_key("WachtRejection"));
//! # }
//! ```
//!
//! With `aide`: the extractors `Auth`, `MachineAuth` and `Caller` are `aide::OperationInput`s
//! (the operation's security requirement and its refusal answers), [`aide_security`] adds the
//! schemes to an `aide` document, [`aide_optional_session`] documents an `Option<Auth>`
//! handler, and [`RejectionBody`] is a `schemars::JsonSchema` (the same `WachtRejection`
//! schema).

#[cfg(feature = "utoipa")]
use std::borrow::Cow;
#[cfg(feature = "utoipa")]
use std::collections::BTreeSet;

#[cfg(feature = "utoipa")]
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
#[cfg(feature = "utoipa")]
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
#[cfg(feature = "utoipa")]
use utoipa::openapi::{Components, OpenApi, RefOr};
#[cfg(feature = "utoipa")]
use utoipa::{Modify, PartialSchema, ToSchema};

use crate::rejection::RejectionCode;

#[cfg(feature = "aide")]
mod aide_docs;
#[cfg(feature = "aide")]
#[cfg_attr(docsrs, doc(cfg(feature = "aide")))]
pub use self::aide_docs::{AideSecurity, aide_optional_session, aide_security};

/// The scheme of a session token: `Authorization: Bearer <JWT>`.
pub const SESSION_SCHEME: &str = "wacht_session";
/// The scheme of an API key, in the default header (`x-api-key`, or the one given to
/// [`WachtSecurity::with_api_key_header`]).
pub const API_KEY_SCHEME: &str = "wacht_api_key";
/// The scheme of an OAuth access token: `Authorization: Bearer <token>`, checked by the gateway.
pub const OAUTH_SCHEME: &str = "wacht_oauth";
/// The schema name of [`RejectionBody`] in the document.
pub const REJECTION_SCHEMA: &str = "WachtRejection";
/// The header API keys come from when neither the attribute nor [`WachtSecurity`] names another.
pub const DEFAULT_API_KEY_HEADER: &str = "x-api-key";

/// The description of [`SESSION_SCHEME`] (utoipa and aide write the same).
const SESSION_DESCRIPTION: &str = "A Wacht session token (`Authorization: Bearer <JWT>`), \
    verified against the deployment's published keys. Roles listed in a requirement are Wacht \
    permissions of the session's organization or workspace.";
/// The description of [`API_KEY_SCHEME`].
const API_KEY_DESCRIPTION: &str = "A Wacht API key, checked by Wacht's gateway. Roles listed \
    in a requirement are permissions the key must hold.";
/// The description of [`OAUTH_SCHEME`].
const OAUTH_DESCRIPTION: &str = "An OAuth access token issued by Wacht (`Authorization: \
    Bearer <token>`), checked by Wacht's gateway. Roles listed in a requirement are \
    permissions the token must grant.";

/// Adds Wacht's security schemes and the rejection schema to an OpenAPI document: a
/// `utoipa::Modify` (`#[openapi(modifiers(&WachtSecurity))]`, or call [`Modify::modify`] on a
/// built document).
///
/// | scheme | type | credential |
/// |---|---|---|
/// | `wacht_session` | HTTP `bearer`, format JWT | a Wacht session token |
/// | `wacht_api_key` | API key in a header | `x-api-key` (or [`with_api_key_header`](Self::with_api_key_header)) |
/// | `wacht_api_key.<header>` | API key in `<header>` | added for each operation whose attribute has `header = "<header>"` |
/// | `wacht_oauth` | HTTP `bearer` | an OAuth access token issued by Wacht |
///
/// Requirements list the permissions the attribute requires as the scheme's roles (OpenAPI 3.1
/// allows them for every scheme type): `all`/`permission` as one requirement listing them all,
/// `any` as one alternative per permission.
#[cfg(feature = "utoipa")]
#[cfg_attr(docsrs, doc(cfg(feature = "utoipa")))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WachtSecurity;

#[cfg(feature = "utoipa")]
impl WachtSecurity {
    /// The same schemes with `wacht_api_key` in this header (the one your
    /// `MachineRequirement::header` or layers read; attributes with their own `header = "…"`
    /// name a scheme of their own).
    ///
    /// ```
    /// use utoipa::Modify;
    /// use wacht_runtime::openapi::WachtSecurity;
    ///
    /// struct Security;
    /// impl Modify for Security {
    ///     fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
    ///         WachtSecurity::with_api_key_header("x-team-key").modify(openapi);
    ///     }
    /// }
    /// ```
    pub fn with_api_key_header(header: impl Into<Cow<'static, str>>) -> WachtSecurityIn {
        WachtSecurityIn {
            api_key_header: header.into(),
        }
    }
}

#[cfg(feature = "utoipa")]
impl Modify for WachtSecurity {
    fn modify(&self, openapi: &mut OpenApi) {
        WachtSecurity::with_api_key_header(DEFAULT_API_KEY_HEADER).modify(openapi);
    }
}

/// [`WachtSecurity`] with API keys in another header than `x-api-key`
/// ([`WachtSecurity::with_api_key_header`]).
#[cfg(feature = "utoipa")]
#[cfg_attr(docsrs, doc(cfg(feature = "utoipa")))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WachtSecurityIn {
    api_key_header: Cow<'static, str>,
}

#[cfg(feature = "utoipa")]
impl Modify for WachtSecurityIn {
    fn modify(&self, openapi: &mut OpenApi) {
        let custom_headers = custom_api_key_headers(openapi);
        let components = openapi.components.get_or_insert_with(Components::new);
        components.add_security_scheme(
            SESSION_SCHEME,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(SESSION_DESCRIPTION))
                    .build(),
            ),
        );
        components.add_security_scheme(API_KEY_SCHEME, api_key_scheme(&self.api_key_header));
        for header in custom_headers {
            components.add_security_scheme(
                format!("{API_KEY_SCHEME}.{header}"),
                api_key_scheme(&header),
            );
        }
        components.add_security_scheme(
            OAUTH_SCHEME,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(OAUTH_DESCRIPTION))
                    .build(),
            ),
        );
        components
            .schemas
            .insert(REJECTION_SCHEMA.to_owned(), RejectionBody::schema());
    }
}

#[cfg(feature = "utoipa")]
fn api_key_scheme(header: &str) -> SecurityScheme {
    SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
        header,
        API_KEY_DESCRIPTION,
    )))
}

/// The `<header>` of every `wacht_api_key.<header>` scheme the document's operations name.
#[cfg(feature = "utoipa")]
fn custom_api_key_headers(openapi: &OpenApi) -> BTreeSet<String> {
    let prefix = format!("{API_KEY_SCHEME}.");
    let mut headers = BTreeSet::new();
    // Requirements keep their map private; their JSON form is `{"<scheme>": [roles]}`.
    let Ok(paths) = serde_json::to_value(&openapi.paths) else {
        return headers;
    };
    // `{"/path": {"get": {…}, …}, …}` (the map is flattened into `Paths`).
    let Some(paths) = paths.as_object() else {
        return headers;
    };
    for item in paths.values().filter_map(|item| item.as_object()) {
        for operation in item.values() {
            let Some(security) = operation.get("security").and_then(|s| s.as_array()) else {
                continue;
            };
            for requirement in security.iter().filter_map(|r| r.as_object()) {
                headers.extend(
                    requirement
                        .keys()
                        .filter_map(|name| name.strip_prefix(&prefix))
                        .map(str::to_owned),
                );
            }
        }
    }
    headers
}

/// The JSON body of every refusal, as a schema (`WachtRejection` in the document; the type
/// itself carries no data: the answers are [`Rejection`](crate::Rejection)s).
///
/// `{"error": "<code>", "reason": "<reason>", "message": "<sentence>"}`, plus `request_id`
/// (a gateway check), `retry_after` (429) and `required` (a missing permission) where they
/// apply.
///
/// A `utoipa::ToSchema` (feature `utoipa`) and a `schemars::JsonSchema` (feature `aide`): the
/// same schema either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RejectionBody;

/// Every `error` a refusal's body can hold (the schema's `enum`).
fn rejection_codes() -> [&'static str; 7] {
    [
        RejectionCode::Unauthenticated,
        RejectionCode::Forbidden,
        RejectionCode::RateLimited,
        RejectionCode::AuthUnavailable,
        RejectionCode::AuthMisconfigured,
        RejectionCode::BadRequest,
        RejectionCode::PayloadTooLarge,
    ]
    .map(RejectionCode::as_str)
}

#[cfg(feature = "utoipa")]
impl PartialSchema for RejectionBody {
    fn schema() -> RefOr<Schema> {
        let codes = rejection_codes();
        let string = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A request Wacht refused: the handler did not run. `Content-Type: \
                 application/json`, `Cache-Control: no-store`.",
            ))
            .property(
                "error",
                string("The class of the refusal; fixes the status.").enum_values(Some(codes)),
            )
            .required("error")
            .property(
                "reason",
                string("A stable snake_case code, e.g. `missing_token`, `token_expired`, `missing_permission`, `rate_limited`."),
            )
            .required("reason")
            .property("message", string("A sentence for people."))
            .required("message")
            .property(
                "request_id",
                string("The gateway's id of the check (machine credentials)."),
            )
            .property(
                "retry_after",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .description(Some("Seconds to wait before retrying (429).")),
            )
            .property(
                "required",
                ArrayBuilder::new()
                    .items(string("A permission."))
                    .description(Some("The permissions that were required (403).")),
            )
            .examples([serde_json::json!({
                "error": "forbidden",
                "reason": "missing_permission",
                "message": "The session lacks a required permission.",
                "required": ["user:read"],
            })])
            .into()
    }
}

#[cfg(feature = "utoipa")]
impl ToSchema for RejectionBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(REJECTION_SCHEMA)
    }
}

#[cfg(all(test, feature = "utoipa"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathsBuilder};
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{OpenApiBuilder, PathItem};

    fn schemes(document: &OpenApi) -> serde_json::Value {
        serde_json::to_value(&document.components.as_ref().unwrap().security_schemes).unwrap()
    }

    #[test]
    fn the_three_schemes_and_the_rejection_schema() {
        let mut document = OpenApi::default();
        WachtSecurity.modify(&mut document);
        let schemes = schemes(&document);
        assert_eq!(schemes["wacht_session"]["type"], "http");
        assert_eq!(schemes["wacht_session"]["scheme"], "bearer");
        assert_eq!(schemes["wacht_session"]["bearerFormat"], "JWT");
        assert_eq!(schemes["wacht_api_key"]["type"], "apiKey");
        assert_eq!(schemes["wacht_api_key"]["in"], "header");
        assert_eq!(schemes["wacht_api_key"]["name"], "x-api-key");
        assert_eq!(schemes["wacht_oauth"]["scheme"], "bearer");
        let schema =
            serde_json::to_value(&document.components.as_ref().unwrap().schemas[REJECTION_SCHEMA])
                .unwrap();
        assert_eq!(
            schema["required"],
            serde_json::json!(["error", "reason", "message"])
        );
        assert!(
            schema["properties"]["error"]["enum"]
                .as_array()
                .unwrap()
                .contains(&"rate_limited".into())
        );
    }

    #[test]
    fn a_configured_header_and_the_headers_operations_name() {
        let operation = OperationBuilder::new()
            .security(SecurityRequirement::new(
                "wacht_api_key.x-partner-key",
                ["a"],
            ))
            .build();
        let mut document = OpenApiBuilder::new()
            .paths(PathsBuilder::new().path("/p", PathItem::new(HttpMethod::Get, operation)))
            .build();
        WachtSecurity::with_api_key_header("x-team-key").modify(&mut document);
        let schemes = schemes(&document);
        assert_eq!(schemes["wacht_api_key"]["name"], "x-team-key");
        assert_eq!(
            schemes["wacht_api_key.x-partner-key"]["name"],
            "x-partner-key"
        );
        assert_eq!(schemes.as_object().unwrap().len(), 4);
    }
}
