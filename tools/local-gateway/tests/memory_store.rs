//! The in-memory store answers as the DynamoDB store does: the same sequence of writes, reads
//! and listings against both, compared result for result. Needs a DynamoDB-compatible server
//! (`DYNAMODB_ENDPOINT`, or `moto_server` on the PATH); without one the test says so and passes.

#[path = "../../../tests/support/dynamodb.rs"]
mod dynamodb;

use jwt_scopes_api::product_api::{Precondition, Product, ProductName};
use jwt_scopes_api::{EmbeddedCatalog, ProductStore};
use local_gateway::MemoryStore;
use std::collections::BTreeSet;

fn product(name: &str, stock: u64) -> Product {
    let mut product = EmbeddedCatalog::products()[0].clone();
    product.name = name.to_owned();
    product.stock = stock;
    product
}

/// Every product name, following the cursors (DynamoDB scans in hash order, so as a set).
async fn all_names(store: &impl ProductStore) -> BTreeSet<String> {
    let (mut names, mut after) = (BTreeSet::new(), None::<String>);
    loop {
        let page = store.list(3, after.as_deref()).await.unwrap();
        names.extend(page.products.into_iter().map(|p| p.name));
        match page.last {
            Some(last) => after = Some(last),
            None => return names,
        }
    }
}

#[tokio::test]
async fn the_memory_store_answers_as_the_dynamodb_store() {
    let Some((_server, dynamo)) = dynamodb::seeded_store().await else {
        return;
    };
    let memory = MemoryStore::seeded();
    let seeded = EmbeddedCatalog::products()[1].name.clone();
    use Precondition::{Absent, None as Always, Version};
    let writes = [
        ("new", 1, Version(1)),
        ("new", 1, Absent),
        ("new", 2, Absent),
        ("new", 3, Version(2)),
        ("new", 4, Version(1)),
        ("new", 5, Always),
        (seeded.as_str(), 6, Version(1)),
        (seeded.as_str(), 7, Version(1)),
        (seeded.as_str(), 8, Absent),
    ];
    for (name, stock, precondition) in writes {
        let context = format!("put {name} {precondition:?}");
        let expected = dynamo.put(product(name, stock), precondition).await;
        assert_eq!(
            memory.put(product(name, stock), precondition).await,
            expected,
            "{context}"
        );
        let key = ProductName::parse(name).unwrap();
        assert_eq!(
            memory.get(&key).await,
            dynamo.get(&key).await,
            "get after {context}"
        );
    }
    assert_eq!(all_names(&memory).await, all_names(&dynamo).await);
    let deletes = [
        ("new", Absent),
        ("new", Version(1)),
        ("new", Version(3)),
        ("new", Version(3)),
        ("new", Always),
        ("missing", Version(1)),
        ("missing", Always),
        (seeded.as_str(), Always),
    ];
    for (name, precondition) in deletes {
        let key = ProductName::parse(name).unwrap();
        let expected = dynamo.delete(&key, precondition).await;
        assert_eq!(
            memory.delete(&key, precondition).await,
            expected,
            "delete {name} {precondition:?}"
        );
        assert_eq!(memory.get(&key).await, dynamo.get(&key).await, "get {name}");
    }
    assert_eq!(all_names(&memory).await, all_names(&dynamo).await);
}
