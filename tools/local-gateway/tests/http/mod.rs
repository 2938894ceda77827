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
