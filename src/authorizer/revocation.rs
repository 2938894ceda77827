//! Revocation that takes effect before a token expires: a DynamoDB table (`AUTH_REVOCATION_TABLE`)
//! read on every decision for a verified JWT.
//!
//! The table has the string partition key `pk`. Two kinds of item revoke:
//!
//! - `pk = "jti#{iss}#{jti}"`: that one token (RFC 7519 §4.1.7 `jti`);
//! - `pk = "sub#{iss}#{sub}"` with the number `revokedBefore` (seconds since the epoch): every
//!   token of that subject whose `iat` is at or before it ("sign out everywhere"). A token
//!   without `iat` cannot show it came later, and an item without a readable `revokedBefore`
//!   says nothing about when: both are revoked.
//!
//! Items carry the TTL attribute `expiresAt` for DynamoDB to delete them once the tokens they
//! name have expired; that is housekeeping only: an item past `expiresAt` but not yet deleted
//! still revokes (DynamoDB deletes expired items within days, not at once).
//!
//! One `BatchGetItem` reads both keys, strongly consistent, so a revocation written a moment ago
//! is seen. The answer "not revoked" is never cached: revocation takes effect at the next request
//! that reaches the authorizer. A table that cannot be read refuses the token (fail closed).
//! Opaque tokens are not looked up here: they are revoked at their issuer, and introspection
//! says so ([`crate::authorizer::introspection`]).
//!
//! The items come from the table, or from any other [`RevocationItems`] answering in the
//! table's shape: the local gateway keeps them in memory, so its development issuer can revoke
//! without a DynamoDB server.

use crate::authorizer::dynamodb::{TableError, Tables};
use crate::authorizer::metrics::Dependency;
use crate::token::{TokenClaims, TokenError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Arc;

/// The partition key attribute.
pub const KEY: &str = "pk";
/// The number attribute of a subject item: tokens issued at or before it are revoked.
pub const REVOKED_BEFORE: &str = "revokedBefore";

/// A revocation item as the table holds it: `pk`, and `revokedBefore` for a subject.
pub type Item = HashMap<String, AttributeValue>;

/// Where revocation items are read when they are not in a DynamoDB table (the local gateway's
/// store in memory). Shared by concurrent decisions.
pub trait RevocationItems: Send + Sync {
    /// The items held under these partition keys (a token's `jti#…` and `sub#…`), in one read;
    /// an error refuses the token, as an unreadable table does.
    fn read<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<Item>, TableError>>;
}

/// The keys a token is looked up by: its own (`jti#…`, when it has a `jti`) and its subject's
/// (`sub#…`, when it has a `sub`). `None` for a token with neither: nothing could revoke it.
pub fn keys_of(claims: &TokenClaims) -> Option<Keys> {
    let iss = claims.iss.as_deref().unwrap_or_default();
    let keys = Keys {
        token: claims.jti.as_ref().map(|jti| format!("jti#{iss}#{jti}")),
        subject: claims.sub.as_ref().map(|sub| format!("sub#{iss}#{sub}")),
    };
    (keys.token.is_some() || keys.subject.is_some()).then_some(keys)
}

/// A token's revocation keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// `jti#{iss}#{jti}`.
    pub token: Option<String>,
    /// `sub#{iss}#{sub}`.
    pub subject: Option<String>,
}

/// Whether `found` (the items the table holds for `keys`) revokes a token issued at `iat`.
/// Pure: the decision apart from the I/O.
pub fn is_revoked(keys: &Keys, found: &[Item], iat: Option<f64>) -> bool {
    found.iter().any(|item| {
        let pk = match item.get(KEY) {
            Some(AttributeValue::S(pk)) => Some(pk.as_str()),
            _ => None,
        };
        if pk.is_some() && pk == keys.token.as_deref() {
            return true;
        }
        if pk.is_none() || pk != keys.subject.as_deref() {
            return false;
        }
        let before = match item.get(REVOKED_BEFORE) {
            Some(AttributeValue::N(n)) => n.parse::<f64>().ok(),
            _ => None,
        };
        match (before, iat) {
            (Some(before), Some(iat)) => iat <= before,
            _ => true,
        }
    })
}

/// Where the revocation items are read.
pub enum RevocationStore {
    /// The table of that name (`AUTH_REVOCATION_TABLE`), through the shared client.
    Table(String),
    /// Items held elsewhere ([`crate::authorizer::Authorizer::with_revocation_items`]).
    Items(Arc<dyn RevocationItems>),
}

