//! aide (feature `aide`): the extractors as `aide::OperationInput`s, the schemes as a transform
//! of the document, and the rejection's schema as a `schemars::JsonSchema`.
//!
//! An extractor does not know what it checks until run time (a layer in front, or an
//! `Extension(Requirement)` / `Extension(MachineRequirement)` on the route), so its requirement
//! lists no roles and its 403 says that the permissions are configured elsewhere.

use std::borrow::Cow;

use aide::OperationInput;
use aide::generate::GenContext;
use aide::openapi::{
    ApiKeyLocation, Header, HeaderStyle, MediaType, Operation, ParameterSchemaOrContent,
    ReferenceOr, Response, SchemaObject, SecurityRequirement, SecurityScheme, StatusCode,
};
use aide::transform::{TransformOpenApi, TransformOperation};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::json;

use super::{
    API_KEY_DESCRIPTION, API_KEY_SCHEME, DEFAULT_API_KEY_HEADER, OAUTH_DESCRIPTION, OAUTH_SCHEME,
    REJECTION_SCHEMA, RejectionBody, SESSION_DESCRIPTION, SESSION_SCHEME, rejection_codes,
};
use crate::auth::Auth;
use crate::caller::Caller;
use crate::machine::MachineAuth;

/// Adds Wacht's security schemes to an aide document (`wacht_session`, `wacht_api_key` in
/// `x-api-key`, `wacht_oauth`), the schemes the extractors' requirements name: pass it to
/// `finish_api_with` (or `TransformOpenApi::with`).
///
/// ```
/// use aide::axum::ApiRouter;
/// use aide::openapi::OpenApi;
///
/// let mut document = OpenApi::default();
/// let _app: axum::Router = ApiRouter::new()
///     .finish_api_with(&mut document, wacht_runtime::openapi::aide_security);
/// let schemes = &document.components.expect("components").security_schemes;
/// assert!(schemes.contains_key("wacht_session"));
/// ```
pub fn aide_security(api: TransformOpenApi<'_>) -> TransformOpenApi<'_> {
    AideSecurity::with_api_key_header(DEFAULT_API_KEY_HEADER).apply(api)
}

/// [`aide_security`] with API keys in another header than `x-api-key` (the one your
/// `MachineRequirement::header` or layers read).
///
/// ```
/// use aide::axum::ApiRouter;
/// use aide::openapi::OpenApi;
/// use wacht_runtime::openapi::AideSecurity;
///
/// let mut document = OpenApi::default();
/// let security = AideSecurity::with_api_key_header("x-team-key");
/// let _app: axum::Router =
///     ApiRouter::new().finish_api_with(&mut document, |api| security.apply(api));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AideSecurity {
    api_key_header: Cow<'static, str>,
}

impl AideSecurity {
    /// The schemes, with `wacht_api_key` read from `header`.
    pub fn with_api_key_header(header: impl Into<Cow<'static, str>>) -> AideSecurity {
        AideSecurity {
            api_key_header: header.into(),
        }
    }

    /// Adds the three schemes to the document (`TransformOpenApi` is aide's builder of it).
    pub fn apply<'t>(&self, api: TransformOpenApi<'t>) -> TransformOpenApi<'t> {
        api.security_scheme(
            SESSION_SCHEME,
            SecurityScheme::Http {
                scheme: "bearer".to_owned(),
                bearer_format: Some("JWT".to_owned()),
                description: Some(SESSION_DESCRIPTION.to_owned()),
                extensions: Default::default(),
            },
        )
        .security_scheme(
            API_KEY_SCHEME,
            SecurityScheme::ApiKey {
                location: ApiKeyLocation::Header,
                name: self.api_key_header.clone().into_owned(),
                description: Some(API_KEY_DESCRIPTION.to_owned()),
                extensions: Default::default(),
            },
        )
        .security_scheme(
            OAUTH_SCHEME,
            SecurityScheme::Http {
                scheme: "bearer".to_owned(),
                bearer_format: None,
                description: Some(OAUTH_DESCRIPTION.to_owned()),
                extensions: Default::default(),
            },
        )
    }
}

