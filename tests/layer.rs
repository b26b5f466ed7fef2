//! The tower layers give exactly the attributes' answers: the quickstart's session and machine
//! cases sent to an attribute-protected handler, to an axum `Router` behind
//! `wacht::layer::protect`/`machine`, and to a plain hyper service behind the same layers,
//! comparing status, JSON body and headers between them (not only against constants).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, send};

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{Request, Response};
use serde_json::Value;
use tower::ServiceExt as _;
use wacht::testing::{ApiKeySpec, LocalWacht, RateLimitRule, serve_with};
use wacht::{Auth, MachineAuth, MachineRequirement, Requirement, Wacht};

static ATTRIBUTE_RUNS: AtomicUsize = AtomicUsize::new(0);
static LAYER_RUNS: AtomicUsize = AtomicUsize::new(0);

#[wacht::protect(permission = "user:read")]
async fn attribute_session(_req: Request<String>, auth: Auth) -> Response<String> {
    ATTRIBUTE_RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new(format!("hello {}", auth.user_id()))
}

#[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
async fn attribute_machine(_req: Request<String>, auth: MachineAuth) -> Response<String> {
    ATTRIBUTE_RUNS.fetch_add(1, Ordering::SeqCst);
    Response::new(format!("hello {:?}", auth.key_id()))
}

fn session_requirement() -> Requirement {
    Requirement::new().permission("user:read")
}

fn machine_requirement() -> MachineRequirement {
    MachineRequirement::new()
        .resource("/machine/users")
        .method("GET")
        .permission("user:read")
}

/// An axum `Router` with both layers, the context in an `Extension` outside them.
async fn axum_server(wacht: Wacht) -> String {
    use axum::routing::get;
    async fn session(auth: Auth) -> String {
        LAYER_RUNS.fetch_add(1, Ordering::SeqCst);
        format!("hello {}", auth.user_id())
    }
    async fn machine(axum::Extension(auth): axum::Extension<MachineAuth>) -> String {
        LAYER_RUNS.fetch_add(1, Ordering::SeqCst);
        format!("hello {:?}", auth.key_id())
    }
    let app = axum::Router::new()
        .route(
            "/admin/users",
            get(session).route_layer(wacht::layer::protect(session_requirement())),
        )
        .route(
            "/machine/users",
            get(machine).route_layer(wacht::layer::machine(machine_requirement())),
        )
        .layer(axum::Extension(wacht));
    common::serve_axum(app).await
}

/// A plain hyper 1 server whose service is `layer(inner)`.
async fn hyper_server(wacht: Wacht) -> String {
    use http_body_util::Full;
    use hyper::body::{Bytes, Incoming};
    use tower::Layer as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let wacht = wacht.clone();
            tokio::spawn(async move {
                let inner = tower::service_fn(|req: Request<Incoming>| async move {
                    LAYER_RUNS.fetch_add(1, Ordering::SeqCst);
                    let who = match (
                        req.extensions().get::<Auth>(),
                        req.extensions().get::<MachineAuth>(),
                    ) {
                        (Some(auth), _) => auth.user_id().to_owned(),
                        (_, Some(auth)) => format!("{:?}", auth.key_id()),
                        _ => "nobody".to_owned(),
                    };
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
                        "hello {who}"
                    )))))
                });
                let session = wacht::layer::protect(session_requirement()).layer(inner);
                let machine = wacht::layer::machine(machine_requirement()).layer(inner);
                let service = tower::service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(wacht.clone());
                    let (session, machine) = (session.clone(), machine.clone());
                    async move {
                        if req.uri().path() == "/machine/users" {
                            machine.oneshot(req).await
                        } else {
                            session.oneshot(req).await
                        }
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(stream),
                        hyper_util::service::TowerToHyperService::new(service),
                    )
                    .await;
            });
        }
    });
    url
}

/// What must be the same whichever form answered: status, body without the per-call
/// `request_id`, and the headers a client reads.
fn comparable(answer: &Answer) -> (u16, Value, Vec<(String, String)>) {
    let mut body = answer.body.clone();
    if let Some(object) = body.as_object_mut() {
        object.remove("request_id");
        // Seconds to the end of the rate-limit window: moves with the clock between calls.
        if object.remove("retry_after").is_some() {
            object.insert("retry_after".into(), Value::from("<seconds>"));
        }
    }
    let mut headers: Vec<(String, String)> = answer
        .headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            matches!(
                name,
                "content-type" | "cache-control" | "www-authenticate" | "retry-after"
            ) || name.starts_with("x-ratelimit-")
        })
        .filter(|(name, _)| {
            // The reset of a rate-limit window moves with the clock between two calls.
            !name.as_str().ends_with("-reset")
        })
        .map(|(name, value)| {
            let value = if name == "retry-after" {
                "<seconds>".to_owned()
            } else {
                value.to_str().unwrap().to_owned()
            };
            (name.to_string(), value)
        })
        .collect();
    headers.sort();
    if answer.status.is_success() {
        // The handler's own answer: its headers are the framework's business.
        headers.clear();
    }
    if body.is_null() {
        body = Value::String(answer.text.clone());
    }
    (answer.status.as_u16(), body, headers)
}

