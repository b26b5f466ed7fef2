//! `#[utoipa::path(…)]` under a `wacht` attribute: the operation's `security` and its refusal
//! answers are written from the attribute's own arguments, so the OpenAPI description cannot
//! drift from what is checked.
//!
//! Only the `utoipa::path` attribute's tokens change (a `security(…)` is added, refusal
//! answers are appended to `responses(…)`); the handler's expansion is the same with or
//! without it. Without a `#[utoipa::path]` on the handler nothing here runs.

use crate::validate::{MachineConfig, Permissions, Principal, ProtectConfig};
use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::quote;
use syn::{Attribute, LitStr, Meta};

/// One security requirement: the schemes that must all be met, each with its roles.
type Requirement = Vec<(String, Vec<String>)>;

/// What an attribute enforces, as OpenAPI: requirements (alternatives, any one suffices; an
/// empty one admits anonymous callers) and the refusal answers with their descriptions.
pub(crate) struct Doc {
    security: Vec<Requirement>,
    answers: Vec<(u16, String)>,
}

const SESSION: &str = "wacht_session";
const API_KEY: &str = "wacht_api_key";
const OAUTH: &str = "wacht_oauth";

fn values(list: &[LitStr]) -> Vec<String> {
    list.iter().map(LitStr::value).collect()
}

fn backticked(list: &[String]) -> String {
    list.iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The role lists of a permission rule: one list when every one is required, one list per
/// permission when any one suffices.
fn role_alternatives(permissions: &Permissions) -> Vec<Vec<String>> {
    match permissions {
        Permissions::Unrestricted => vec![Vec::new()],
        Permissions::One(permission) => vec![vec![permission.value()]],
        Permissions::All(list) => vec![values(list)],
        Permissions::Any(list) => values(list).into_iter().map(|p| vec![p]).collect(),
    }
}

/// `the permission `a``, `one of `a`, `b``, `every one of `a`, `b``.
fn permission_phrase(permissions: &Permissions) -> Option<String> {
    match permissions {
        Permissions::Unrestricted => None,
        Permissions::One(permission) => Some(format!("the permission `{}`", permission.value())),
        Permissions::All(list) => Some(format!("every one of {}", backticked(&values(list)))),
        Permissions::Any(list) => Some(format!("one of {}", backticked(&values(list)))),
    }
}

/// The schemes a machine configuration accepts, and the credential's name.
fn machine_schemes(config: &MachineConfig) -> (Vec<String>, String) {
    let header = config.header.as_ref().map(LitStr::value);
    let api_key_scheme = match &header {
        // A scheme per custom header (`WachtSecurity` defines it); a name a component key
        // cannot hold keeps the default scheme, and the header is in the descriptions.
        Some(header)
            if header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) =>
        {
            format!("{API_KEY}.{header}")
        }
        _ => API_KEY.to_owned(),
    };
    let api_key_name = format!(
        "an API key (`{}`)",
        header.as_deref().unwrap_or("x-api-key")
    );
    match config.principal.as_ref().map(|(principal, _)| *principal) {
        Some(Principal::OauthAccessToken) => {
            (vec![OAUTH.to_owned()], "an OAuth access token".to_owned())
        }
        Some(Principal::Any) => (
            vec![api_key_scheme, OAUTH.to_owned()],
            format!("{api_key_name} or an OAuth access token"),
        ),
        Some(Principal::ApiKey) | None => (vec![api_key_scheme], api_key_name),
    }
}

fn machine_security(config: &MachineConfig) -> Vec<Requirement> {
    let (schemes, _) = machine_schemes(config);
    let roles = role_alternatives(&config.common.permissions);
    schemes
        .iter()
        .flat_map(|scheme| {
            roles
                .iter()
                .map(move |roles| vec![(scheme.clone(), roles.clone())])
        })
        .collect()
}

/// `Wacht's gateway refused the API key for `GET /machine/users` (…)`.
fn machine_refusal(config: &MachineConfig) -> String {
    let (_, credential) = machine_schemes(config);
    let method = config
        .method
        .as_ref()
        .map_or("the request's method".to_owned(), |(method, _)| {
            format!("`{}`", method.as_str())
        });
    let resource = config
        .resource
        .as_ref()
        .map_or("the called path".to_owned(), |r| format!("`{}`", r.value()));
    let mut text = format!("Wacht's gateway did not allow {credential} for {method} on {resource}");
    if let Some(phrase) = permission_phrase(&config.common.permissions) {
        text.push_str(&format!(" with {phrase}"));
    }
    text
}

const RATE_LIMITED: &str = "Rate limited (`rate_limited`) by Wacht's gateway; `Retry-After` \
    (and the body's `retry_after`) gives the seconds to wait.";

