//! A DynamoDB-compatible server on 127.0.0.1 for store tests, and fresh tables on it:
//! `DYNAMODB_ENDPOINT` if set (`.ci/run` starts moto_server and sets it), else a `moto_server`
//! started here and stopped when the returned [`Server`] is dropped; without either, `None` and
//! the tests say so and pass vacuously. Shared by the root package's tests and the local
//! gateway's (`#[path]`).
#![allow(dead_code)]

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use jwt_scopes_api::product_api::{DynamoStore, Precondition};
use jwt_scopes_api::{EmbeddedCatalog, ProductStore};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Server {
    pub endpoint: String,
    _child: Option<ChildGuard>,
}

pub struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn server() -> Option<Server> {
    if let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") {
        return Some(Server {
            endpoint,
            _child: None,
        });
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let guard = ChildGuard(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(Server {
        endpoint: format!("http://127.0.0.1:{port}"),
        _child: Some(guard),
    })
}

pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .build();
    Client::from_conf(config)
}

/// A new, empty table keyed by the string attribute `key`, named after `prefix`, and the server
/// behind it (stopped when dropped); `None`, said so, without a server.
pub async fn fresh_table(prefix: &str, key: &str) -> Option<(Server, Client, String)> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let Some(server) = server().await else {
        eprintln!("skipped: no DynamoDB server (install moto[server] or set DYNAMODB_ENDPOINT)");
        return None;
    };
    let client = client(&server.endpoint);
    let table = format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
    Some((server, client, table))
}

/// A store over a new, empty table, and the server behind it (stopped when dropped).
pub async fn fresh_store() -> Option<(Server, DynamoStore)> {
    let (server, client, table) = fresh_table("products", "name").await?;
    Some((server, DynamoStore::new(client, table)))
}

pub async fn seeded_store() -> Option<(Server, DynamoStore)> {
    let (server, store) = fresh_store().await?;
    for product in EmbeddedCatalog::products() {
        let written = store
            .put(product.clone(), Precondition::Absent)
            .await
            .unwrap();
        assert!(written.created && written.version == 1);
    }
    Some((server, store))
}