/// A named case: its request headers and the status the attribute answers.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16);

async fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

#[tokio::test]
async fn layers_answer_exactly_as_the_attributes() {
    let local = LocalWacht::start().unwrap();
    let wacht = Wacht::new(local.config()).unwrap();
    let attribute_session_url = serve_with(wacht.clone(), attribute_session).await.unwrap();
    let attribute_machine_url = serve_with(wacht.clone(), attribute_machine).await.unwrap();
    let forms = [
        ("axum", axum_server(wacht.clone()).await),
        ("hyper", hyper_server(wacht.clone()).await),
    ];

    let now = wacht::Clock::system().now();
    let expired = format!("Bearer {}", local.token().expires_at(now - 60).sign());
    let without = format!("Bearer {}", local.token().sign());
    let with = format!(
        "Bearer {}",
        local.token().organization_permissions(["user:read"]).sign()
    );
    let session_cases: Vec<Case> = vec![
        ("no token", vec![], 401),
        ("expired", vec![("authorization", expired.as_str())], 401),
        (
            "no permission",
            vec![("authorization", without.as_str())],
            403,
        ),
        ("allowed", vec![("authorization", with.as_str())], 200),
    ];
    let reader = local.create_api_key(ApiKeySpec::new().permissions(["user:read"]));
    let writer = local.create_api_key(ApiKeySpec::new().permissions(["billing:write"]));
    let unknown = format!("wk_test_{}", "x".repeat(43));
    let machine_cases: Vec<Case> = vec![
        ("no key", vec![], 401),
        ("unknown key", vec![("x-api-key", unknown.as_str())], 401),
        ("no permission", vec![("x-api-key", writer.secret())], 403),
        ("allowed", vec![("x-api-key", reader.secret())], 200),
    ];

    for (name, headers, status) in &session_cases {
        let attribute = get(
            &format!("{}/admin/users", attribute_session_url.url()),
            headers,
        )
        .await;
        assert_eq!(attribute.status, *status, "attribute, {name}");
        for (form, url) in &forms {
            let layer = get(&format!("{url}/admin/users"), headers).await;
            assert_eq!(
                comparable(&layer),
                comparable(&attribute),
                "{form}, session {name}"
            );
        }
    }
    for (name, headers, status) in &machine_cases {
        let attribute = get(
            &format!("{}/machine/users", attribute_machine_url.url()),
            headers,
        )
        .await;
        assert_eq!(attribute.status, *status, "attribute, {name}");
        for (form, url) in &forms {
            let layer = get(&format!("{url}/machine/users"), headers).await;
            assert_eq!(
                comparable(&layer),
                comparable(&attribute),
                "{form}, machine {name}"
            );
        }
    }
    // Rate limited: a key of one request per hour for each form, used twice.
    let limited = || {
        local.create_api_key(
            ApiKeySpec::new()
                .permissions(["user:read"])
                .rate_limit(RateLimitRule::per_key("once", 1, Duration::from_secs(3600))),
        )
    };
    let key = limited();
    let attribute_url = format!("{}/machine/users", attribute_machine_url.url());
    assert_eq!(
        get(&attribute_url, &[("x-api-key", key.secret())])
            .await
            .status,
        200
    );
    let attribute = get(&attribute_url, &[("x-api-key", key.secret())]).await;
    assert_eq!(attribute.status, 429);
    for (form, url) in &forms {
        let key = limited();
        let url = format!("{url}/machine/users");
        assert_eq!(get(&url, &[("x-api-key", key.secret())]).await.status, 200);
        let layer = get(&url, &[("x-api-key", key.secret())]).await;
        assert_eq!(
            comparable(&layer),
            comparable(&attribute),
            "{form}, rate limited"
        );
    }
    // Each allowed call ran a body once per form; refused ones never did.
    assert_eq!(ATTRIBUTE_RUNS.load(Ordering::SeqCst), 3);
    assert_eq!(LAYER_RUNS.load(Ordering::SeqCst), 6);
}
