//! The emulator's backend API (`GET /users`), exercised over real HTTP on loopback.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;

/// `GET /users?<query>` with `authorization` (if any) → (status, content type, body text).
async fn get_users(
    wacht: &LocalWacht,
    query: &str,
    authorization: Option<&str>,
) -> (u16, String, String) {
    let url = if query.is_empty() {
        wacht.users_url()
    } else {
        format!("{}?{query}", wacht.users_url())
    };
    let mut request = reqwest::Client::new().get(url);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

/// An authorized `GET /users?<query>` → (status, JSON body).
async fn list(wacht: &LocalWacht, query: &str) -> (u16, Value) {
    let bearer = format!("Bearer {}", wacht.backend_api_key());
    let (status, content_type, text) = get_users(wacht, query, Some(&bearer)).await;
    assert_eq!(content_type, "application/json", "{text}");
    (status, serde_json::from_str(&text).unwrap())
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["id"].as_str().unwrap().to_owned())
        .collect()
}

fn field(page: &Value, name: &str) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user[name].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn the_bearer_key_is_required() {
    let wacht = LocalWacht::start().unwrap();
    let key = wacht.backend_api_key();
    assert!(key.starts_with("wk_backend_") && key.len() == "wk_backend_".len() + 43);
    let unauthorized = json!({"message": "Invalid API key", "code": "unauthorized"});
    for authorization in [
        None,
        Some(String::new()),
        Some("Bearer".to_owned()),
        Some("Bearer ".to_owned()),
        Some("Bearer wk_backend_wrong".to_owned()),
        Some(format!("Basic {key}")),
        Some(key.clone()),
        Some(format!("Bearer {key}x")),
    ] {
        let (status, content_type, text) = get_users(&wacht, "", authorization.as_deref()).await;
        assert_eq!(status, 401, "{authorization:?}");
        assert_eq!(content_type, "application/json");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), unauthorized);
    }
    for authorization in [format!("Bearer {key}"), format!("bearer {key}")] {
        let (status, _, _) = get_users(&wacht, "", Some(&authorization)).await;
        assert_eq!(status, 200, "{authorization}");
    }
}

#[tokio::test]
async fn the_default_page_lists_ten_users_in_creation_order() {
    let wacht = LocalWacht::start().unwrap();
    let (status, page) = list(&wacht, "").await;
    assert_eq!(status, 200);
    let fields: BTreeSet<&str> = page
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["data", "total", "limit", "offset", "has_more"])
    );
    assert_eq!(
        (
            &page["total"],
            &page["limit"],
            &page["offset"],
            &page["has_more"]
        ),
        (&json!(25), &json!(10), &json!(0), &json!(true))
    );
    let seeded = TestUser::seeded();
    let expected: Vec<String> = seeded.iter().take(10).map(|user| user.id.clone()).collect();
    assert_eq!(ids(&page), expected);

    // Users have the documented fields; optional ones are absent when unset.
    let first = &page["data"][0];
    assert_eq!(*first, serde_json::to_value(&seeded[0]).unwrap());
    for user in page["data"].as_array().unwrap() {
        for name in [
            "id",
            "created_at",
            "updated_at",
            "first_name",
            "last_name",
            "profile_picture_url",
        ] {
            assert!(user[name].is_string(), "{name}: {user}");
        }
        let created = user["created_at"].as_str().unwrap();
        assert!(created.len() == 20 && created.ends_with('Z'), "{created}");
    }
    let third = &page["data"][2];
    assert!(third.get("username").is_none(), "{third}");
    let fifth = &page["data"][4];
    assert!(fifth.get("primary_email_address").is_none(), "{fifth}");
    let parsed: Vec<TestUser> = serde_json::from_value(page["data"].clone()).unwrap();
    assert_eq!(parsed, seeded[..10].to_vec());
}

#[tokio::test]
async fn pages_walk_every_user_once() {
    let wacht = LocalWacht::start().unwrap();
    let mut seen = Vec::new();
    let mut offset = 0;
    let mut pages = 0;
    loop {
        let (status, page) = list(&wacht, &format!("limit=10&offset={offset}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            (&page["limit"], &page["offset"]),
            (&json!(10), &json!(offset))
        );
        seen.extend(ids(&page));
        pages += 1;
        if page["has_more"] == false {
            break;
        }
        offset += 10;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 25);

    // The parameters reached the server as sent.
    assert_eq!(
        wacht.backend_requests(),
        vec![
            "limit=10&offset=0",
            "limit=10&offset=10",
            "limit=10&offset=20"
        ]
    );

    // Limits above 100 are lowered to 100; an offset past the end is an empty last page.
    let (_, page) = list(&wacht, "limit=500").await;
    assert_eq!((&page["limit"], ids(&page).len()), (&json!(100), 25));
    assert_eq!(page["has_more"], false);
    let (_, page) = list(&wacht, "offset=40").await;
    assert_eq!((ids(&page).len(), &page["total"]), (0, &json!(25)));
    assert_eq!(page["has_more"], false);
    let (_, page) = list(&wacht, "limit=24").await;
    assert_eq!(page["has_more"], true);
    let (_, page) = list(&wacht, "limit=25").await;
    assert_eq!(page["has_more"], false);
}

#[tokio::test]
async fn sorting() {
    let wacht = LocalWacht::start().unwrap();
    let (_, page) = list(&wacht, "limit=100&sort_key=first_name&sort_order=asc").await;
    let names = field(&page, "first_name");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names[0], "Ada");

    let (_, page) = list(&wacht, "limit=100&sort_key=first_name&sort_order=desc").await;
    let mut reversed = sorted.clone();
    reversed.reverse();
    assert_eq!(field(&page, "first_name"), reversed);

    let (_, page) = list(&wacht, "limit=3&sort_key=created_at&sort_order=desc").await;
    let seeded = TestUser::seeded();
    let newest: Vec<String> = seeded.iter().rev().take(3).map(|u| u.id.clone()).collect();
    assert_eq!(ids(&page), newest);

    let (_, page) = list(&wacht, "limit=100&sort_key=last_name").await;
    let last = field(&page, "last_name");
    let mut sorted = last.clone();
    sorted.sort_by_key(|name| name.to_lowercase());
    assert_eq!(last, sorted);
}

