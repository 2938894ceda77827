//! Runs sample events through the real handlers in-process, on the embedded catalog: the
//! quickest way to see what the Lambdas answer, with no AWS account and no emulator.
//!
//! ```text
//! cargo run --example invoke                                   # every event in events/, one line each
//! cargo run --example invoke -- events/product-api/FILE.json   # one event, the whole answer
//! ```
//! Authorizer events are decided with the test-only configuration in `events/authorizer/test.env`.

use jwt_scopes_api::{AuthConfig, Authorizer, EmbeddedCatalog, ProductApi};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let files = if args.is_empty() {
        sample_events(root)?
    } else {
        args.clone()
    };
    let env = std::fs::read_to_string(root.join("events/authorizer/test.env"))?;
    let vars: HashMap<&str, &str> = env
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .collect();
    let authorizer = Authorizer::new(AuthConfig::from_lookup(|name| {
        vars.get(name).map(|v| v.to_string())
    })?);
    let api = ProductApi::new(EmbeddedCatalog);
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    for file in files {
        let event = std::fs::read_to_string(&file)?;
        let answer = if file.components().any(|c| c.as_os_str() == "authorizer") {
            match authorizer.answer_json(&event, now).await {
                Ok(response) => serde_json::to_value(response)?,
                Err(error) => {
                    json!({"error": lambda_runtime::Diagnostic::from(error).error_message})
                }
            }
        } else {
            let request = jwt_scopes_api::product_api::read_event(&event)?;
            let response = api.handle(request.into()).await;
            let headers: serde_json::Map<String, Value> = response
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
                .collect();
            let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
            json!({"statusCode": response.status().as_u16(), "headers": headers, "body": body})
        };
        if args.is_empty() {
            let summary = answer
                .get("statusCode")
                .or(answer.get("isAuthorized"))
                .or(answer.get("error"))
                .cloned();
            let effect = &answer["policyDocument"]["Statement"];
            let shown = summary.unwrap_or_else(|| {
                json!(
                    effect
                        .as_array()
                        .map(|s| s.iter().map(|s| s["Effect"].clone()).collect::<Vec<_>>())
                )
            });
            println!(
                "{:<60} {shown}",
                file.strip_prefix(root).unwrap_or(&file).display()
            );
        } else {
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
    }
    Ok(())
}

fn sample_events(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for dir in ["events/product-api", "events/authorizer"] {
        for entry in std::fs::read_dir(root.join(dir))? {
            let path = entry?.path();
            let name = path.to_string_lossy();
            if name.ends_with(".json") && !name.ends_with(".expected.json") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
