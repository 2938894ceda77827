//! Products and where they are kept: the [`ProductStore`] trait and the catalog compiled into the
//! binary, which is the default store for local runs and the sample events.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::LazyLock;

/// Longest product name accepted, in bytes (after percent-decoding).
pub const MAX_NAME_LEN: usize = 64;

/// Default page of `GET /products`.
pub const DEFAULT_PAGE: usize = 50;
/// Largest `limit` accepted.
pub const MAX_PAGE: usize = 100;

/// Largest product body accepted by `PUT`, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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
    pub fn detail(self) -> Cow<'static, str> {
        match self {
            NameError::Empty => "The product name is empty.".into(),
            NameError::TooLong => {
                format!("The product name is longer than {MAX_NAME_LEN} characters.").into()
            }
            NameError::BadCharacter => {
                "The product name may only contain letters, digits, '.', '_' and '-', and must start with a letter or digit.".into()
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

impl Product {
    /// Everything wrong with a product that parsed, one `field: problem` line each, so a client
    /// can fix all of it in one round trip.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut text = |field: &str, value: &str, max: usize| {
            if value.trim().is_empty() || value.chars().count() > max {
                problems.push(format!("{field}: must be 1 to {max} characters"));
            }
        };
        text("displayName", &self.display_name, 200);
        text("category", &self.category, 50);
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            problems.push("currency: must be an ISO 4217 code such as EUR".into());
        }
        if self.price_cents > MAX_PRICE_CENTS {
            problems.push(format!("priceCents: must be at most {MAX_PRICE_CENTS}"));
        }
        if self.stock > MAX_STOCK {
            problems.push(format!("stock: must be at most {MAX_STOCK}"));
        }
        if self.specifications.len() > MAX_SPECIFICATIONS {
            problems.push(format!(
                "specifications: at most {MAX_SPECIFICATIONS} entries"
            ));
        }
        for (key, value) in &self.specifications {
            if key.trim().is_empty() || key.chars().count() > 64 || value.chars().count() > 500 {
                problems.push(format!(
                    "specifications.{}: names 1 to 64 characters, values up to 500",
                    key.chars().take(64).collect::<String>()
                ));
            }
        }
        problems
    }
}

/// Highest `priceCents` accepted.
pub const MAX_PRICE_CENTS: u64 = 100_000_000_000;
/// Highest `stock` accepted.
pub const MAX_STOCK: u64 = 1_000_000_000;
/// Most `specifications` entries accepted.
pub const MAX_SPECIFICATIONS: usize = 50;

/// A product with the version its store holds; the version is the `ETag`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versioned {
    /// The product.
    pub product: Product,
    /// Incremented by every write; 1 for a new product.
    pub version: u64,
}

/// One page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// Products of this page.
    pub products: Vec<Product>,
    /// Name of the last product when more may follow: the next page starts after it.
    pub last: Option<String>,
}

/// A write's condition, from `If-Match` / `If-None-Match`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// Unconditional.
    None,
    /// Only if the stored version is this one (`If-Match`).
    Version(u64),
    /// Only if there is no such product (`If-None-Match: *`).
    Absent,
}

/// What a successful `put` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// Whether the product is new.
    pub created: bool,
    /// Its version now.
    pub version: u64,
}

/// What a store can fail with. Callers map these to answers in one place (`problem`).
#[derive(Debug, PartialEq, Eq)]
pub enum StoreError {
    /// This store cannot write (the embedded catalog).
    ReadOnly,
    /// The write's precondition does not hold.
    Conflict,
    /// The backing service is throttling, slow or unreachable: worth retrying. The cause is for
    /// the log, never for the caller.
    Unavailable(String),
    /// Anything else (missing table, permissions): not worth retrying.
    Failed(String),
}

