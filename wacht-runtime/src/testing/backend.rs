//! The backend API's `GET /users` (seeded users, pagination, sorting, search) and what every
//! backend request shares: the state, bearer-key authentication, injected faults, records.

use std::cmp::Ordering;
use std::io;
use std::sync::Mutex;

use http::{HeaderMap, Request, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::directory::Directory;
use super::http::{CloseConnection, Served, bytes_response, json_response, lock, status_or_500};
use super::random::random_secret;

/// Where the user list is served, below the emulator's URL.
pub(super) const USERS_PATH: &str = "/users";

/// Page size when `limit` is absent.
const DEFAULT_LIMIT: u64 = 10;
/// Largest page size; a larger `limit` is lowered to it.
const MAX_LIMIT: u64 = 100;

/// A user as the backend API lists it (`GET /users`). Optional fields that are `None` are
/// omitted from the JSON.
///
/// The emulator starts with 25 users ([`TestUser::seeded`]); replace them with
/// [`LocalWacht::seed_users`](super::LocalWacht::seed_users).
///
/// ```
/// use wacht_runtime::testing::TestUser;
///
/// let user = TestUser::new("1001", "Ada", "Lovelace");
/// let json = serde_json::to_value(&user).unwrap();
/// assert_eq!(json["first_name"], "Ada");
/// assert!(json.get("username").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestUser {
    /// The user id (digits).
    pub id: String,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last update time, RFC 3339.
    pub updated_at: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Username, if the user has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Avatar URL.
    pub profile_picture_url: String,
    /// Primary email address, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_email_address: Option<String>,
    /// Primary phone number, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_phone_number: Option<String>,
}

/// First and last names of the seeded users (in creation order, deliberately not sorted).
const SEED_NAMES: [(&str, &str); 25] = [
    ("Maya", "Okafor"),
    ("Liam", "Schneider"),
    ("Aiko", "Tanaka"),
    ("Noah", "Fischer"),
    ("Zara", "Ahmed"),
    ("Elias", "Berg"),
    ("Priya", "Raman"),
    ("Oscar", "Lindqvist"),
    ("Chloe", "Martin"),
    ("Mateo", "Garcia"),
    ("Ingrid", "Holm"),
    ("Kofi", "Mensah"),
    ("Sofia", "Rossi"),
    ("Hugo", "Laurent"),
    ("Amara", "Nwosu"),
    ("Jonas", "Weber"),
    ("Leila", "Haddad"),
    ("Finn", "O'Brien"),
    ("Yuki", "Sato"),
    ("Clara", "Novak"),
    ("Dmitri", "Volkov"),
    ("Beatriz", "Costa"),
    ("Ethan", "Clarke"),
    ("Nadia", "Petrova"),
    ("Ada", "Lovelace"),
];

impl TestUser {
    /// A user with these id and names, created and updated at `2024-01-01T00:00:00Z`, a
    /// profile picture URL derived from the id, and no username, email or phone.
    pub fn new(
        id: impl Into<String>,
        first_name: impl Into<String>,
        last_name: impl Into<String>,
    ) -> Self {
        let id = id.into();
        Self {
            profile_picture_url: format!("https://img.example.com/avatars/{id}.png"),
            id,
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: "2024-01-01T00:00:00Z".into(),
            first_name: first_name.into(),
            last_name: last_name.into(),
            username: None,
            primary_email_address: None,
            primary_phone_number: None,
        }
    }

    /// The 25 users the emulator starts with, in creation order: ids
    /// `"318000000000000001"` to `"318000000000000025"`, created one day apart from
    /// `2024-01-01T09:00:00Z`, every third without a username, every fifth without an email
    /// address (`first.last@example.com` otherwise), every other one with a phone number.
    ///
    /// ```
    /// use wacht_runtime::testing::TestUser;
    ///
    /// let users = TestUser::seeded();
    /// assert_eq!(users.len(), 25);
    /// assert_eq!(users[0].created_at, "2024-01-01T09:00:00Z");
    /// ```
    #[must_use]
    pub fn seeded() -> Vec<Self> {
        SEED_NAMES
            .iter()
            .zip(1_u32..)
            .map(|(&(first, last), n)| {
                let mut user = Self::new(format!("3180000000000000{n:02}"), first, last);
                user.created_at = format!("2024-01-{n:02}T09:00:00Z");
                user.updated_at = format!("2024-02-{n:02}T17:30:00Z");
                if n % 3 != 0 {
                    user.username = Some(format!("{}{n}", first.to_lowercase()));
                }
                if n % 5 != 0 {
                    let last = last.to_lowercase().replace('\'', "");
                    user.primary_email_address =
                        Some(format!("{}.{last}@example.com", first.to_lowercase()));
                }
                if n % 2 == 1 {
                    user.primary_phone_number = Some(format!("+1555010{n:04}"));
                }
                user
            })
            .collect()
    }
}

