//! wiremock helpers for the fixture servers that stand in for providers' APIs.

use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A 200 answer with this JSON body.
pub fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// A 200 answer with this text body.
pub fn ok_text(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(body)
}

/// A fixture server that answers every request with 200 and `body`.
pub async fn answering_all(body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(ok_text(body)).mount(&server).await;
    server
}

/// Answers GET `at` on `server` with `response`.
pub async fn mount_get(server: &MockServer, at: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}
