//! The backend API client against the local Wacht's backend (`GET /users`) over real HTTP on
//! 127.0.0.1: listing from a protected function, pagination parameters on the wire, typed
//! errors, the API key kept out of every `Debug` and error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{rejected, send};

use std::time::Duration;

use http::{Request, Response, StatusCode};
use serde_json::json;
use wacht::backend_api::types::UsersListQuery;
use wacht::testing::{BackendFault, LocalWacht, TestUser, serve, serve_with};
use wacht::{Auth, BackendClient, BackendError, ErrorBody, SortOrder, Wacht, WachtConfig};

/// A protected function that lists users through the backend client of its context.
#[wacht::protect(permission = "user:read")]
async fn list_users(req: Request<String>, auth: Auth) -> Result<Response<String>, BackendError> {
    let wacht = Wacht::for_request(&req).unwrap();
    let page = wacht
        .backend()
        .users()
        .list(UsersListQuery::new().limit(3).sort_key("last_name"))
        .await?;
    let body = json!({ "caller": auth.user_id(), "page": page });
    Ok(Response::new(body.to_string()))
}

fn start() -> (LocalWacht, Wacht) {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    (local, wacht)
}

#[tokio::test]
async fn a_protected_function_lists_users_from_the_backend() {
    let (local, wacht) = start();
    let server = serve_with(wacht, list_users).await.unwrap();
    let http = reqwest::Client::new();

    let refused = send(http.get(server.url())).await;
    assert_eq!(rejected(&refused, 401, "unauthenticated"), "missing_token");
    assert!(local.backend_requests().is_empty());

    let token = local
        .token()
        .subject("user_ada")
        .workspace_permissions(["user:read"])
        .sign();
    let answer = send(http.get(server.url()).bearer_auth(token)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["caller"], "user_ada");
    let page = &answer.body["page"];
    let last_names: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(last_names, ["Ahmed", "Berg", "Clarke"]);
    assert_eq!(page["total"], 25);
    assert_eq!(page["limit"], 3);
    assert_eq!(page["offset"], 0);
    assert_eq!(page["has_more"], true);
    assert_eq!(
        local.backend_requests(),
        vec!["sort_key=last_name&limit=3".to_owned()]
    );
}

#[tokio::test]
async fn every_list_parameter_reaches_the_server() {
    let (local, wacht) = start();
    let page = wacht
        .backend()
        .users()
        .list(
            UsersListQuery::new()
                .limit(2)
                .offset(1)
                .sort_key("first_name")
                .sort_order(SortOrder::Desc)
                .search("a & o+"),
        )
        .await
        .unwrap();
    assert_eq!(
        local.backend_requests(),
        // In the description's order of the parameters.
        vec!["offset=1&sort_key=first_name&sort_order=desc&limit=2&search=a+%26+o%2B".to_owned()]
    );
    // The emulator applied them: nobody matches "a & o+", so the page is empty.
    assert_eq!(page.total, Some(0));
    assert!(page.data.is_empty());

    let page = wacht
        .backend()
        .users()
        .list(
            UsersListQuery::new()
                .limit(2)
                .offset(1)
                .sort_key("first_name")
                .sort_order(SortOrder::Desc)
                .search("ma"),
        )
        .await
        .unwrap();
    // The expected page, derived from the seeded users: matches of "ma" in names, username
    // or email, by first name descending, skipping one, two of them.
    let names: Vec<&str> = page.data.iter().map(|u| u.first_name.as_str()).collect();
    let mut expected: Vec<TestUser> = local
        .users()
        .into_iter()
        .filter(|u| {
            let text = format!(
                "{} {} {} {}",
                u.first_name,
                u.last_name,
                u.username.clone().unwrap_or_default(),
                u.primary_email_address.clone().unwrap_or_default()
            );
            text.to_lowercase().contains("ma")
        })
        .collect();
    expected.sort_by(|a, b| {
        b.first_name
            .to_lowercase()
            .cmp(&a.first_name.to_lowercase())
    });
    let expected: Vec<&str> = expected
        .iter()
        .skip(1)
        .take(2)
        .map(|u| u.first_name.as_str())
        .collect();
    assert_eq!(names.len(), 2);
    assert_eq!(names, expected);
    assert_eq!(page.limit, Some(2));
    assert_eq!(page.offset, Some(1));
}