/// A fault injected into the emulator's backend API
/// ([`LocalWacht::set_backend_fault`](super::LocalWacht::set_backend_fault)).
///
/// A fault stays until replaced; [`BackendFault::None`] restores normal service. Faulted
/// requests are still recorded in
/// [`LocalWacht::backend_requests`](super::LocalWacht::backend_requests).
///
/// ```
/// use wacht_runtime::testing::{BackendFault, LocalWacht};
///
/// let wacht = LocalWacht::start()?;
/// wacht.set_backend_fault(BackendFault::PlainText(502));
/// wacht.set_backend_fault(BackendFault::None);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendFault {
    /// Normal service.
    #[default]
    None,
    /// The request is read, then the connection is closed without a response.
    Down,
    /// Answers with this status and the JSON error
    /// `{"message":"injected fault","code":"internal_error"}`. A number that is not a valid
    /// status gives 500.
    Status(u16),
    /// Answers with this status, `Content-Type: text/plain` and the body `injected fault`.
    PlainText(u16),
}

/// One request the backend API received ([`LocalWacht::backend_calls`](super::LocalWacht::backend_calls)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendCall {
    /// The method (`GET`, `POST`, …).
    pub method: String,
    /// The path, as sent (`/organizations/319000000000000001/members`).
    pub path: String,
    /// The query string, without `?` (`""` when none, not decoded).
    pub query: String,
}

/// Key, users, directory, fault and records of the backend endpoints.
pub(super) struct BackendState {
    /// The one backend API key accepted (`Authorization: Bearer <key>`).
    pub(super) api_key: String,
    /// The users listed, in creation order.
    pub(super) users: Vec<TestUser>,
    /// Organizations, workspaces, their roles and memberships, user profiles.
    pub(super) directory: Directory,
    /// The injected fault.
    pub(super) fault: BackendFault,
    /// The query string of every `GET /users` received ("" when none), in order.
    pub(super) requests: Vec<String>,
    /// Every backend request received, in order.
    pub(super) calls: Vec<BackendCall>,
}

impl BackendState {
    /// A backend with a fresh key, the seeded users and an empty directory.
    pub(super) fn new() -> io::Result<Self> {
        Ok(Self {
            api_key: format!("wk_backend_{}", random_secret()?),
            users: TestUser::seeded(),
            directory: Directory::default(),
            fault: BackendFault::None,
            requests: Vec::new(),
            calls: Vec::new(),
        })
    }
}

/// What became of a backend request at the door ([`admit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Admission {
    /// A fault is injected: answer [`fault_answer`] of it.
    Faulted(BackendFault),
    /// The bearer key is missing or wrong.
    Refused,
    /// Serve it.
    Admitted,
}

/// What every backend request goes through: it is recorded, then checked for an injected
/// fault, then for the bearer key.
pub(super) fn admit<B>(state: &Mutex<BackendState>, req: &Request<B>) -> Admission {
    let mut backend = lock(state);
    backend.calls.push(BackendCall {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().unwrap_or_default().to_owned(),
    });
    if backend.fault != BackendFault::None {
        Admission::Faulted(backend.fault)
    } else if bearer(req.headers()) == Some(backend.api_key.as_str()) {
        Admission::Admitted
    } else {
        Admission::Refused
    }
}

/// The answer of an injected fault ([`BackendFault::None`] answers an empty 200).
pub(super) fn fault_answer(fault: BackendFault) -> Served {
    match fault {
        BackendFault::Down => Err(CloseConnection),
        BackendFault::Status(code) => {
            let body = json!({ "message": "injected fault", "code": "internal_error" });
            Ok(json_response(status_or_500(code), &body))
        }
        BackendFault::PlainText(code) => Ok(bytes_response(
            status_or_500(code),
            "text/plain",
            "injected fault",
        )),
        BackendFault::None => Ok(json_response(StatusCode::OK, &json!({}))),
    }
}

/// `GET /users`.
pub(super) async fn serve<B>(state: &Mutex<BackendState>, req: &Request<B>) -> Served {
    let query = req.uri().query().unwrap_or_default().to_owned();
    lock(state).requests.push(query.clone());
    match admit(state, req) {
        Admission::Faulted(fault) => return fault_answer(fault),
        Admission::Admitted => {}
        Admission::Refused => {
            let body = json!({ "message": "Invalid API key", "code": "unauthorized" });
            return Ok(json_response(StatusCode::UNAUTHORIZED, &body));
        }
    }
    let params = match ListParams::parse(&query) {
        Ok(params) => params,
        Err(text) => {
            let body = json!({ "message": text, "code": "bad_request" });
            return Ok(json_response(StatusCode::BAD_REQUEST, &body));
        }
    };
    let users = lock(state).users.clone();
    Ok(json_response(StatusCode::OK, &params.page(users)))
}

/// The token of `Authorization: Bearer <token>` (scheme matched case-insensitively).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// What a user list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Id,
    CreatedAt,
    UpdatedAt,
    FirstName,
    LastName,
    Username,
    Email,
}

