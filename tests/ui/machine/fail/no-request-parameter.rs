use http::Response;

#[wacht::machine]
async fn handler(_key: String, _auth: wacht::MachineAuth) -> Response<String> {
    Response::new(String::new())
}

fn main() {}