#[tokio::test]
async fn users_are_typed_with_optional_fields_absent() {
    let (local, wacht) = start();
    let page = wacht
        .backend()
        .users()
        .list(UsersListQuery::new().limit(100))
        .await
        .unwrap();
    assert_eq!(page.data.len(), 25);
    assert!(!page.has_more);
    let seeded = local.users();
    for (user, seed) in page.data.iter().zip(&seeded) {
        assert_eq!(user.id, seed.id);
        assert_eq!(user.created_at, seed.created_at);
        assert_eq!(user.updated_at, seed.updated_at);
        assert_eq!(user.first_name, seed.first_name);
        assert_eq!(user.last_name, seed.last_name);
        assert_eq!(user.username, seed.username);
        assert_eq!(user.profile_picture_url, seed.profile_picture_url);
        assert_eq!(user.primary_email_address, seed.primary_email_address);
        assert_eq!(user.primary_phone_number, seed.primary_phone_number);
    }
    assert!(page.data.iter().any(|u| u.username.is_none()));
    assert!(page.data.iter().any(|u| u.primary_phone_number.is_none()));
}

#[tokio::test]
async fn a_wrong_key_is_a_typed_401_with_the_json_message() {
    let local = LocalWacht::start().unwrap();
    let wrong_key = "wk_backend_this_is_not_the_key";
    let client = BackendClient::new(local.url(), wrong_key).unwrap();
    let error = client
        .users()
        .list(UsersListQuery::new())
        .await
        .unwrap_err();
    let BackendError::Status { status, body } = &error else {
        panic!("expected a status error, got {error:?}");
    };
    assert_eq!(*status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        &ErrorBody::Json {
            message: "Invalid API key".into(),
            code: Some("unauthorized".into()),
            details: None,
        }
    );
    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(error.body().unwrap().code(), Some("unauthorized"));
    assert_eq!(error.reason(), "backend_status");
    let shown = format!("{error} {error:?} {client:?}");
    assert!(!shown.contains(wrong_key), "{shown}");
    assert!(shown.contains("Invalid API key"), "{shown}");
    assert_eq!(local.backend_requests().len(), 1);
}

#[tokio::test]
async fn error_bodies_keep_their_status_and_text_or_json() {
    let (local, wacht) = start();
    local.set_backend_fault(BackendFault::PlainText(502));
    let error = wacht
        .backend()
        .users()
        .list(UsersListQuery::new())
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(
        error.body(),
        Some(&ErrorBody::Text("injected fault".into()))
    );
    assert_eq!(
        error.to_string(),
        "the backend API answered HTTP 502 Bad Gateway: injected fault"
    );

    local.set_backend_fault(BackendFault::Status(503));
    let error = wacht
        .backend()
        .users()
        .list(UsersListQuery::new())
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(error.body().unwrap().message(), "injected fault");
    assert_eq!(error.body().unwrap().code(), Some("internal_error"));

    // A 400 for a bad parameter carries the service's message.
    local.set_backend_fault(BackendFault::None);
    let error = wacht
        .backend()
        .users()
        .list(UsersListQuery::new().sort_key("shoe_size"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(error.body().unwrap().code(), Some("bad_request"));
    assert!(error.body().unwrap().message().contains("sort_key"));
}

#[tokio::test]
async fn transport_failures_are_typed() {
    let (local, wacht) = start();
    local.set_backend_fault(BackendFault::Down);
    let error = wacht
        .backend()
        .users()
        .list(UsersListQuery::new())
        .await
        .unwrap_err();
    assert!(matches!(error, BackendError::Transport(_)), "{error:?}");
    assert_eq!(error.reason(), "backend_unreachable");

    // A server that accepts and never answers: the timeout, as a typed error.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            if let Ok((stream, _)) = silent.accept().await {
                held.push(stream);
            }
        }
    });
    let client = BackendClient::new(&url, "wk_key")
        .unwrap()
        .timeout(Duration::from_millis(200));
    let error = client
        .users()
        .list(UsersListQuery::new())
        .await
        .unwrap_err();
    assert_eq!(error, BackendError::Timeout(Duration::from_millis(200)));
    hold.abort();
}