impl Doc {
    pub(crate) fn protect(config: &ProtectConfig) -> Doc {
        if config.optional.is_some() {
            return Doc {
                security: vec![Vec::new(), vec![(SESSION.to_owned(), Vec::new())]],
                answers: vec![
                    (
                        401,
                        "Unauthenticated (`unauthenticated`): a Wacht session token was sent \
                         but is invalid or expired (a request without one is served)."
                            .to_owned(),
                    ),
                    (
                        403,
                        "Forbidden (`forbidden`): the request cannot be admitted with this \
                         session."
                            .to_owned(),
                    ),
                    (
                        503,
                        "Auth unavailable (`auth_unavailable`): Wacht's signing keys could \
                         not be fetched; try again later."
                            .to_owned(),
                    ),
                ],
            };
        }
        let mut security: Vec<Requirement> = role_alternatives(&config.common.permissions)
            .into_iter()
            .map(|roles| vec![(SESSION.to_owned(), roles)])
            .collect();
        let mut conditions = Vec::new();
        if let Some(phrase) = permission_phrase(&config.common.permissions) {
            conditions.push(format!("hold {phrase}"));
        }
        if config.organization_id.is_some() {
            conditions.push("have the required organization active".to_owned());
        }
        if config.workspace_id.is_some() {
            conditions.push("have the required workspace active".to_owned());
        }
        let mut forbidden = if conditions.is_empty() {
            "Forbidden (`forbidden`): the request cannot be admitted with this session".to_owned()
        } else {
            format!(
                "Forbidden (`forbidden`): the session must {}",
                conditions.join(" and ")
            )
        };
        let (unauthenticated, unavailable) = match &config.or_machine {
            None => (
                "Unauthenticated (`unauthenticated`): no Wacht session token, or an invalid or \
                 expired one."
                    .to_owned(),
                "Auth unavailable (`auth_unavailable`): Wacht's signing keys could not be \
                 fetched; try again later."
                    .to_owned(),
            ),
            Some((_, machine)) => {
                security.extend(machine_security(machine));
                forbidden.push_str(&format!("; or {}", machine_refusal(machine)));
                let (_, credential) = machine_schemes(machine);
                (
                    format!(
                        "Unauthenticated (`unauthenticated`): neither a valid Wacht session \
                         token nor {credential} (or both kinds at once: \
                         `ambiguous_credential`)."
                    ),
                    "Auth unavailable (`auth_unavailable`): Wacht's signing keys or gateway \
                     could not be reached; try again later."
                        .to_owned(),
                )
            }
        };
        forbidden.push('.');
        let mut answers = vec![(401, unauthenticated), (403, forbidden)];
        if config.or_machine.is_some() {
            answers.push((429, RATE_LIMITED.to_owned()));
        }
        answers.push((503, unavailable));
        Doc { security, answers }
    }

    pub(crate) fn machine(config: &MachineConfig) -> Doc {
        let (_, credential) = machine_schemes(config);
        Doc {
            security: machine_security(config),
            answers: vec![
                (
                    401,
                    format!(
                        "Unauthenticated (`unauthenticated`): no valid {}.",
                        credential.trim_start_matches("an ")
                    ),
                ),
                (
                    403,
                    format!("Forbidden (`forbidden`): {}.", machine_refusal(config)),
                ),
                (429, RATE_LIMITED.to_owned()),
                (
                    503,
                    "Auth unavailable (`auth_unavailable`): Wacht's gateway could not be \
                     reached or answered garbage; try again later."
                        .to_owned(),
                ),
            ],
        }
    }
}

/// Whether `attr` is `#[utoipa::path(…)]` (any path ending in `utoipa::path`).
fn is_utoipa_path(attr: &Attribute) -> bool {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.ends_with(&["utoipa".to_owned(), "path".to_owned()])
}

/// Splits tokens at top-level commas (groups are single trees, so nested commas stay).
fn split_commas(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut items = vec![Vec::new()];
    for tree in tokens {
        match &tree {
            TokenTree::Punct(punct) if punct.as_char() == ',' => items.push(Vec::new()),
            _ => items.last_mut().map_or((), |item| item.push(tree)),
        }
    }
    items.retain(|item| !item.is_empty());
    items
}

/// The `status = …` of a response tuple `(status = 401, …)`, when it is a literal.
fn status_of(response: &[TokenTree]) -> Option<u16> {
    let [TokenTree::Group(group)] = response else {
        return None;
    };
    split_commas(group.stream())
        .into_iter()
        .find_map(|pair| match pair.as_slice() {
            [
                TokenTree::Ident(key),
                TokenTree::Punct(eq),
                TokenTree::Literal(value),
            ] if key == "status" && eq.as_char() == '=' => {
                value.to_string().trim_matches('"').parse().ok()
            }
            _ => None,
        })
}

/// The leading identifier of an item (`security`, `responses`, …).
fn key_of(item: &[TokenTree]) -> Option<&proc_macro2::Ident> {
    match item.first() {
        Some(TokenTree::Ident(ident)) => Some(ident),
        _ => None,
    }
}

