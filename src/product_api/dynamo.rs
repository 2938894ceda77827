//! Products in a DynamoDB table, chosen at cold start when `PRODUCTS_TABLE` is set.
//!
//! Table: partition key `name` (S); attributes as in [`Product`] plus `version` (N), bumped by
//! every write in the same request that writes, so conditional writes (`If-Match`) cannot lose
//! an update. The endpoint, region and credentials come from the SDK's standard configuration
//! (`AWS_ENDPOINT_URL` points it at a local server).

use crate::product_api::products::{
    Page, Precondition, Product, ProductName, ProductStore, StoreError, Versioned, Written,
};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use std::collections::HashMap;
use std::time::Duration;

/// A product table; the SDK client is built once per cold start and shared.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

impl DynamoStore {
    /// Loads the SDK configuration from the environment, with bounds suited to an API: three
    /// attempts, 1 s to connect, 2 s per attempt, 5 s in all.
    pub async fn from_env(table: String) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(1))
            .operation_attempt_timeout(Duration::from_secs(2))
            .operation_timeout(Duration::from_secs(5))
            .build();
        let config = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .load()
            .await;
        DynamoStore::new(Client::new(&config), table)
    }

    /// A store over an existing client.
    pub fn new(client: Client, table: String) -> Self {
        DynamoStore { client, table }
    }

    /// The SDK client, e.g. to create the table in tests.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn name_key(name: &str) -> Item {
    HashMap::from([("name".to_owned(), AttributeValue::S(name.to_owned()))])
}

fn version_of(item: &Item) -> u64 {
    match item.get("version") {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

fn product_of(mut item: Item) -> Result<Versioned, StoreError> {
    let version = version_of(&item);
    item.remove("version");
    let product = serde_dynamo::from_item(item)
        .map_err(|e| StoreError::Failed(format!("unreadable item: {e}")))?;
    Ok(Versioned { product, version })
}

/// Throttling, timeouts and connection failures are worth a retry (503); the rest is not (500).
fn store_error<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> StoreError {
    let code = error.code().unwrap_or_default().to_owned();
    match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            StoreError::Unavailable(format!("{error:?}"))
        }
        _ if code == "ConditionalCheckFailedException" => StoreError::Conflict,
        _ if matches!(
            code.as_str(),
            "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
        ) =>
        {
            StoreError::Unavailable(code)
        }
        _ => StoreError::Failed(format!(
            "{code}: {}",
            error.message().unwrap_or("no message")
        )),
    }
}

impl ProductStore for DynamoStore {
    async fn list(&self, limit: usize, after: Option<&str>) -> Result<Page, StoreError> {
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .limit(limit.min(i32::MAX as usize) as i32)
            .set_exclusive_start_key(after.map(name_key))
            .send()
            .await
            .map_err(store_error)?;
        let products = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| product_of(item).map(|v| v.product))
            .collect::<Result<Vec<Product>, _>>()?;
        let last = output
            .last_evaluated_key
            .and_then(|key| match key.get("name") {
                Some(AttributeValue::S(name)) => Some(name.clone()),
                _ => None,
            });
        Ok(Page { products, last })
    }

    async fn get(&self, name: &ProductName) -> Result<Option<Versioned>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(name_key(name.as_str())))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        output.item.map(product_of).transpose()
    }

    async fn put(
        &self,
        product: Product,
        precondition: Precondition,
    ) -> Result<Written, StoreError> {
        let mut item: Item = serde_dynamo::to_item(&product)
            .map_err(|e| StoreError::Failed(format!("unwritable product: {e}")))?;
        item.remove("name");
        let mut names = HashMap::from([("#version".to_owned(), "version".to_owned())]);
        let mut values = HashMap::from([
            (":zero".to_owned(), AttributeValue::N("0".into())),
            (":one".to_owned(), AttributeValue::N("1".into())),
        ]);
        let mut sets = vec!["#version = if_not_exists(#version, :zero) + :one".to_owned()];
        for (i, (attribute, value)) in item.into_iter().enumerate() {
            sets.push(format!("#a{i} = :a{i}"));
            names.insert(format!("#a{i}"), attribute);
            values.insert(format!(":a{i}"), value);
        }
        let condition = match precondition {
            Precondition::None => None,
            Precondition::Version(version) => {
                values.insert(":expected".into(), AttributeValue::N(version.to_string()));
                Some("#version = :expected")
            }
            Precondition::Absent => {
                names.insert("#key".into(), "name".into());
                Some("attribute_not_exists(#key)")
            }
        };
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(name_key(&product.name)))
            .update_expression(format!("SET {}", sets.join(", ")))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(store_error)?;
        let old = output.attributes.unwrap_or_default();
        Ok(Written {
            created: old.is_empty(),
            version: version_of(&old) + 1,
        })
    }

    async fn delete(
        &self,
        name: &ProductName,
        precondition: Precondition,
    ) -> Result<bool, StoreError> {
        let (condition, names, values) = match precondition {
            Precondition::Version(version) => (
                Some("#version = :expected".to_owned()),
                Some(HashMap::from([(
                    "#version".to_owned(),
                    "version".to_owned(),
                )])),
                Some(HashMap::from([(
                    ":expected".to_owned(),
                    AttributeValue::N(version.to_string()),
                )])),
            ),
            Precondition::Absent => return Err(StoreError::Conflict),
            Precondition::None => (None, None, None),
        };
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(name_key(name.as_str())))
            .set_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(store_error)?;
        Ok(output.attributes.is_some_and(|old| !old.is_empty()))
    }
}
