//! The emulator's backend API beyond `GET /users` (users, organizations, workspaces,
//! members, roles), exercised over real HTTP on loopback.

use reqwest::Method;
use serde_json::{Value, json};

use super::*;

mod groups;

/// A client of one emulator's backend API.
struct Api {
    wacht: LocalWacht,
    http: reqwest::Client,
    key: String,
}

/// A `multipart/form-data` body: (content type, bytes), text fields then an optional file
/// (field, content type, bytes).
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "wacht-test-boundary-7MA4YWxk";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, content_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"upload\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Api {
    fn start() -> Self {
        let wacht = LocalWacht::start().unwrap();
        let key = wacht.backend_api_key();
        Self {
            wacht,
            http: reqwest::Client::new(),
            key,
        }
    }

    /// Sends a request with the bearer key → (status, JSON body).
    async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.wacht.url()))
            .bearer_auth(&self.key)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        (status, body)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.raw(Method::GET, path, None, Vec::new()).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.raw(Method::DELETE, path, None, Vec::new()).await
    }

    async fn json(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        let bytes = body.to_string().into_bytes();
        self.raw(method, path, Some("application/json"), bytes)
            .await
    }

    async fn form(&self, method: Method, path: &str, fields: &[(&str, &str)]) -> (u16, Value) {
        let (content_type, body) = multipart(fields, None);
        self.raw(method, path, Some(&content_type), body).await
    }

    /// Creates a user; returns its id.
    async fn user(&self, first: &str, last: &str) -> String {
        let (status, user) = self
            .form(
                Method::POST,
                "/users",
                &[("first_name", first), ("last_name", last)],
            )
            .await;
        assert_eq!(status, 200, "{user}");
        user["id"].as_str().unwrap().to_owned()
    }

    /// Creates an organization; returns its id.
    async fn organization(&self, name: &str) -> String {
        let (status, org) = self
            .form(Method::POST, "/organizations", &[("name", name)])
            .await;
        assert_eq!(status, 200, "{org}");
        org["id"].as_str().unwrap().to_owned()
    }

    /// The id of the role named `name` of an organization or workspace (`path` of it).
    async fn role(&self, path: &str, name: &str) -> String {
        let (status, roles) = self.get(&format!("{path}/roles")).await;
        assert_eq!(status, 200, "{roles}");
        let role = roles["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|role| role["name"] == name)
            .unwrap_or_else(|| panic!("no role {name}: {roles}"));
        role["id"].as_str().unwrap().to_owned()
    }
}

/// Checks that `value` has every field of `spec` with its JSON type: `name:t` with `t` one
/// of `s` (string), `n` (integer), `b` (boolean), `a` (array), `o` (object), `*` (any), and a
/// trailing `?` when it may be null. Ids (`id`, `*_id`) that are strings must be digits.
#[track_caller]
fn assert_shape(value: &Value, spec: &str) {
    for field in spec.split_whitespace() {
        let (name, kind) = field.split_once(':').unwrap();
        let (kind, nullable) = kind
            .strip_suffix('?')
            .map_or((kind, false), |kind| (kind, true));
        let item = value
            .get(name)
            .unwrap_or_else(|| panic!("`{name}` missing: {value}"));
        let fits = match kind {
            _ if nullable && item.is_null() => true,
            "s" => item.is_string(),
            "n" => item.is_u64(),
            "b" => item.is_boolean(),
            "a" => item.is_array(),
            "o" => item.is_object(),
            _ => true,
        };
        assert!(fits, "`{name}` is not `{kind}`: {value}");
        if let Some(id) = item
            .as_str()
            .filter(|_| name == "id" || name.ends_with("_id"))
        {
            assert!(
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
                "{name}: {id}"
            );
        }
    }
}

const USER: &str = "id:s created_at:s updated_at:s first_name:s last_name:s \
    profile_picture_url:s";
