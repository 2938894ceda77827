//! The DynamoDB store and the write routes against a real DynamoDB-compatible server on
//! 127.0.0.1 (`support/dynamodb.rs`: `DYNAMODB_ENDPOINT`, or a `moto_server` each test starts
//! and stops; without either, the tests say so and pass vacuously). Every test creates its own
//! table.

use jwt_scopes_api::product_api::{DynamoStore, Precondition, ProductName, StoreError};
use jwt_scopes_api::{EmbeddedCatalog, ProductApi, ProductStore};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

#[path = "support/dynamodb.rs"]
mod dynamodb;

use dynamodb::{client, fresh_store, seeded_store, server};

fn name(text: &str) -> ProductName {
    ProductName::parse(text).unwrap()
}

#[tokio::test]
async fn create_replace_and_conditional_conflicts() {
    let Some((_server, store)) = fresh_store().await else {
        return;
    };
    let mut product = EmbeddedCatalog::products()[0].clone();
    let key = name(&product.name);
    assert!(store.get(&key).await.unwrap().is_none());

    let created = store
        .put(product.clone(), Precondition::None)
        .await
        .unwrap();
    assert_eq!((created.created, created.version), (true, 1));
    product.stock += 1;
    let replaced = store
        .put(product.clone(), Precondition::None)
        .await
        .unwrap();
    assert_eq!((replaced.created, replaced.version), (false, 2));
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!((stored.product, stored.version), (product.clone(), 2));

    assert_eq!(
        store.put(product.clone(), Precondition::Version(1)).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        store.put(product.clone(), Precondition::Absent).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        store
            .put(product.clone(), Precondition::Version(2))
            .await
            .unwrap()
            .version,
        3
    );

    assert_eq!(
        store.delete(&key, Precondition::Version(2)).await,
        Err(StoreError::Conflict)
    );
    assert!(store.delete(&key, Precondition::Version(3)).await.unwrap());
    assert!(!store.delete(&key, Precondition::None).await.unwrap());
    assert!(store.get(&key).await.unwrap().is_none());
}

#[tokio::test]
async fn pages_through_every_product() {
    let Some((_server, store)) = seeded_store().await else {
        return;
    };
    let mut seen = BTreeSet::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let page = store.list(5, after.as_deref()).await.unwrap();
        assert!(page.products.len() <= 5);
        seen.extend(page.products.into_iter().map(|p| p.name));
        match page.last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    let all: BTreeSet<String> = EmbeddedCatalog::products()
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(seen, all);
}

/// Sends an event (a sample from `events/product-api/`, edited) through the handler.
async fn call(api: &ProductApi<DynamoStore>, event: &Value) -> (u16, Value, Option<String>) {
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let response = api.handle(request).await;
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), body, etag)
}

