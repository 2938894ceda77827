//! Products and where they are kept: the [`ProductStore`] trait and the catalog compiled into the
//! binary, which is the default store for local runs and the sample events.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::LazyLock;

/// Longest product name accepted, in bytes (after percent-decoding).
pub const MAX_NAME_LEN: usize = 64;

/// A product in the inventory. `name` is its key and its URL segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Product {
    /// Key, as it appears in `/product/{name}`.
    pub name: String,
    /// Human-readable title.
    pub display_name: String,
    /// Catalog section.
    pub category: String,
    /// Price in minor units (cents), so no float rounding touches money.
    pub price_cents: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// Units on hand.
    pub stock: u64,
    /// Technical specification, name to value.
    pub specifications: BTreeMap<String, String>,
}

/// A product name that passed [`ProductName::parse`]: safe to log, to key a table and to echo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductName(String);

/// Why a `{name}` path segment was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// Empty after decoding.
    Empty,
    /// Longer than [`MAX_NAME_LEN`].
    TooLong,
    /// Not valid percent-encoded UTF-8, or a character outside `A-Z a-z 0-9 . _ -`.
    BadCharacter,
}

impl NameError {
    /// A sentence for the problem body; says what is allowed without echoing the input.
    pub fn detail(self) -> &'static str {
        match self {
            NameError::Empty => "The product name is empty.",
            NameError::TooLong => "The product name is longer than 64 characters.",
            NameError::BadCharacter => {
                "The product name may only contain letters, digits, '.', '_' and '-', and must start with a letter or digit."
            }
        }
    }
}

impl ProductName {
    /// Percent-decodes a path segment once and checks it. REST, ALB and function URLs pass the
    /// segment encoded; HTTP APIs pass it already decoded, so there a name holding a literal `%`
    /// sequence is decoded a second time, which the character check makes harmless.
    pub fn parse(raw_segment: &str) -> Result<Self, NameError> {
        if raw_segment.len() > MAX_NAME_LEN * 3 {
            return Err(NameError::TooLong);
        }
        let decoded = percent_encoding::percent_decode_str(raw_segment)
            .decode_utf8()
            .map_err(|_| NameError::BadCharacter)?;
        let name = decoded.as_ref();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.chars().all(allowed) {
            return Err(NameError::BadCharacter);
        }
        Ok(ProductName(name.to_owned()))
    }

    /// The decoded name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a store can fail with. Callers map these to answers in one place (`problem`).
#[derive(Debug)]
pub enum StoreError {
    /// This store cannot write (the embedded catalog).
    ReadOnly,
    /// The backing service failed; the cause goes to the log, not to the caller.
    Unavailable(String),
}

/// Where products are kept. Implementations are shared by concurrent invocations.
pub trait ProductStore: Send + Sync + 'static {
    /// Every product, in name order.
    fn list(&self) -> impl Future<Output = Result<Vec<Product>, StoreError>> + Send;
    /// One product by name.
    fn get(
        &self,
        name: &ProductName,
    ) -> impl Future<Output = Result<Option<Product>, StoreError>> + Send;
    /// Creates or replaces a product; `Ok(true)` if it was created.
    fn put(&self, product: Product) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Removes a product; `Ok(false)` if there was none.
    fn delete(&self, name: &ProductName) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The catalog in `data/products.json`, compiled in and parsed on first use.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbeddedCatalog;

static CATALOG: LazyLock<Vec<Product>> = LazyLock::new(|| {
    let mut products: Vec<Product> = serde_json::from_str(include_str!("../data/products.json"))
        .expect("data/products.json is a valid catalog");
    products.sort_by(|a, b| a.name.cmp(&b.name));
    products
});

impl ProductStore for EmbeddedCatalog {
    async fn list(&self) -> Result<Vec<Product>, StoreError> {
        Ok(CATALOG.clone())
    }

    async fn get(&self, name: &ProductName) -> Result<Option<Product>, StoreError> {
        let found = CATALOG.binary_search_by(|p| p.name.as_str().cmp(name.as_str()));
        Ok(found.ok().map(|i| CATALOG[i].clone()))
    }

    async fn put(&self, _product: Product) -> Result<bool, StoreError> {
        Err(StoreError::ReadOnly)
    }

    async fn delete(&self, _name: &ProductName) -> Result<bool, StoreError> {
        Err(StoreError::ReadOnly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_parses_and_every_name_is_valid_and_unique() {
        assert!(CATALOG.len() >= 12);
        for pair in CATALOG.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "duplicate or unsorted {}",
                pair[1].name
            );
        }
        for product in CATALOG.iter() {
            assert_eq!(
                ProductName::parse(&product.name).unwrap().as_str(),
                product.name
            );
            assert!(
                !product.specifications.is_empty(),
                "{} has no specifications",
                product.name
            );
        }
    }

    #[test]
    fn names_are_decoded_once_and_checked() {
        assert_eq!(
            ProductName::parse("usb-c-cable-2m").unwrap().as_str(),
            "usb-c-cable-2m"
        );
        assert_eq!(ProductName::parse("a%2Db").unwrap().as_str(), "a-b");
        assert_eq!(ProductName::parse("a%252Db"), Err(NameError::BadCharacter));
        assert_eq!(ProductName::parse(""), Err(NameError::Empty));
        assert_eq!(ProductName::parse(&"a".repeat(65)), Err(NameError::TooLong));
        assert_eq!(
            ProductName::parse(&"%41".repeat(65)),
            Err(NameError::TooLong)
        );
        assert_eq!(
            ProductName::parse(&"%41".repeat(64)).unwrap().as_str(),
            "A".repeat(64)
        );
        for bad in [
            "a b",
            "a%20b",
            "..",
            ".hidden",
            "a/b",
            "a%2Fb",
            "%FF",
            "%",
            "caf%C3%A9",
            "a\u{0}",
            "<script>",
        ] {
            assert_eq!(
                ProductName::parse(bad),
                Err(NameError::BadCharacter),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn embedded_catalog_reads_and_refuses_writes() {
        let store = EmbeddedCatalog;
        let name = ProductName::parse("nvme-ssd-1tb").unwrap();
        assert_eq!(
            store.get(&name).await.unwrap().unwrap().name,
            "nvme-ssd-1tb"
        );
        assert!(
            store
                .get(&ProductName::parse("nope").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            store.delete(&name).await,
            Err(StoreError::ReadOnly)
        ));
        let product = store.get(&name).await.unwrap().unwrap();
        assert!(matches!(
            store.put(product).await,
            Err(StoreError::ReadOnly)
        ));
    }
}