/// Rewrites the handler's `#[utoipa::path(…)]`, if it has one: adds `security(…)` and appends
/// the refusal answers (statuses the user listed keep the user's answer). A `security(…)`
/// written by the user is an error at its name: the attribute is the one source of it.
pub(crate) fn rewrite(
    attrs: &mut [Attribute],
    doc: &Doc,
    private: &TokenStream,
    macro_name: &str,
) -> syn::Result<()> {
    let Some(attr) = attrs.iter_mut().find(|attr| is_utoipa_path(attr)) else {
        return Ok(());
    };
    let Meta::List(list) = &mut attr.meta else {
        return Ok(());
    };
    let mut items = split_commas(list.tokens.clone());
    let mut responses_at = None;
    for (at, item) in items.iter().enumerate() {
        match key_of(item) {
            Some(key) if key == "security" => {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "the operation's `security` comes from `{macro_name}` above: remove \
                         `security(…)` here (the attribute writes the requirement and the \
                         401/403/429/503 answers from its own arguments)"
                    ),
                ));
            }
            Some(key) if key == "responses" && matches!(item.get(1), Some(TokenTree::Group(_))) => {
                responses_at = Some(at);
            }
            _ => {}
        }
    }
    let listed: Vec<u16> = responses_at
        .and_then(|at| match items[at].get(1) {
            Some(TokenTree::Group(group)) => Some(
                split_commas(group.stream())
                    .iter()
                    .filter_map(|response| status_of(response))
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default();
    let answers: Vec<TokenStream> = doc
        .answers
        .iter()
        .filter(|(status, _)| !listed.contains(status))
        .map(|(status, description)| {
            let status = proc_macro2::Literal::u16_unsuffixed(*status);
            let headers = match status.to_string().as_str() {
                "401" => quote! {
                    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"wacht\"`, with `error=\"invalid_token\"` when a credential was refused (RFC 6750).")),
                },
                "429" => quote! {
                    headers(("Retry-After" = u64, description = "Seconds to wait before retrying.")),
                },
                _ => quote!(),
            };
            quote! {
                (
                    status = #status,
                    description = #description,
                    body = #private::wacht_feature_utoipa::RejectionBody,
                    content_type = "application/json",
                    #headers
                )
            }
        })
        .collect();
    match responses_at {
        Some(at) => {
            if let Some(TokenTree::Group(group)) = items[at].get(1) {
                let mut inner = group.stream();
                if !inner.is_empty() && !ends_with_comma(&inner) {
                    inner.extend(quote!(,));
                }
                inner.extend(quote!(#(#answers),*));
                let mut replaced = Group::new(Delimiter::Parenthesis, inner);
                replaced.set_span(group.span());
                items[at][1] = TokenTree::Group(replaced);
            }
        }
        None => items.push(quote!(responses(#(#answers),*)).into_iter().collect()),
    }
    let requirements = doc.security.iter().map(|requirement| {
        let schemes = requirement
            .iter()
            .map(|(scheme, roles)| quote!(#scheme = [#(#roles),*]));
        quote!((#(#schemes),*))
    });
    items.push(quote!(security(#(#requirements),*)).into_iter().collect());
    let mut tokens = TokenStream::new();
    for (at, item) in items.into_iter().enumerate() {
        if at > 0 {
            tokens.extend(quote!(,));
        }
        tokens.extend(item);
    }
    list.tokens = tokens;
    Ok(())
}

fn ends_with_comma(tokens: &TokenStream) -> bool {
    matches!(tokens.clone().into_iter().last(), Some(TokenTree::Punct(p)) if p.as_char() == ',')
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse_quote;

    fn rewritten(attr: Attribute, doc: &Doc) -> syn::Result<String> {
        let mut attrs = vec![attr];
        rewrite(
            &mut attrs,
            doc,
            &quote!(::wacht::__private),
            "#[wacht::protect]",
        )?;
        Ok(attrs[0].to_token_stream().to_string())
    }

    fn doc() -> Doc {
        Doc {
            security: vec![vec![(SESSION.to_owned(), vec!["a".to_owned()])]],
            answers: vec![(401, "no".to_owned()), (403, "lacks".to_owned())],
        }
    }

    #[test]
    fn adds_security_and_appends_answers_keeping_the_users() {
        let out = rewritten(
            parse_quote!(#[utoipa::path(get, path = "/u", responses((status = 200, body = String), (status = 403, description = "mine")))]),
            &doc(),
        )
        .unwrap_or_default();
        assert!(
            out.contains("security ((\"wacht_session\" = [\"a\"]))"),
            "{out}"
        );
        assert!(out.contains("status = 401"), "{out}");
        assert_eq!(out.matches("status = 403").count(), 1, "{out}");
        assert!(out.contains("description = \"mine\""), "{out}");
    }

    #[test]
    fn without_responses_they_are_added() {
        let out =
            rewritten(parse_quote!(#[utoipa::path(get, path = "/u")]), &doc()).unwrap_or_default();
        assert!(out.contains("responses ((status = 401"), "{out}");
    }

    #[test]
    fn a_users_security_is_refused() {
        let error = rewritten(
            parse_quote!(#[utoipa::path(get, path = "/u", security(("x" = [])))]),
            &doc(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.contains("remove `security(…)`"), "{error}");
    }

    #[test]
    fn other_attributes_are_untouched() {
        let out = rewritten(parse_quote!(#[doc = "x"]), &doc()).unwrap_or_default();
        assert_eq!(out, "# [doc = \"x\"]");
    }
}