const USER_DETAILS: &str = "id:s created_at:s updated_at:s first_name:s last_name:s \
    username:s? profile_picture_url:s schema_version:s disabled:b second_factor_policy:s \
    availability:s last_password_reset_at:s? active_organization_membership_id:s? \
    active_workspace_membership_id:s? deployment_id:s public_metadata:* private_metadata:* \
    primary_email_address_id:s? primary_email_address:s? primary_phone_number_id:s? \
    primary_phone_number:s? email_addresses:a phone_numbers:a social_connections:a \
    segments:a has_password:b has_backup_codes:b";
const GROUP: &str = "id:s created_at:s updated_at:s name:s image_url:s description:s \
    member_count:n public_metadata:* private_metadata:*";
const ROLE: &str = "id:s created_at:s updated_at:s name:s permissions:a is_deployment_level:b";
const MEMBER: &str = "id:s created_at:s updated_at:s user_id:s roles:a public_metadata:* \
    first_name:s last_name:s username:s? primary_email_address:s? primary_phone_number:s? \
    user_created_at:s";

/// A list page as the real server sends it: exactly these four fields.
#[track_caller]
fn assert_page(page: &Value, len: usize, has_more: bool) {
    let mut fields: Vec<&String> = page.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(fields, ["data", "has_more", "limit", "offset"], "{page}");
    assert_eq!(page["data"].as_array().unwrap().len(), len, "{page}");
    assert_eq!(page["has_more"], has_more, "{page}");
}

