//! One request to a gateway under test, as the integration tests send them.

/// `method base+path` as curl sends it, with `authorization` and a `(content type, body)` if
/// given.
pub fn request(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<(&str, &str)>,
) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client
        .request(method, format!("{base}{path}"))
        .header("user-agent", "curl/8.5.0");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some((content_type, body)) = body {
        request = request
            .header("content-type", content_type)
            .body(body.to_owned());
    }
    request
}

/// An answer as the OAuth and gateway tests read it: status, `WWW-Authenticate` challenge, and
/// the body as JSON (or as a JSON string when it is not JSON).
#[allow(dead_code)] // local_gateway.rs keeps every header instead.
pub async fn read(response: reqwest::Response) -> (u16, Option<String>, serde_json::Value) {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, challenge, body)
}