impl RevocationStore {
    /// Refuses a verified token the items revoke, or any token when they cannot be read (a
    /// table through `tables`; none given: the authorizer was built without a client).
    pub async fn check(
        &self,
        tables: Option<&Tables>,
        claims: &TokenClaims,
    ) -> Result<(), TokenError> {
        let Some(keys) = keys_of(claims) else {
            return Ok(());
        };
        let names: Vec<String> = [&keys.token, &keys.subject]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let found = match self {
            RevocationStore::Table(table) => {
                let Some(tables) = tables else {
                    tracing::error!(%table, "revocation table configured but no DynamoDB client given");
                    return Err(TokenError::RevocationUnavailable);
                };
                // Boxed: the SDK's request future, inlined into the runtime's task, trips
                // rustc's `Send` inference ("implementation of `Send` is not general enough").
                let read = read_table(table, tables, &names).boxed();
                tables.call(Dependency::RevocationTable, read).await
            }
            RevocationStore::Items(items) => items.read(&names).await,
        };
        let found = found.map_err(|error| {
            tracing::warn!(%error, "revocation items unavailable");
            TokenError::RevocationUnavailable
        })?;
        if is_revoked(&keys, &found, claims.iat) {
            return Err(TokenError::Revoked);
        }
        Ok(())
    }
}

/// One strongly consistent `BatchGetItem` of `keys`; unprocessed keys (throttling) fail it.
async fn read_table(
    table: &str,
    tables: &Tables,
    keys: &[String],
) -> Result<Vec<Item>, TableError> {
    let keys = keys
        .iter()
        .map(|pk| HashMap::from([(KEY.to_owned(), AttributeValue::S(pk.clone()))]))
        .collect();
    let request = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .projection_expression("#k, #r")
        .expression_attribute_names("#k", KEY)
        .expression_attribute_names("#r", REVOKED_BEFORE)
        .build()
        .map_err(|e| TableError::new(e.to_string()))?;
    let output = tables
        .client()
        .batch_get_item()
        .request_items(table, request)
        .send()
        .await?;
    if output
        .unprocessed_keys
        .as_ref()
        .is_some_and(|keys| !keys.is_empty())
    {
        return Err(TableError::new("unprocessed keys (throttled)"));
    }
    Ok(output
        .responses
        .and_then(|mut tables| tables.remove(table))
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(jti: Option<&str>, sub: Option<&str>) -> TokenClaims {
        TokenClaims {
            iss: Some("https://issuer.test/".into()),
            jti: jti.map(Into::into),
            sub: sub.map(Into::into),
            ..TokenClaims::default()
        }
    }

    fn item(pk: &str, revoked_before: Option<AttributeValue>) -> Item {
        let mut item = HashMap::from([(KEY.to_owned(), AttributeValue::S(pk.into()))]);
        if let Some(value) = revoked_before {
            item.insert(REVOKED_BEFORE.into(), value);
        }
        item
    }

    #[test]
    fn keys_name_the_issuer_and_the_token_or_subject() {
        let keys = keys_of(&claims(Some("t1"), Some("u1"))).unwrap();
        assert_eq!(keys.token.as_deref(), Some("jti#https://issuer.test/#t1"));
        assert_eq!(keys.subject.as_deref(), Some("sub#https://issuer.test/#u1"));
        let subject_only = keys_of(&claims(None, Some("u1"))).unwrap();
        assert_eq!(subject_only.token, None);
        assert_eq!(keys_of(&claims(None, None)), None);
    }

    #[test]
    fn a_jti_item_revokes_that_token() {
        let keys = keys_of(&claims(Some("t1"), Some("u1"))).unwrap();
        let found = [item("jti#https://issuer.test/#t1", None)];
        assert!(is_revoked(&keys, &found, Some(1000.0)));
        assert!(!is_revoked(&keys, &[], Some(1000.0)));
        let other = [item("jti#https://issuer.test/#t2", None)];
        assert!(!is_revoked(&keys, &other, Some(1000.0)));
    }

    #[test]
    fn a_subject_item_revokes_tokens_issued_at_or_before_it() {
        let keys = keys_of(&claims(None, Some("u1"))).unwrap();
        let at = |n: &str| {
            [item(
                "sub#https://issuer.test/#u1",
                Some(AttributeValue::N(n.into())),
            )]
        };
        assert!(is_revoked(&keys, &at("1000"), Some(999.0)));
        assert!(is_revoked(&keys, &at("1000"), Some(1000.0)), "at: revoked");
        assert!(!is_revoked(&keys, &at("1000"), Some(1001.0)));
        assert!(is_revoked(&keys, &at("1000"), None), "no iat: revoked");
    }

    #[test]
    fn an_unreadable_subject_item_fails_closed() {
        let keys = keys_of(&claims(None, Some("u1"))).unwrap();
        for value in [
            None,
            Some(AttributeValue::S("1000".into())),
            Some(AttributeValue::N("soon".into())),
        ] {
            let found = [item("sub#https://issuer.test/#u1", value.clone())];
            assert!(is_revoked(&keys, &found, Some(2000.0)), "{value:?}");
        }
    }
}
