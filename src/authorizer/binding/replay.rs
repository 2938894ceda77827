//! Each DPoP proof used once (RFC 9449 §11.1): its key's thumbprint and `jti` remembered until
//! its window closes, in a bounded set in this process and, across the fleet, in a DynamoDB
//! table (`AUTH_REPLAY_TABLE`) by a conditional put.
//!
//! The table has the string partition key `pk` (`dpop#` and the base64url SHA-256 of the
//! thumbprint and `jti`: no client data in the table, a bounded key) and the TTL attribute
//! `expiresAt`, the second the proof's window closes. A table that cannot be written refuses
//! the proof (`replay-check-unavailable`), within the tables' own timeout.

use super::dpop::CheckedProof;
use crate::authorizer::dynamodb::{TableError, Tables};
use crate::authorizer::metrics::Dependency;
use crate::token::TokenError;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::FutureExt;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// What a proof is remembered by: SHA-256 of its key's thumbprint and its `jti`, so a `jti` is
/// unique per key, and a made-up one cannot block another client's proof.
pub type ProofKey = [u8; 32];

/// The key of a checked proof.
pub fn key(proof: &CheckedProof) -> ProofKey {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(proof.thumbprint.as_bytes());
    context.update(&[0]);
    context.update(proof.jti.as_bytes());
    let mut key = [0; 32];
    key.copy_from_slice(context.finish().as_ref());
    key
}

/// The proofs seen by this process, each until its window closes, at most `capacity` of them.
/// Shared by concurrent invocations; the lock is held for a map operation, never across I/O.
pub struct SeenProofs {
    seen: Mutex<Seen>,
    capacity: usize,
}

struct Seen {
    until: HashMap<ProofKey, u64>,
    /// The earliest `until` held: before it, no entry can be dropped.
    soonest: u64,
}

impl SeenProofs {
    /// An empty set for at most `capacity` proofs.
    pub fn new(capacity: usize) -> Self {
        SeenProofs {
            seen: Mutex::new(Seen {
                until: HashMap::new(),
                soonest: u64::MAX,
            }),
            capacity,
        }
    }

    /// Records `key` as used until `until`: `true` the first time, `false` for a replay. When
    /// the set is full of proofs still in their window the proof is refused, never forgotten.
    pub fn first_use(&self, key: ProofKey, until: u64, now: u64) -> Result<bool, TokenError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.until.get(&key).is_some_and(|t| *t > now) {
            return Ok(false);
        }
        if seen.until.len() >= self.capacity && now >= seen.soonest {
            seen.until.retain(|_, t| *t > now);
            seen.soonest = seen.until.values().copied().min().unwrap_or(u64::MAX);
        }
        if seen.until.len() >= self.capacity && !seen.until.contains_key(&key) {
            tracing::warn!(capacity = self.capacity, "DPoP replay set full");
            return Err(TokenError::ReplayCheckUnavailable);
        }
        seen.until.insert(key, until);
        seen.soonest = seen.soonest.min(until);
        Ok(true)
    }
}

/// The partition key attribute.
pub const KEY: &str = "pk";
/// The TTL attribute: when the proof's window closes.
pub const EXPIRES_AT: &str = "expiresAt";

/// The fleet-wide replay table.
pub struct ReplayTable {
    table: String,
}

impl ReplayTable {
    /// The table named `table`.
    pub fn new(table: String) -> Self {
        ReplayTable { table }
    }

    /// Records `key` until `until` with a put that fails when the item exists: a replay. A
    /// table that cannot be written through `tables` (none given: the authorizer was built
    /// without a client) refuses the proof.
    pub async fn first_use(
        &self,
        tables: Option<&Tables>,
        key: &ProofKey,
        until: u64,
    ) -> Result<(), TokenError> {
        let Some(tables) = tables else {
            tracing::error!(table = %self.table, "replay table configured but no DynamoDB client given");
            return Err(TokenError::ReplayCheckUnavailable);
        };
        let put = tables
            .client()
            .put_item()
            .table_name(&self.table)
            .item(
                KEY,
                AttributeValue::S(format!("dpop#{}", URL_SAFE_NO_PAD.encode(key))),
            )
            .item(EXPIRES_AT, AttributeValue::N(until.to_string()))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", KEY)
            .send();
        // Boxed, as the revocation read: the SDK's future trips rustc's `Send` inference.
        let call = async move {
            match put.await {
                Ok(_) => Ok(true),
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    Ok(false)
                }
                Err(error) => Err(TableError::from(error)),
            }
        }
        .boxed();
        match tables.call(Dependency::ReplayTable, call).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(TokenError::DpopReplayed),
            Err(error) => {
                tracing::warn!(table = %self.table, %error, "replay table unavailable");
                Err(TokenError::ReplayCheckUnavailable)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof(jti: &str) -> CheckedProof {
        CheckedProof {
            thumbprint: "key".into(),
            jti: jti.into(),
            iat: 1000,
        }
    }

    #[test]
    fn rfc9449_a_proof_is_used_once_within_its_window() {
        let seen = SeenProofs::new(10);
        let a = key(&proof("a"));
        assert_eq!(seen.first_use(a, 1066, 1000), Ok(true));
        assert_eq!(seen.first_use(a, 1066, 1065), Ok(false));
        assert_eq!(seen.first_use(a, 1066, 1066), Ok(true), "window closed");
        let other_key = CheckedProof {
            thumbprint: "other".into(),
            ..proof("a")
        };
        assert_ne!(key(&other_key), a, "a jti is unique per key");
    }

    #[test]
    fn a_full_set_drops_closed_windows_and_then_refuses() {
        let seen = SeenProofs::new(2);
        assert_eq!(seen.first_use(key(&proof("a")), 1010, 1000), Ok(true));
        assert_eq!(seen.first_use(key(&proof("b")), 1020, 1000), Ok(true));
        assert_eq!(
            seen.first_use(key(&proof("c")), 1030, 1005),
            Err(TokenError::ReplayCheckUnavailable)
        );
        assert_eq!(seen.first_use(key(&proof("c")), 1030, 1010), Ok(true));
        assert_eq!(seen.first_use(key(&proof("b")), 1020, 1011), Ok(false));
    }
}