/// Documents a handler taking `Option<wacht::Auth>`: pass it to `get_with` (or
/// `TransformOperation::with`).
///
/// aide's own `impl OperationInput for Option<T>` documents `Option<Auth>` as `Auth` (a
/// required session) without the refusal answers; this transform replaces that with the
/// optional form: the security alternatives `{}` (anonymous) and `wacht_session`, and the
/// 401 (a token sent but refused) / 403 / 503 answers.
///
/// ```
/// use aide::axum::{ApiRouter, routing::get_with};
/// use wacht_runtime::{Auth, openapi::aide_optional_session};
///
/// async fn home(auth: Option<Auth>) -> String {
///     auth.map_or("hello".to_owned(), |auth| format!("hello {}", auth.user_id()))
/// }
///
/// let _routes: ApiRouter = ApiRouter::new().api_route("/", get_with(home, aide_optional_session));
/// ```
pub fn aide_optional_session(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    let operation = op.inner_mut();
    operation.security.retain(|requirement| {
        !(requirement.len() == 1 && requirement.contains_key(SESSION_SCHEME))
    });
    add_security(operation, [Vec::new(), vec![SESSION_SCHEME]]);
    aide::generate::in_context(|ctx| {
        let answers = answers(
            ctx,
            [
                (
                    401,
                    "Unauthenticated (`unauthenticated`): a Wacht session token was sent but is \
                     invalid or expired (a request without one is served).",
                ),
                (403, SESSION_FORBIDDEN),
                (503, SESSION_UNAVAILABLE),
            ],
        );
        let responses = operation.responses.get_or_insert_with(Default::default);
        for (status, response) in answers {
            if let Some(status) = status {
                responses
                    .responses
                    .entry(StatusCode::Code(status))
                    .or_insert(ReferenceOr::Item(response));
            }
        }
    });
    op
}

const SESSION_UNAUTHENTICATED: &str = "Unauthenticated (`unauthenticated`): no Wacht session \
    token, or an invalid or expired one.";
const SESSION_FORBIDDEN: &str = "Forbidden (`forbidden`): the session does not meet the \
    route's requirement. Permissions, organization and workspace are configured at run time \
    (a `wacht::layer` in front, or an `Extension(Requirement)`) and are not listed in this \
    document.";
const SESSION_UNAVAILABLE: &str = "Auth unavailable (`auth_unavailable`): Wacht's signing keys \
    could not be fetched; try again later.";
const MACHINE_UNAUTHENTICATED: &str = "Unauthenticated (`unauthenticated`): no valid API key \
    or OAuth access token (which credential, and the API key's header, `x-api-key` unless \
    configured otherwise, are set at run time).";
const MACHINE_FORBIDDEN: &str = "Forbidden (`forbidden`): Wacht's gateway did not allow the \
    credential for this request. The resource, method and permissions are configured at run \
    time (a `wacht::layer::machine` in front, or an `Extension(MachineRequirement)`) and are \
    not listed in this document.";
const MACHINE_UNAVAILABLE: &str = "Auth unavailable (`auth_unavailable`): Wacht's gateway \
    could not be reached or answered garbage; try again later.";
const CALLER_UNAUTHENTICATED: &str = "Unauthenticated (`unauthenticated`): neither a valid \
    Wacht session token nor a valid API key or OAuth access token (or both kinds at once: \
    `ambiguous_credential`).";
const CALLER_FORBIDDEN: &str = "Forbidden (`forbidden`): the caller does not meet the route's \
    requirements. Both requirements (the session's and the machine's) are configured at run \
    time (a `wacht::layer::either` in front) and are not listed in this document.";
const CALLER_UNAVAILABLE: &str = "Auth unavailable (`auth_unavailable`): Wacht's signing keys \
    or gateway could not be reached; try again later.";
// The same text as the attributes write.
const RATE_LIMITED: &str = "Rate limited (`rate_limited`) by Wacht's gateway; `Retry-After` \
    (and the body's `retry_after`) gives the seconds to wait.";

/// `wacht::Auth`: a Wacht session (`wacht_session`); 401, 403, 503.
impl OperationInput for Auth {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        add_security(operation, [vec![SESSION_SCHEME]]);
    }

    fn inferred_early_responses(
        ctx: &mut GenContext,
        _operation: &mut Operation,
    ) -> Vec<(Option<u16>, Response)> {
        answers(
            ctx,
            [
                (401, SESSION_UNAUTHENTICATED),
                (403, SESSION_FORBIDDEN),
                (503, SESSION_UNAVAILABLE),
            ],
        )
    }
}

/// `wacht::MachineAuth`: an API key (`wacht_api_key`) or an OAuth access token
/// (`wacht_oauth`), asked of the gateway; 401, 403, 429, 503.
impl OperationInput for MachineAuth {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        add_security(operation, [vec![API_KEY_SCHEME], vec![OAUTH_SCHEME]]);
    }

    fn inferred_early_responses(
        ctx: &mut GenContext,
        _operation: &mut Operation,
    ) -> Vec<(Option<u16>, Response)> {
        answers(
            ctx,
            [
                (401, MACHINE_UNAUTHENTICATED),
                (403, MACHINE_FORBIDDEN),
                (429, RATE_LIMITED),
                (503, MACHINE_UNAVAILABLE),
            ],
        )
    }
}

/// `wacht::Caller`: a session, an API key or an OAuth access token; 401, 403, 429, 503.
impl OperationInput for Caller {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        add_security(
            operation,
            [
                vec![SESSION_SCHEME],
                vec![API_KEY_SCHEME],
                vec![OAUTH_SCHEME],
            ],
        );
    }

    fn inferred_early_responses(
        ctx: &mut GenContext,
        _operation: &mut Operation,
    ) -> Vec<(Option<u16>, Response)> {
        answers(
            ctx,
            [
                (401, CALLER_UNAUTHENTICATED),
                (403, CALLER_FORBIDDEN),
                (429, RATE_LIMITED),
                (503, CALLER_UNAVAILABLE),
            ],
        )
    }
}

