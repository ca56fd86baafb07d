//! wiremock helpers for the fixture servers that stand in for providers' APIs.

use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

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

/// Answers the requests `matching` picks on `server` first with a 429 (Retry-After 1) in Google
/// APIs' error shape, then with a 503, then with `page`: a page a client reads only by retrying.
pub async fn mount_after_google_429_and_503(
    server: &MockServer,
    matching: impl Fn() -> MockBuilder,
    page: ResponseTemplate,
) {
    let throttled = ResponseTemplate::new(429)
        .insert_header("retry-after", "1")
        .set_body_json(
            serde_json::json!({"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}),
        );
    let failed = ResponseTemplate::new(503).insert_header("retry-after", "0");
    for (priority, answer) in [(1, throttled), (2, failed)] {
        matching()
            .respond_with(answer)
            .up_to_n_times(1)
            .with_priority(priority)
            .mount(server)
            .await;
    }
    matching().respond_with(page).with_priority(3).mount(server).await;
}
