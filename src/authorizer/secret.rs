//! A secret (the HMAC key, the introspection client's secret), read from AWS Secrets Manager through the AWS Parameters and Secrets
//! Lambda Extension (a layer serving `localhost:2773`) on the first invocation, so the secret
//! never sits in a template parameter or an environment variable, and reading it needs no AWS
//! SDK.

use crate::authorizer::config::ConfigError;
use crate::token::fetchable;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecretValue {
    secret_string: Option<String>,
}

/// Reads secret `secret_id` (its ARN or name) from the extension listening at `endpoint`
/// (`http://localhost:2773`), authenticated with the function's session token. The URL passes
/// the key fetcher's https rule ([`fetchable`]: plain http to loopback only) and no redirect is
/// followed: the secret and the session token never leave the host.
pub async fn from_extension(
    endpoint: &str,
    secret_id: &str,
    session_token: &str,
) -> Result<String, ConfigError> {
    let fail = |problem: String| ConfigError {
        variable: "AUTH_HMAC_SECRET_ARN",
        problem,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| fail(format!("HTTP client: {e}")))?;
    let id = percent_encoding::utf8_percent_encode(secret_id, percent_encoding::NON_ALPHANUMERIC);
    let url = fetchable(&format!("{endpoint}/secretsmanager/get?secretId={id}"))
        .map_err(|problem| fail(format!("the extension's URL {problem}")))?;
    let response = client
        .get(url)
        .header("X-Aws-Parameters-Secrets-Token", session_token)
        .send()
        .await
        .map_err(|_| fail(format!("cannot reach the Parameters and Secrets extension at {endpoint}; is its layer attached?")))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(format!(
            "the extension answered {status}; check the ARN and secretsmanager:GetSecretValue"
        )));
    }
    let body = response
        .bytes()
        .await
        .map_err(|_| fail("the extension's answer was cut short".into()))?;
    let value: SecretValue = serde_json::from_slice(&body)
        .map_err(|_| fail("the extension's answer is not a secret value".into()))?;
    value
        .secret_string
        .filter(|s| !s.is_empty())
        .ok_or_else(|| fail("the secret has no SecretString".into()))
}
