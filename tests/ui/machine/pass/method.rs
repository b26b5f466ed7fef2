//! Methods in `impl` blocks, with `&self` and `self: Arc<Self>` receivers.

use http::{Request, Response};
use std::sync::Arc;

struct Api {
    greeting: String,
}

impl Api {
    #[wacht::machine(resource = "/machine/users", method = "GET", permission = "user:read")]
    pub async fn get(&self, _req: Request<String>, auth: wacht::MachineAuth) -> Response<String> {
        Response::new(format!("{} {}", self.greeting, auth.request_id().unwrap_or("-")))
    }

    #[wacht::machine(principal = "oauth_access_token")]
    async fn shared(self: Arc<Self>, _req: Request<String>) -> Result<Response<String>, ()> {
        Ok(Response::new(self.greeting.clone()))
    }

    #[wacht::machine]
    async fn returns_self_type(&self, _req: Request<String>) -> Response<String> {
        Self::helper()
    }

    fn helper() -> Response<String> {
        Response::new(String::new())
    }
}

fn main() {
    let api = Arc::new(Api {
        greeting: String::new(),
    });
    let _ = api.get(Request::new(String::new()));
    let _ = api.returns_self_type(Request::new(String::new()));
    let _ = api.shared(Request::new(String::new()));
}