/// Appends each requirement (its schemes, no roles) the operation does not list yet.
fn add_security<const N: usize>(operation: &mut Operation, requirements: [Vec<&str>; N]) {
    for schemes in requirements {
        let requirement: SecurityRequirement = schemes
            .into_iter()
            .map(|scheme| (scheme.to_owned(), Vec::new()))
            .collect();
        if !operation.security.contains(&requirement) {
            operation.security.push(requirement);
        }
    }
}

/// The refusal answers: `application/json` with the `WachtRejection` schema; 401 documents
/// `WWW-Authenticate`, 429 `Retry-After` (as the attributes do).
fn answers<const N: usize>(
    ctx: &mut GenContext,
    answers: [(u16, &str); N],
) -> Vec<(Option<u16>, Response)> {
    let body = ctx.schema.subschema_for::<RejectionBody>();
    answers
        .into_iter()
        .map(|(status, description)| {
            let mut response = Response {
                description: description.to_owned(),
                ..Default::default()
            };
            let header = match status {
                401 => Some((
                    "WWW-Authenticate",
                    json!({"type": "string"}),
                    "`Bearer realm=\"wacht\"`, with `error=\"invalid_token\"` when a credential \
                     was refused (RFC 6750).",
                )),
                429 => Some((
                    "Retry-After",
                    json!({"type": "integer", "format": "int64", "minimum": 0}),
                    "Seconds to wait before retrying.",
                )),
                _ => None,
            };
            if let Some((name, schema, description)) = header {
                response.headers.insert(
                    name.to_owned(),
                    ReferenceOr::Item(Header {
                        description: Some(description.to_owned()),
                        style: HeaderStyle::Simple,
                        required: false,
                        deprecated: None,
                        format: ParameterSchemaOrContent::Schema(schema_object(object(schema))),
                        example: None,
                        examples: Default::default(),
                        extensions: Default::default(),
                    }),
                );
            }
            response.content.insert(
                "application/json".to_owned(),
                MediaType {
                    schema: Some(schema_object(body.clone())),
                    ..Default::default()
                },
            );
            (Some(status), response)
        })
        .collect()
}

fn schema_object(json_schema: Schema) -> SchemaObject {
    SchemaObject {
        json_schema,
        external_docs: None,
        example: None,
    }
}

/// A JSON object as a schema (every value written here is one).
fn object(value: serde_json::Value) -> Schema {
    match value {
        serde_json::Value::Object(map) => Schema::from(map),
        other => Schema::from(other.as_bool().unwrap_or(true)),
    }
}

/// The same schema as the utoipa one (`WachtRejection`).
impl JsonSchema for RejectionBody {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed(REJECTION_SCHEMA)
    }

    fn schema_id() -> Cow<'static, str> {
        Cow::Borrowed("wacht_runtime::openapi::RejectionBody")
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        let string = |description: &str| json!({"type": "string", "description": description});
        object(json!({
            "type": "object",
            "description": "A request Wacht refused: the handler did not run. `Content-Type: \
                            application/json`, `Cache-Control: no-store`.",
            "required": ["error", "reason", "message"],
            "properties": {
                "error": {
                    "type": "string",
                    "description": "The class of the refusal; fixes the status.",
                    "enum": rejection_codes(),
                },
                "reason": string("A stable snake_case code, e.g. `missing_token`, `token_expired`, `missing_permission`, `rate_limited`."),
                "message": string("A sentence for people."),
                "request_id": string("The gateway's id of the check (machine credentials)."),
                "retry_after": {
                    "type": "integer",
                    "description": "Seconds to wait before retrying (429).",
                    "minimum": 0,
                },
                "required": {
                    "type": "array",
                    "items": string("A permission."),
                    "description": "The permissions that were required (403).",
                },
            },
            "examples": [{
                "error": "forbidden",
                "reason": "missing_permission",
                "message": "The session lacks a required permission.",
                "required": ["user:read"],
            }],
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_rejection_schema_is_a_json_object() {
        let schema = serde_json::to_value(schemars::schema_for!(RejectionBody)).unwrap();
        assert_eq!(schema["title"], "WachtRejection");
        assert_eq!(schema["required"], json!(["error", "reason", "message"]));
    }

    /// utoipa and aide documents hold the same `WachtRejection`.
    #[cfg(feature = "utoipa")]
    #[test]
    fn the_same_schema_as_utoipa() {
        use utoipa::PartialSchema;
        let utoipa = serde_json::to_value(<RejectionBody as PartialSchema>::schema()).unwrap();
        let aide =
            serde_json::to_value(RejectionBody::json_schema(&mut SchemaGenerator::default()))
                .unwrap();
        assert_eq!(utoipa, aide);
    }
}