#[tokio::test]
async fn search_matches_names_usernames_and_emails() {
    let wacht = LocalWacht::start().unwrap();
    let (_, page) = list(&wacht, "search=lovelace").await;
    assert_eq!(field(&page, "last_name"), vec!["Lovelace"]);
    assert_eq!(page["total"], 1);
    let (_, page) = list(&wacht, "search=ADA+LOVELACE").await;
    assert_eq!(page["total"], 1);
    let (_, page) = list(&wacht, "search=ada%20lovelace").await;
    assert_eq!(page["total"], 1);
    let (_, page) = list(&wacht, "search=maya.okafor%40example.com").await;
    assert_eq!(field(&page, "first_name"), vec!["Maya"]);
    let (_, page) = list(&wacht, "search=example.com&limit=100").await;
    let with_email = TestUser::seeded()
        .iter()
        .filter(|user| user.primary_email_address.is_some())
        .count();
    assert_eq!(page["total"], with_email);
    assert_eq!(ids(&page).len(), with_email);
    let (_, page) = list(&wacht, "search=nobody-has-this").await;
    assert_eq!(
        (&page["total"], &page["has_more"]),
        (&json!(0), &json!(false))
    );
    // Search, then sort, then page.
    let (_, page) = list(&wacht, "search=a&sort_key=first_name&limit=2&offset=1").await;
    assert_eq!(page["offset"], 1);
    assert_eq!(ids(&page).len(), 2);
    assert_eq!(page["has_more"], true);
    // An empty search lists everyone.
    let (_, page) = list(&wacht, "search=").await;
    assert_eq!(page["total"], 25);
}

#[tokio::test]
async fn invalid_parameters_are_400() {
    let wacht = LocalWacht::start().unwrap();
    for query in [
        "limit=abc",
        "limit=-1",
        "limit=0",
        "limit=1.5",
        "offset=x",
        "offset=-3",
        "sort_order=up",
        "sort_key=password",
    ] {
        let (status, body) = list(&wacht, query).await;
        assert_eq!(status, 400, "{query}");
        assert!(body["message"].is_string(), "{query}: {body}");
    }
    // Unknown parameters are ignored.
    assert_eq!(list(&wacht, "page=3&foo").await.0, 200);
}

#[tokio::test]
async fn seeded_users_can_be_replaced() {
    let wacht = LocalWacht::start().unwrap();
    let mut grace = TestUser::new("2", "Grace", "Hopper");
    grace.primary_email_address = Some("grace@example.com".into());
    wacht.seed_users(vec![TestUser::new("1", "Ada", "Lovelace"), grace.clone()]);
    wacht.add_user(TestUser::new("3", "Alan", "Turing"));
    assert_eq!(wacht.users().len(), 3);
    let (_, page) = list(&wacht, "").await;
    assert_eq!(ids(&page), vec!["1", "2", "3"]);
    assert_eq!(page["data"][1], serde_json::to_value(&grace).unwrap());
    assert_eq!(page["has_more"], false);
}

#[tokio::test]
async fn requests_are_recorded_and_faults_injected() {
    let wacht = LocalWacht::start().unwrap();
    // Refused requests are recorded too.
    get_users(&wacht, "limit=5&search=a%20b", None).await;

    wacht.set_backend_fault(BackendFault::Status(503));
    let (status, body) = list(&wacht, "offset=5").await;
    assert_eq!(status, 503);
    assert_eq!(
        body,
        json!({"message": "injected fault", "code": "internal_error"})
    );

    wacht.set_backend_fault(BackendFault::PlainText(502));
    let bearer = format!("Bearer {}", wacht.backend_api_key());
    let (status, content_type, text) = get_users(&wacht, "", Some(&bearer)).await;
    assert_eq!(
        (status, content_type.as_str(), text.as_str()),
        (502, "text/plain", "injected fault")
    );

    wacht.set_backend_fault(BackendFault::Down);
    let err = reqwest::Client::new()
        .get(wacht.users_url())
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err:?}");

    wacht.set_backend_fault(BackendFault::None);
    assert_eq!(list(&wacht, "").await.0, 200);
    assert_eq!(
        wacht.backend_requests(),
        vec!["limit=5&search=a%20b", "offset=5", "", "", ""]
    );
    wacht.reset_counters();
    assert!(wacht.backend_requests().is_empty());

    // GET is the only method of /users itself besides POST (creating a user).
    let response = reqwest::Client::new()
        .put(wacht.users_url())
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let (status, _, _) = get_users(&wacht, "", None).await;
    assert_eq!(status, 401);
}