/// Where products are kept. Implementations are shared by concurrent invocations.
pub trait ProductStore: Send + Sync + 'static {
    /// Up to `limit` products after the one named `after`, in the store's order.
    fn list(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> impl Future<Output = Result<Page, StoreError>> + Send;
    /// One product by name.
    fn get(
        &self,
        name: &ProductName,
    ) -> impl Future<Output = Result<Option<Versioned>, StoreError>> + Send;
    /// Creates or replaces a product if `precondition` holds.
    fn put(
        &self,
        product: Product,
        precondition: Precondition,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;
    /// Removes a product if `precondition` holds; `Ok(false)` if there was none.
    fn delete(
        &self,
        name: &ProductName,
        precondition: Precondition,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The catalog in `data/products.json`, compiled in and parsed on first use. Read-only; every
/// product is at version 1.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbeddedCatalog;

static CATALOG: LazyLock<Vec<Product>> = LazyLock::new(|| {
    let mut products: Vec<Product> = serde_json::from_str(include_str!("../../data/products.json"))
        .expect("data/products.json is a valid catalog");
    products.sort_by(|a, b| a.name.cmp(&b.name));
    products
});

impl EmbeddedCatalog {
    /// Every product of the catalog, e.g. to seed a table.
    pub fn products() -> &'static [Product] {
        &CATALOG
    }
}

impl ProductStore for EmbeddedCatalog {
    async fn list(&self, limit: usize, after: Option<&str>) -> Result<Page, StoreError> {
        let start = after.map_or(0, |after| {
            CATALOG.partition_point(|p| p.name.as_str() <= after)
        });
        let products: Vec<Product> = CATALOG[start..].iter().take(limit).cloned().collect();
        let more = start + products.len() < CATALOG.len();
        let last = more
            .then(|| products.last().map(|p| p.name.clone()))
            .flatten();
        Ok(Page { products, last })
    }

    async fn get(&self, name: &ProductName) -> Result<Option<Versioned>, StoreError> {
        let found = CATALOG.binary_search_by(|p| p.name.as_str().cmp(name.as_str()));
        Ok(found.ok().map(|i| Versioned {
            product: CATALOG[i].clone(),
            version: 1,
        }))
    }

    async fn put(
        &self,
        _product: Product,
        _precondition: Precondition,
    ) -> Result<Written, StoreError> {
        Err(StoreError::ReadOnly)
    }

    async fn delete(
        &self,
        _name: &ProductName,
        _precondition: Precondition,
    ) -> Result<bool, StoreError> {
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
        let found = store.get(&name).await.unwrap().unwrap();
        assert_eq!(
            (found.product.name.as_str(), found.version),
            ("nvme-ssd-1tb", 1)
        );
        assert!(
            store
                .get(&ProductName::parse("nope").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store.delete(&name, Precondition::None).await,
            Err(StoreError::ReadOnly)
        );
        assert_eq!(
            store.put(found.product, Precondition::Absent).await,
            Err(StoreError::ReadOnly)
        );
    }

    #[tokio::test]
    async fn embedded_catalog_pages_in_name_order() {
        let store = EmbeddedCatalog;
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store.list(5, after.as_deref()).await.unwrap();
            assert!(page.products.len() <= 5);
            seen.extend(page.products.iter().map(|p| p.name.clone()));
            match page.last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        let all: Vec<String> = CATALOG.iter().map(|p| p.name.clone()).collect();
        assert_eq!(seen, all);
        assert_eq!(store.list(100, None).await.unwrap().last, None);
        assert!(
            store
                .list(5, Some("zzz"))
                .await
                .unwrap()
                .products
                .is_empty()
        );
    }

    #[test]
    fn validation_lists_every_problem() {
        let mut product = CATALOG[0].clone();
        assert!(product.problems().is_empty());
        product.display_name = " ".into();
        product.currency = "eur".into();
        product.stock = u64::MAX;
        product.specifications.insert(String::new(), "x".into());
        let problems = product.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("displayName:"));
    }
}
