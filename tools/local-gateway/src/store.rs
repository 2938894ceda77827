//! Where the local gateway keeps products: in memory by default (seeded from the embedded
//! catalog, so writes work right after start-up), a DynamoDB table with `--table`, or the
//! read-only embedded catalog the Lambda serves without `PRODUCTS_TABLE` (`--read-only`).

use jwt_scopes_api::EmbeddedCatalog;
use jwt_scopes_api::product_api::{
    DynamoStore, Page, Precondition, Product, ProductName, ProductStore, StoreError, Versioned,
    Written,
};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Products in memory, in name order, with the semantics of the DynamoDB store: versions start
/// at 1 and every write adds one; `If-Match` fails on a missing product; `If-None-Match: *`
/// never matches a delete. Clones share the same products. Lost when the process ends.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    products: Arc<Mutex<BTreeMap<String, Versioned>>>,
}

impl MemoryStore {
    /// The embedded catalog, every product at version 1 (as the catalog reports it).
    pub fn seeded() -> MemoryStore {
        let products = EmbeddedCatalog::products()
            .iter()
            .map(|product| {
                let versioned = Versioned {
                    product: product.clone(),
                    version: 1,
                };
                (product.name.clone(), versioned)
            })
            .collect();
        MemoryStore {
            products: Arc::new(Mutex::new(products)),
        }
    }

    /// The lock is only ever held by synchronous code, never across an `.await`; a panic while
    /// holding it leaves a consistent map (every change is one `insert` or `remove`).
    fn products(&self) -> MutexGuard<'_, BTreeMap<String, Versioned>> {
        self.products.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether a write conditioned by `precondition` may go ahead over the stored `version`.
fn holds(precondition: Precondition, version: Option<u64>) -> bool {
    match precondition {
        Precondition::None => true,
        Precondition::Version(expected) => version == Some(expected),
        Precondition::Absent => version.is_none(),
    }
}

impl ProductStore for MemoryStore {
    async fn list(&self, limit: usize, after: Option<&str>) -> Result<Page, StoreError> {
        let products = self.products();
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut rest = products.range::<str, _>((start, Bound::Unbounded));
        let page: Vec<Product> = rest
            .by_ref()
            .take(limit)
            .map(|(_, stored)| stored.product.clone())
            .collect();
        let more = rest.next().is_some();
        let last = page.last().filter(|_| more).map(|p| p.name.clone());
        Ok(Page {
            products: page,
            last,
        })
    }

    async fn get(&self, name: &ProductName) -> Result<Option<Versioned>, StoreError> {
        Ok(self.products().get(name.as_str()).cloned())
    }

    async fn put(
        &self,
        product: Product,
        precondition: Precondition,
    ) -> Result<Written, StoreError> {
        let mut products = self.products();
        let current = products.get(&product.name).map(|stored| stored.version);
        if !holds(precondition, current) {
            return Err(StoreError::Conflict);
        }
        let version = current.unwrap_or(0) + 1;
        products.insert(product.name.clone(), Versioned { product, version });
        Ok(Written {
            created: current.is_none(),
            version,
        })
    }

    async fn delete(
        &self,
        name: &ProductName,
        precondition: Precondition,
    ) -> Result<bool, StoreError> {
        if precondition == Precondition::Absent {
            return Err(StoreError::Conflict);
        }
        let mut products = self.products();
        let current = products.get(name.as_str()).map(|stored| stored.version);
        if !holds(precondition, current) {
            return Err(StoreError::Conflict);
        }
        Ok(products.remove(name.as_str()).is_some())
    }
}

/// The store behind a gateway.
#[derive(Clone, Debug)]
pub enum GatewayStore {
    /// In memory, seeded from the embedded catalog (the default).
    Memory(MemoryStore),
    /// The embedded catalog, read-only: writes answer 501, as the Lambda without a table.
    Catalog(EmbeddedCatalog),
    /// A DynamoDB table.
    Dynamo(DynamoStore),
}

impl Default for GatewayStore {
    fn default() -> Self {
        GatewayStore::Memory(MemoryStore::seeded())
    }
}

impl ProductStore for GatewayStore {
    async fn list(&self, limit: usize, after: Option<&str>) -> Result<Page, StoreError> {
        match self {
            GatewayStore::Memory(store) => store.list(limit, after).await,
            GatewayStore::Catalog(store) => store.list(limit, after).await,
            GatewayStore::Dynamo(store) => store.list(limit, after).await,
        }
    }