/// `{"errors":[{"message":<string>,"code":status}]}`.
#[track_caller]
fn assert_error(answer: &(u16, Value), status: u16) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert!(errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(errors[0]["code"], status, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
}

#[tokio::test]
async fn a_created_user_is_listed_detailed_updated_and_deleted() {
    let api = Api::start();
    let (content_type, body) = multipart(
        &[
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("email_address", "grace@example.com"),
            ("phone_number", "+15550100999"),
            ("username", "grace"),
            ("password", "correct horse"),
        ],
        Some((
            "profile_image",
            "image/png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        )),
    );
    let (status, user) = api
        .raw(Method::POST, "/users", Some(&content_type), body)
        .await;
    assert_eq!(status, 200, "{user}");
    assert_shape(&user, USER);
    let id = user["id"].as_str().unwrap();
    assert_eq!(
        (&user["first_name"], &user["username"]),
        (&json!("Grace"), &json!("grace"))
    );
    assert_eq!(
        user["profile_picture_url"],
        format!("https://img.example.com/users/{id}/profile_image-16.png")
    );
    assert!(
        time::OffsetDateTime::parse(
            user["created_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );

    // GET /users lists it, after the seeded users, with `total`.
    let (status, page) = api.get("/users?search=hopper").await;
    assert_eq!(status, 200);
    assert_eq!((&page["total"], &page["data"][0]), (&json!(1), &user));
    let (_, page) = api.get("/users?limit=100").await;
    assert_eq!(page["total"], 26);
    assert_eq!(page["data"][25]["id"], id);
    assert_eq!(api.wacht.users().len(), 26);

    let (status, details) = api.get(&format!("/users/{id}/details")).await;
    assert_eq!(status, 200, "{details}");
    assert_shape(&details, USER_DETAILS);
    assert_eq!(details["deployment_id"], api.wacht.deployment_id());
    assert_eq!(details["has_password"], true);
    assert_eq!(details["email_addresses"][0]["email"], "grace@example.com");
    assert_eq!(
        details["primary_email_address_id"],
        details["email_addresses"][0]["id"]
    );
    assert_eq!(details["phone_numbers"][0]["phone_number"], "+15550100999");
    // A seeded user has details too.
    let (status, seeded) = api.get("/users/318000000000000003/details").await;
    assert_eq!(status, 200);
    assert_shape(&seeded, USER_DETAILS);
    assert_eq!(
        (&seeded["username"], &seeded["has_password"]),
        (&Value::Null, &json!(false))
    );

    let (status, updated) = api
        .form(
            Method::PATCH,
            &format!("/users/{id}"),
            &[
                ("first_name", "Rear Admiral Grace"),
                ("public_metadata", r#"{"plan":"pro"}"#),
                ("disabled", "true"),
                ("second_factor_policy", "enforced"),
                ("username", ""),
                ("remove_profile_image", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_shape(&updated, USER_DETAILS);
    assert_eq!(updated["first_name"], "Rear Admiral Grace");
    assert_eq!(updated["last_name"], "Hopper");
    assert_eq!(updated["public_metadata"], json!({"plan": "pro"}));
    assert_eq!(
        (&updated["disabled"], &updated["second_factor_policy"]),
        (&json!(true), &json!("enforced"))
    );
    assert_eq!(updated["username"], Value::Null);
    assert_eq!(
        updated["profile_picture_url"],
        format!("https://img.example.com/avatars/{id}.png")
    );
    assert_eq!(api.get(&format!("/users/{id}/details")).await.1, updated);

    assert_eq!(api.delete(&format!("/users/{id}")).await, (200, json!({})));
    assert_error(&api.get(&format!("/users/{id}/details")).await, 404);
    assert_error(&api.delete(&format!("/users/{id}")).await, 404);
    let (_, page) = api.get("/users?search=hopper").await;
    assert_eq!(page["total"], 0);
}

#[tokio::test]
async fn errors_have_the_errors_shape() {
    let api = Api::start();
    let org = api.organization("Acme").await;
    let user = api.user("Rosalind", "Franklin").await;
    let url = |path: &str| format!("{}{path}", api.wacht.url());

    // 401: no key, a wrong key.
    for path in [
        "/organizations",
        &format!("/users/{user}/details"),
        "/workspaces",
    ] {
        for request in [
            api.http.get(url(path)),
            api.http.post(url(path)).bearer_auth("wk_backend_wrong"),
        ] {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = serde_json::from_str(&response.text().await.unwrap()).unwrap();
            assert_error(&(status, body), 401);
        }
    }

    // 404: unknown ids and routes.
    for path in [
        "/users/1/details",
        "/users/1/organization-memberships",
        "/organizations/1",
        "/organizations/1/members",
        "/organizations/1/roles",
        "/workspaces/1",
        "/workspaces/1/members",
        &format!("/organizations/{org}/nothing"),
        "/organizations/",
    ] {
        assert_error(&api.get(path).await, 404);
    }
    assert_error(
        &api.delete(&format!("/organizations/{org}/members/1")).await,
        404,
    );
    assert_error(
        &api.json(
            Method::PATCH,
            &format!("/organizations/{org}/members/1"),
            json!({}),
        )
        .await,
        404,
    );
    assert_error(
        &api.form(
            Method::POST,
            "/organizations/1/workspaces",
            &[("name", "x")],
        )
        .await,
        404,
    );
    let members = format!("/organizations/{org}/members");
    assert_error(
        &api.json(
            Method::POST,
            &members,
            json!({"user_id": "1", "role_ids": []}),
        )
        .await,
        404,
    );
    assert_error(
        &api.json(
            Method::POST,
            &members,
            json!({"user_id": user, "role_ids": ["1"]}),
        )
        .await,
        404,
    );

    // 400: malformed bodies, fields and queries.
    assert_error(
        &api.raw(
            Method::POST,
            &members,
            Some("application/json"),
            b"{not json".to_vec(),
        )
        .await,
        400,
    );
    assert_error(
        &api.json(Method::POST, &members, json!({"role_ids": []}))
            .await,
        400,
    );
    assert_error(
        &api.json(
            Method::POST,
            &members,
            json!({"user_id": 7, "role_ids": []}),
        )
        .await,
        400,
    );
    assert_error(
        &api.form(Method::POST, "/users", &[("first_name", "No")])
            .await,
        400,
    );
    assert_error(
        &api.form(
            Method::POST,
            "/users",
            &[("first_name", " "), ("last_name", "x")],
        )
        .await,
        400,
    );
    assert_error(
        &api.form(
            Method::POST,
            "/organizations",
            &[("description", "no name")],
        )
        .await,
        400,
    );
    assert_error(
        &api.form(
            Method::POST,
            "/organizations",
            &[("name", "x"), ("public_metadata", "[1]")],
        )
        .await,
        400,
    );
    assert_error(
        &api.form(
            Method::PATCH,
            &format!("/users/{user}"),
            &[("disabled", "yes")],
        )
        .await,
        400,
    );
    assert_error(
        &api.json(
            Method::POST,
            "/organizations",
            json!({"name": "json is not multipart"}),
        )
        .await,
        400,
    );
    for query in [
        "limit=0",
        "limit=x",
        "offset=-1",
        "sort_order=up",
        "sort_key=password",
    ] {
        assert_error(&api.get(&format!("/organizations?{query}")).await, 400);
    }
    // 409: a taken username.
    let (_, _) = api
        .form(
            Method::PATCH,
            &format!("/users/{user}"),
            &[("username", "rosalind")],
        )
        .await;
    assert_error(
        &api.form(
            Method::POST,
            "/users",
            &[
                ("first_name", "R"),
                ("last_name", "F"),
                ("username", "rosalind"),
            ],
        )
        .await,
        409,
    );

    // 413: over 1 MiB.
    let (content_type, body) = multipart(&[("name", &"x".repeat(1024 * 1024 + 1))], None);
    assert_error(
        &api.raw(Method::POST, "/organizations", Some(&content_type), body)
            .await,
        413,
    );
    assert_eq!(
        api.get("/organizations").await.1["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn hostile_multipart_bodies_are_400_and_harmless() {
    let api = Api::start();
    let huge_headers = format!(
        "--b\r\nContent-Disposition: form-data; name=\"name\"\r\nX-Pad: {}\r\n\r\nx\r\n--b--",
        "p".repeat(20_000)
    );
    let cases: [(&str, Vec<u8>); 7] = [
        ("multipart/form-data", b"--b\r\n\r\n--b--".to_vec()),
        ("multipart/form-data; boundary=", b"--\r\n--".to_vec()),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nnever closed".to_vec(),
        ),
        ("multipart/form-data; boundary=b", huge_headers.into_bytes()),
        (
            "multipart/form-data; boundary=b",
            b"\xff\xfe\x00garbage".to_vec(),
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\xff\r\n--b--".to_vec(),
        ),
        ("text/plain", b"name=x".to_vec()),
    ];
    for (content_type, body) in cases {
        let answer = api
            .raw(Method::POST, "/organizations", Some(content_type), body)
            .await;
        assert_error(&answer, 400);
    }
    let answer = api.raw(Method::POST, "/users", None, Vec::new()).await;
    assert_error(&answer, 400);
    // Nothing was created, and the emulator still answers.
    assert_page(&api.get("/organizations").await.1, 0, false);
    assert_eq!(api.get("/users").await.1["total"], 25);
}

#[tokio::test]
async fn requests_are_recorded_and_faults_injected() {
    let api = Api::start();
    let org = api.organization("Acme").await;
    api.get(&format!("/organizations/{org}/members?limit=5"))
        .await;
    let calls = api.wacht.backend_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1],
        BackendCall {
            method: "GET".into(),
            path: format!("/organizations/{org}/members"),
            query: "limit=5".into(),
        }
    );
    assert_eq!(
        (calls[0].method.as_str(), calls[0].path.as_str()),
        ("POST", "/organizations")
    );
    // GET /users is recorded in both logs.
    api.get("/users?limit=1").await;
    assert_eq!(api.wacht.backend_requests(), ["limit=1"]);
    assert_eq!(api.wacht.backend_calls().len(), 3);

    api.wacht.set_backend_fault(BackendFault::Status(503));
    let answer = api
        .form(Method::POST, "/organizations", &[("name", "x")])
        .await;
    assert_eq!(
        answer,
        (
            503,
            json!({"message": "injected fault", "code": "internal_error"})
        )
    );
    api.wacht.set_backend_fault(BackendFault::Down);
    let err = api
        .http
        .get(format!("{}/workspaces", api.wacht.url()))
        .bearer_auth(&api.key)
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    api.wacht.set_backend_fault(BackendFault::None);
    assert_page(&api.get("/organizations").await.1, 1, false);
    assert_eq!(api.wacht.backend_calls().len(), 6);
    api.wacht.reset_counters();
    assert!(api.wacht.backend_calls().is_empty());
}