fn sample(name: &str) -> Value {
    let path = format!(
        "{}/events/product-api/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn with(
    mut event: Value,
    method: &str,
    path: &str,
    query: &str,
    headers: Value,
    body: Option<&Value>,
) -> Value {
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    for (k, v) in headers.as_object().unwrap() {
        event["headers"][k] = v.clone();
    }
    event["body"] = body.map_or(Value::Null, |b| json!(b.to_string()));
    event
}

/// `event` (a writer's sample) re-aimed at `method path?query`, with extra headers and a body.
async fn send(
    api: &ProductApi<DynamoStore>,
    event: &Value,
    method: &str,
    path: &str,
    query: &str,
    headers: Value,
    body: Option<&Value>,
) -> (u16, Value, Option<String>) {
    call(
        api,
        &with(event.clone(), method, path, query, headers, body),
    )
    .await
}

#[tokio::test]
async fn every_route_works_end_to_end_through_the_handler() {
    let Some((_server, store)) = seeded_store().await else {
        return;
    };
    let api = ProductApi::new(store);
    let writer = sample("v2-jwt-put-product-read-only-catalog");
    let mut product = EmbeddedCatalog::products()[3].clone();
    let path = format!("/product/{}", product.name);
    let json_type = json!({"content-type": "application/json"});

    let (status, body, etag) = send(&api, &writer, "GET", &path, "", json!({}), None).await;
    assert_eq!(
        (status, body["name"].as_str(), etag.as_deref()),
        (200, Some(product.name.as_str()), Some("\"1\""))
    );

    product.stock = 7;
    let body_json = serde_json::to_value(&product).unwrap();
    let (status, body, etag) = send(
        &api,
        &writer,
        "PUT",
        &path,
        "",
        json!({"content-type": "application/json", "if-match": "\"1\""}),
        Some(&body_json),
    )
    .await;
    assert_eq!(
        (status, body["stock"].as_u64(), etag.as_deref()),
        (200, Some(7), Some("\"2\""))
    );

    let stale = send(
        &api,
        &writer,
        "PUT",
        &path,
        "",
        json!({"content-type": "application/json", "if-match": "\"1\""}),
        Some(&body_json),
    )
    .await;
    assert_eq!(stale.0, 412);
    assert_eq!(
        stale.1["type"],
        "urn:jwt-scopes-api:problem:precondition-failed"
    );

    let mut new_product = product.clone();
    new_product.name = "usb-c-cable-1m".into();
    let new_path = "/product/usb-c-cable-1m";
    let new_body = serde_json::to_value(&new_product).unwrap();
    let (status, _, etag) = send(
        &api,
        &writer,
        "PUT",
        new_path,
        "",
        json!({"content-type": "application/json", "if-none-match": "*"}),
        Some(&new_body),
    )
    .await;
    assert_eq!((status, etag.as_deref()), (201, Some("\"1\"")));
    let again = send(
        &api,
        &writer,
        "PUT",
        new_path,
        "",
        json!({"content-type": "application/json", "if-none-match": "*"}),
        Some(&new_body),
    )
    .await;
    assert_eq!(again.0, 412);

    let mut invalid = new_body.clone();
    invalid["currency"] = json!("euro");
    invalid["displayName"] = json!("");
    let (status, body, _) = send(
        &api,
        &writer,
        "PUT",
        new_path,
        "",
        json_type.clone(),
        Some(&invalid),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
    let (status, body, _) = send(
        &api,
        &writer,
        "PUT",
        new_path,
        "",
        json_type.clone(),
        Some(&json!({"name": 5})),
    )
    .await;
    assert_eq!((status, body["status"].as_u64()), (400, Some(400)));

    let (status, _, _) = send(&api, &writer, "DELETE", new_path, "", json!({}), None).await;
    assert_eq!(status, 204);
    let (status, _, _) = send(&api, &writer, "DELETE", new_path, "", json!({}), None).await;
    assert_eq!(status, 404);
    let (status, _, _) = send(&api, &writer, "GET", new_path, "", json!({}), None).await;
    assert_eq!(status, 404);

    let mut names = BTreeSet::new();
    let mut query = "limit=5".to_owned();
    loop {
        let (status, body, _) =
            send(&api, &writer, "GET", "/products", &query, json!({}), None).await;
        assert_eq!(status, 200, "{body}");
        let page = body["products"].as_array().unwrap();
        assert!(page.len() <= 5);
        names.extend(page.iter().map(|p| p["name"].as_str().unwrap().to_owned()));
        match body["next"].as_str() {
            Some(next) => query = format!("limit=5&next={next}"),
            None => break,
        }
    }
    assert_eq!(names.len(), EmbeddedCatalog::products().len());
    for bad in ["limit=0", "limit=101", "limit=x", "next=%21%21"] {
        let (status, _, _) = send(&api, &writer, "GET", "/products", bad, json!({}), None).await;
        assert_eq!(status, 400, "{bad}");
    }
}

/// `GET /product/nvme-ssd-1tb` with a reader's token.
async fn read_one_product(api: &ProductApi<DynamoStore>) -> (u16, Value, Option<String>) {
    let event = with(
        sample("v2-jwt-get-product"),
        "GET",
        "/product/nvme-ssd-1tb",
        "",
        json!({}),
        None,
    );
    call(api, &event).await
}

#[tokio::test]
async fn a_server_that_is_down_gives_503_quickly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = ProductApi::new(DynamoStore::new(
        client(&format!("http://127.0.0.1:{port}")),
        "products".into(),
    ));
    let started = Instant::now();
    let (status, body, _) = read_one_product(&api).await;
    assert_eq!(status, 503);
    assert_eq!(body["type"], "urn:jwt-scopes-api:problem:store-unavailable");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no internal detail: {body}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_missing_table_is_a_500_without_detail() {
    let Some(server) = server().await else { return };
    let api = ProductApi::new(DynamoStore::new(
        client(&server.endpoint),
        "no-such-table".into(),
    ));
    let (status, body, _) = read_one_product(&api).await;
    assert_eq!(status, 500);
    assert!(!body.to_string().contains("no-such-table"), "{body}");
}
