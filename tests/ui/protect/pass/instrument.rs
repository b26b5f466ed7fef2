//! `#[tracing::instrument]` under `#[wacht::protect]` sees the parameters as the user wrote
//! them (`skip(req)`, `fields(… = req…)`), and, being inside the guard, its span covers the
//! check too: a refused call is recorded in the handler's span.

use std::io::Write;
use std::sync::{Arc, Mutex};

use http::{Request, Response};

#[wacht::protect]
#[tracing::instrument(skip(req))]
async fn skipped(req: Request<String>, auth: wacht::Auth) -> Response<String> {
    Response::new(format!("{} {}", req.uri(), auth.user_id()))
}

#[wacht::protect(permission = "user:read")]
#[tracing::instrument(name = "admin", skip_all, fields(path = %req.uri().path()))]
async fn with_fields(req: Request<String>) -> Response<String> {
    Response::new(req.uri().to_string())
}

#[wacht::protect]
#[tracing::instrument]
async fn plain(req: Request<String>, auth: wacht::Auth) -> Response<String> {
    Response::new(format!("{} {}", req.uri(), auth.user_id()))
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // No configuration: the check answers 500 without any network, inside the span.
    let mut request = Request::new(String::new());
    *request.uri_mut() = "/admin/users".parse().unwrap();
    let response = runtime.block_on(with_fields(request));
    assert_eq!(response.status(), 500);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("admin{path=/admin/users}"), "{log}");
    assert!(log.contains("request refused"), "{log}");
    let _ = (skipped(Request::new(String::new())), plain(Request::new(String::new())));
}
