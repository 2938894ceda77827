//! Seeds a DynamoDB products table with the embedded catalog; products already present are
//! left as they are.
//!
//! ```text
//! cargo run --example seed -- TABLE_NAME     # credentials, region, AWS_ENDPOINT_URL as for the AWS CLI
//! ```

use jwt_scopes_api::product_api::{DynamoStore, Precondition, StoreError};
use jwt_scopes_api::{EmbeddedCatalog, ProductStore};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let table = std::env::args()
        .nth(1)
        .ok_or("usage: cargo run --example seed -- TABLE_NAME")?;
    let store = DynamoStore::from_env(table.clone()).await;
    let (mut created, mut kept) = (0, 0);
    for product in EmbeddedCatalog::products() {
        match store.put(product.clone(), Precondition::Absent).await {
            Ok(_) => created += 1,
            Err(StoreError::Conflict) => kept += 1,
            Err(error) => return Err(format!("{}: {error:?}", product.name).into()),
        }
    }
    println!("{table}: {created} products created, {kept} already present");
    Ok(())
}