#[tokio::test]
async fn a_2xx_that_is_not_a_page_is_an_invalid_response() {
    for body in [
        r#"{"data":"nope","has_more":false}"#,
        r#"{"data":[{"id":42,"created_at":"t","updated_at":"t"}],"has_more":false}"#,
        r#"{"data":[],"has_more":"no"}"#,
        "<html>oops</html>",
    ] {
        let server = serve(move |_req: Request<String>| async move {
            let mut response = Response::new(body.to_owned());
            response
                .headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            response
        })
        .await
        .unwrap();
        let client = BackendClient::new(&server.url(), "wk_key").unwrap();
        let error = client
            .users()
            .list(UsersListQuery::new())
            .await
            .unwrap_err();
        assert!(
            matches!(error, BackendError::InvalidResponse(_)),
            "{body}: {error:?}"
        );
    }
}

#[tokio::test]
async fn without_an_api_key_nothing_is_sent() {
    let local = LocalWacht::start().unwrap();
    let config = WachtConfig::builder()
        .publishable_key(local.publishable_key())
        .backend_api_url(local.url())
        .build()
        .unwrap();
    let wacht = Wacht::new(config).unwrap();
    assert!(!wacht.backend().has_api_key());
    let error = wacht
        .backend()
        .users()
        .list(UsersListQuery::new())
        .await
        .unwrap_err();
    assert_eq!(error, BackendError::MissingApiKey);
    assert_eq!(error.reason(), "missing_api_key");
    assert!(error.to_string().contains("WACHT_API_KEY"));
    assert!(local.backend_requests().is_empty());
    assert_eq!(local.requests(), 0);
}

#[tokio::test]
async fn the_context_shares_one_kept_alive_connection() {
    let (local, wacht) = start();
    for _ in 0..3 {
        wacht
            .backend()
            .users()
            .list(UsersListQuery::new().limit(1))
            .await
            .unwrap();
    }
    assert_eq!(local.backend_requests().len(), 3);
    assert_eq!(local.connections(), 1, "three calls over one connection");
}

#[test]
fn debug_never_shows_the_api_key() {
    let local = LocalWacht::start().unwrap();
    let key = local.backend_api_key();
    let wacht = Wacht::new(local.config()).unwrap();
    let client = wacht.backend();
    let from_config = BackendClient::from_config(wacht.config()).unwrap();
    let direct = BackendClient::new(local.url(), key.clone()).unwrap();
    for debug in [
        format!("{client:?}"),
        format!("{from_config:?}"),
        format!("{direct:?}"),
        format!("{wacht:?}"),
    ] {
        assert!(!debug.contains(&key), "{debug}");
        assert!(debug.contains("Secret(***)"), "{debug}");
    }
    assert_eq!(client.base_url(), local.url());
}

/// The first release's names still compile (deprecated aliases of the generated ones) and
/// reach the same operation.
#[tokio::test]
#[allow(deprecated)]
async fn the_first_releases_names_are_aliases() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let options: wacht::ListUsersOptions = wacht::ListUsersOptions::new().limit(2);
    let page: wacht::Page<wacht::User> = wacht.backend().users().list(options).await.unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[0].id, local.users()[0].id);
    let _: fn(&BackendClient) -> wacht::Users = |client| client.users();
}