    async fn get(&self, name: &ProductName) -> Result<Option<Versioned>, StoreError> {
        match self {
            GatewayStore::Memory(store) => store.get(name).await,
            GatewayStore::Catalog(store) => store.get(name).await,
            GatewayStore::Dynamo(store) => store.get(name).await,
        }
    }

    async fn put(
        &self,
        product: Product,
        precondition: Precondition,
    ) -> Result<Written, StoreError> {
        match self {
            GatewayStore::Memory(store) => store.put(product, precondition).await,
            GatewayStore::Catalog(store) => store.put(product, precondition).await,
            GatewayStore::Dynamo(store) => store.put(product, precondition).await,
        }
    }

    async fn delete(
        &self,
        name: &ProductName,
        precondition: Precondition,
    ) -> Result<bool, StoreError> {
        match self {
            GatewayStore::Memory(store) => store.delete(name, precondition).await,
            GatewayStore::Catalog(store) => store.delete(name, precondition).await,
            GatewayStore::Dynamo(store) => store.delete(name, precondition).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> ProductName {
        ProductName::parse(text).unwrap()
    }

    fn product(text: &str) -> Product {
        let mut product = EmbeddedCatalog::products()[0].clone();
        product.name = text.to_owned();
        product
    }

    #[tokio::test]
    async fn seeded_from_the_catalog_and_pages_like_it() {
        let store = MemoryStore::seeded();
        let (mut seen, mut after) = (Vec::new(), None);
        loop {
            let page = store.list(5, after.as_deref()).await.unwrap();
            let expected = EmbeddedCatalog.list(5, after.as_deref()).await.unwrap();
            assert_eq!(page, expected);
            seen.extend(page.products.into_iter().map(|p| p.name));
            match page.last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        assert_eq!(seen.len(), EmbeddedCatalog::products().len());
        let first = &EmbeddedCatalog::products()[0];
        let found = store.get(&name(&first.name)).await.unwrap().unwrap();
        assert_eq!((&found.product, found.version), (first, 1));
    }

    #[tokio::test]
    async fn versions_and_preconditions_as_the_dynamodb_store() {
        use Precondition::{Absent, None as Always, Version};
        let store = MemoryStore::default();
        // `None`: refused with a conflict (412).
        let written = |created, version| Some(Written { created, version });
        let puts = [
            (Version(1), None),
            (Absent, written(true, 1)),
            (Absent, None),
            (Version(2), None),
            (Version(1), written(false, 2)),
            (Always, written(false, 3)),
        ];
        for (precondition, expected) in puts {
            let result = store.put(product("a"), precondition).await;
            assert_eq!(
                result,
                expected.ok_or(StoreError::Conflict),
                "put {precondition:?}"
            );
        }
        let deletes = [
            (Absent, None),
            (Version(2), None),
            (Version(3), Some(true)),
            (Version(3), None),
            (Always, Some(false)),
        ];
        for (precondition, expected) in deletes {
            let result = store.delete(&name("a"), precondition).await;
            assert_eq!(
                result,
                expected.ok_or(StoreError::Conflict),
                "delete {precondition:?}"
            );
        }
        assert_eq!(store.get(&name("a")).await, Ok(None));
        let recreated = store.put(product("a"), Always).await;
        assert_eq!(
            recreated,
            Ok(Written {
                created: true,
                version: 1
            })
        );
    }
}