impl SortKey {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Self::Id,
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "first_name" => Self::FirstName,
            "last_name" => Self::LastName,
            "username" => Self::Username,
            "email" | "primary_email_address" => Self::Email,
            _ => return None,
        })
    }

    fn compare(self, a: &TestUser, b: &TestUser) -> Ordering {
        let text = |user: &TestUser| -> String {
            match self {
                Self::Id | Self::CreatedAt | Self::UpdatedAt => String::new(),
                Self::FirstName => user.first_name.to_lowercase(),
                Self::LastName => user.last_name.to_lowercase(),
                Self::Username => user.username.clone().unwrap_or_default().to_lowercase(),
                Self::Email => user
                    .primary_email_address
                    .clone()
                    .unwrap_or_default()
                    .to_lowercase(),
            }
        };
        match self {
            // Ids are digit strings: compare them as numbers (by length, then text).
            Self::Id => (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)),
            Self::CreatedAt => a.created_at.cmp(&b.created_at),
            Self::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            _ => text(a).cmp(&text(b)),
        }
    }
}

/// The query parameters of `GET /users`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListParams {
    limit: u64,
    offset: u64,
    sort_key: SortKey,
    descending: bool,
    search: Option<String>,
}

impl ListParams {
    /// Parses a raw query string; unknown parameters are ignored, the last of repeated ones
    /// wins.
    fn parse(query: &str) -> Result<Self, String> {
        let mut params = Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
            sort_key: SortKey::CreatedAt,
            descending: false,
            search: None,
        };
        for (name, value) in query_pairs(query) {
            match name.as_str() {
                "limit" => {
                    params.limit = match value.trim().parse::<u64>() {
                        Ok(0) | Err(_) => {
                            return Err(format!("invalid limit `{value}`: expected 1 to 100"));
                        }
                        Ok(limit) => limit.min(MAX_LIMIT),
                    }
                }
                "offset" => {
                    params.offset = value.trim().parse::<u64>().map_err(|_| {
                        format!("invalid offset `{value}`: expected a non-negative integer")
                    })?;
                }
                "sort_key" => {
                    params.sort_key = SortKey::parse(value.trim())
                        .ok_or_else(|| format!("invalid sort_key `{value}`"))?;
                }
                "sort_order" => {
                    params.descending = match value.trim() {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(format!("invalid sort_order `{value}`: asc or desc")),
                    };
                }
                "search" => {
                    let search = value.trim().to_lowercase();
                    params.search = (!search.is_empty()).then_some(search);
                }
                _ => {}
            }
        }
        Ok(params)
    }

    /// Filters, sorts and pages `users` into the response body.
    fn page(&self, mut users: Vec<TestUser>) -> serde_json::Value {
        if let Some(search) = &self.search {
            users.retain(|user| matches_search(user, search));
        }
        users.sort_by(|a, b| {
            let order = self
                .sort_key
                .compare(a, b)
                .then_with(|| SortKey::Id.compare(a, b));
            if self.descending {
                order.reverse()
            } else {
                order
            }
        });
        let total = users.len();
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let data: Vec<TestUser> = users.into_iter().skip(offset).take(limit).collect();
        let has_more = offset.saturating_add(data.len()) < total;
        json!({
            "data": data,
            "total": total,
            "limit": self.limit,
            "offset": self.offset,
            "has_more": has_more,
        })
    }
}

/// Whether a user's names, username or email contain `search` (lower-cased), case-insensitively.
fn matches_search(user: &TestUser, search: &str) -> bool {
    let full_name = format!("{} {}", user.first_name, user.last_name);
    [
        Some(full_name.as_str()),
        user.username.as_deref(),
        user.primary_email_address.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|field| field.to_lowercase().contains(search))
}

/// Splits and decodes an `application/x-www-form-urlencoded` query string.
pub(super) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(name), form_decode(value))
        })
        .collect()
}

/// Decodes `+` as a space and `%XX` escapes; invalid escapes stay as they are.
fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let escaped = match (byte, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&high), Some(&low)) => hex(high).zip(hex(low)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match (byte, escaped) {
            (_, Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (other, None) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%20c%2Bd"), "a b c+d");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("caf%C3%A9"), "café");
        assert_eq!(
            query_pairs("limit=5&&search=ada+l&flag"),
            vec![
                ("limit".into(), "5".into()),
                ("search".into(), "ada l".into()),
                ("flag".into(), String::new()),
            ]
        );
    }

    #[test]
    fn seeded_users_are_well_formed() {
        let users = TestUser::seeded();
        assert_eq!(users.len(), 25);
        let mut ids: Vec<&str> = users.iter().map(|user| user.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 25);
        for user in &users {
            assert!(user.id.bytes().all(|b| b.is_ascii_digit()), "{user:?}");
            assert!(user.created_at.ends_with('Z') && user.created_at.len() == 20);
        }
        assert!(users.iter().any(|user| user.username.is_none()));
        assert!(
            users
                .iter()
                .any(|user| user.primary_email_address.is_none())
        );
    }
}
