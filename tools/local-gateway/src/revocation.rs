//! Revocation, locally: the store the Lambda authorizer reads revocation items from, and the
//! development issuer's endpoints that write them.
//!
//! - [`Revocations`]: the items, in memory ([`MemoryRevocations`], the default with the
//!   development issuer) or in the DynamoDB table `AUTH_REVOCATION_TABLE` (`--revocation-table`),
//!   in the table's shape either way (`pk`, `revokedBefore`, `expiresAt`; see
//!   `docs/revocation-and-introspection.md`);
//! - [`introspect`]: `POST /_dev/introspect` (RFC 7662), for the introspection client only;
//! - [`revoke`]: `POST /_dev/revoke` (RFC 7009): an opaque token becomes inactive at the issuer;
//!   one of its JWTs is revoked by the item `jti#{iss}#{jti}`;
//! - [`sign_out`]: `POST /_dev/signout` with `sub`: the item `sub#{iss}#{sub}` with
//!   `revokedBefore` now, and the subject's opaque tokens inactive;
//! - [`items`] and [`GatewayRevocations`]: `POST /_dev/revocations`, the store in memory read
//!   by `explain` from another process, as the gateway's authorizer reads it.

use crate::dev_issuer::{DevIssuer, ITEMS_PATH, MAX_TTL_SECS};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use hyper::StatusCode;
use jwt_scopes_api::Authorizer;
use jwt_scopes_api::authorizer::{
    REVOCATION_KEY, REVOKED_BEFORE, RevocationItem, RevocationItems, TableError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The TTL attribute of an item (housekeeping for DynamoDB; kept in memory too).
pub const EXPIRES_AT: &str = "expiresAt";

/// Revocation items in memory: `pk` to `revokedBefore` (none for a token's item).
#[derive(Default)]
pub struct MemoryRevocations {
    items: Mutex<HashMap<String, Option<u64>>>,
}

impl MemoryRevocations {
    fn put(&self, pk: String, revoked_before: Option<u64>) {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items.insert(pk, revoked_before);
    }

    /// The items held under `keys`: `pk`, and `revokedBefore` for a subject.
    fn get(&self, keys: &[String]) -> Vec<(String, Option<u64>)> {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let held = keys
            .iter()
            .filter_map(|pk| Some((pk.clone(), *items.get(pk)?)));
        held.collect()
    }
}

/// An item in the table's shape.
fn item((pk, revoked_before): (String, Option<u64>)) -> RevocationItem {
    let mut item = HashMap::from([(REVOCATION_KEY.into(), AttributeValue::S(pk))]);
    if let Some(before) = revoked_before {
        item.insert(REVOKED_BEFORE.into(), AttributeValue::N(before.to_string()));
    }
    item
}

/// Answers as the table would: the items held under the keys asked for.
impl RevocationItems for MemoryRevocations {
    fn read<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<RevocationItem>, TableError>> {
        let found = self.get(keys).into_iter().map(item).collect();
        futures_util::future::ready(Ok(found)).boxed()
    }
}

/// The store in memory of a gateway running at a base URL, read over HTTP (`POST
/// /_dev/revocations`): how `explain`, another process, sees what that gateway's authorizer
/// sees. A gateway that cannot answer fails the read, as an unreadable table does.
pub struct GatewayRevocations {
    url: String,
    client: reqwest::Client,
}

impl GatewayRevocations {
    /// The store of the gateway at `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> GatewayRevocations {
        GatewayRevocations {
            url: format!("{base}{ITEMS_PATH}"),
            client: reqwest::Client::new(),
        }
    }

    async fn ask(&self, keys: &[String]) -> Result<Vec<RevocationItem>, TableError> {
        let failed = |e: &dyn std::fmt::Display| TableError::new(format!("{}: {e}", self.url));
        let request = self.client.post(&self.url).timeout(Duration::from_secs(2));
        let response = request
            .header("content-type", "application/json")
            .body(json!({ "keys": keys }).to_string())
            .send()
            .await
            .map_err(|e| failed(&e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| failed(&e))?;
        if !status.is_success() {
            return Err(failed(&format!("{status} {text}")));
        }
        let answer: Items = serde_json::from_str(&text).map_err(|e| failed(&e))?;
        let held = answer.items.into_iter();
        Ok(held.map(|i| item((i.pk, i.revoked_before))).collect())
    }
}

impl RevocationItems for GatewayRevocations {
    fn read<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<RevocationItem>, TableError>> {
        self.ask(keys).boxed()
    }
}

/// `POST /_dev/revocations` asks with `{"keys": [pk, ...]}`.
#[derive(Deserialize)]
struct Keys {
    keys: Vec<String>,
}

/// ... and is answered `{"items": [{"pk", "revokedBefore"?}, ...]}`.
#[derive(Serialize, Deserialize)]
struct Items {
    items: Vec<HeldItem>,
}

#[derive(Serialize, Deserialize)]
struct HeldItem {
    pk: String,
    #[serde(rename = "revokedBefore", skip_serializing_if = "Option::is_none")]
    revoked_before: Option<u64>,
}

/// `POST /_dev/revocations`: the items of the store in memory under the keys asked for. A
/// table is read directly (`AUTH_REVOCATION_TABLE`), not through the gateway: 404 then.
pub fn items(revocations: &Revocations, body: &[u8]) -> Answered {
    let Revocations::Memory(memory) = revocations else {
        let description = "the items are in the DynamoDB table: set AUTH_REVOCATION_TABLE";
        return Answered::error(StatusCode::NOT_FOUND, "invalid_request", description);
    };
    let Ok(Keys { keys }) = serde_json::from_slice(body) else {
        let description = "expected {\"keys\": [pk, ...]}";
        return Answered::error(StatusCode::BAD_REQUEST, "invalid_request", description);
    };
    let held = memory.get(&keys).into_iter();
    let items = held.map(|(pk, revoked_before)| HeldItem { pk, revoked_before });
    let body = serde_json::to_value(Items {
        items: items.collect(),
    });
    Answered::ok(body.unwrap_or_default(), "dev revocation items read")
}

/// Where revocation items are kept.
pub enum Revocations {
    /// In memory, lost on exit.
    Memory(Arc<MemoryRevocations>),
    /// A DynamoDB table (`AUTH_REVOCATION_TABLE`), through the authorizer's client.
    Table {
        /// The client, as `authorizer::dynamodb_client` builds it.
        client: Client,
        /// The table's name.
        table: String,
    },
}

impl Revocations {
    /// `authorizer` reading its revocation items here.
    pub fn attach(&self, authorizer: Authorizer) -> Authorizer {
        match self {
            Revocations::Memory(items) => authorizer.with_revocation_items(items.clone()),
            Revocations::Table { client, .. } => authorizer.with_dynamodb(client.clone()),
        }
    }

    /// Writes the item `pk` (with `revokedBefore` for a subject), kept until `expires_at`.
    pub async fn put(
        &self,
        pk: String,
        revoked_before: Option<u64>,
        expires_at: u64,
    ) -> Result<(), String> {
        let (client, table) = match self {
            Revocations::Memory(items) => {
                items.put(pk, revoked_before);
                return Ok(());
            }
            Revocations::Table { client, table } => (client, table),
        };
        let mut request = client
            .put_item()
            .table_name(table)
            .item(REVOCATION_KEY, AttributeValue::S(pk))
            .item(EXPIRES_AT, AttributeValue::N(expires_at.to_string()));
        if let Some(before) = revoked_before {
            request = request.item(REVOKED_BEFORE, AttributeValue::N(before.to_string()));
        }
        // Boxed for the same `Send` inference trouble as the authorizer's reads.
        let sent = request.send().boxed().await;
        sent.map(|_| ()).map_err(|e| {
            format!(
                "cannot write to the revocation table {table:?}: {}",
                TableError::from(e)
            )
        })
    }

    /// Where items go, for the banner.
    pub fn describe(&self) -> String {
        match self {
            Revocations::Memory(_) => "in memory (lost on exit)".into(),
            Revocations::Table { table, .. } => format!("DynamoDB table {table}"),
        }
    }
}

/// An endpoint's answer: status, JSON body, and the decision to log.
pub struct Answered {
    /// The status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Value,
    /// What the log line says.
    pub decision: String,
}

impl Answered {
    fn ok(body: Value, decision: impl Into<String>) -> Answered {
        let decision = decision.into();
        Answered {
            status: StatusCode::OK,
            body,
            decision,
        }
    }

    /// An OAuth error (RFC 6749 §5.2).
    fn error(status: StatusCode, error: &str, description: &str) -> Answered {
        Answered {
            status,
            body: json!({ "error": error, "error_description": description }),
            decision: format!("dev {error}"),
        }
    }
}

/// The form parameters of a request body (`application/x-www-form-urlencoded`).
fn form(body: &[u8]) -> Map<String, Value> {
    crate::event::query_parameters(&String::from_utf8_lossy(body)).unwrap_or_default()
}

fn parameter<'a>(form: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    form.get(name)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}

/// `POST /_dev/introspect` (RFC 7662 §2): the introspection client's credentials
/// (`client_secret_basic`) or 401 `invalid_client` (RFC 6749 §5.2); a `token` parameter or 400
/// `invalid_request`; then the issuer's answer, `{"active": false}` for anything it does not
/// hold as active.
pub fn introspect(dev: &DevIssuer, authorization: Option<&str>, body: &[u8], now: u64) -> Answered {
    if !dev.is_introspection_client(authorization) {
        let description = "introspection needs the client's credentials (HTTP Basic)";
        return Answered::error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    }
    let form = form(body);
    let Some(token) = parameter(&form, "token") else {
        return Answered::error(StatusCode::BAD_REQUEST, "invalid_request", "no token");
    };
    let answer = dev.introspect(token, now);
    let active = answer["active"] == true;
    Answered::ok(answer, format!("dev introspection active={active}"))
}

/// `POST /_dev/revoke` (RFC 7009 §2.1; no client authentication, as for a public client): one
/// of its opaque tokens becomes inactive; one of its JWTs with a `jti` gets the item
/// `jti#{iss}#{jti}` until its `exp`. Whatever the token, 200 (§2.2: an unknown or invalid token
/// is no error); `token_type_hint` is only a hint, and every kind is searched anyway.
pub async fn revoke(dev: &DevIssuer, revocations: &Revocations, body: &[u8], now: u64) -> Answered {
    let form = form(body);
    let Some(token) = parameter(&form, "token") else {
        return Answered::error(StatusCode::BAD_REQUEST, "invalid_request", "no token");
    };
    if dev.revoke_opaque(token) {
        return Answered::ok(json!({}), "dev revoked an opaque token");
    }
    let Some(claims) = dev.own_jwt_claims(token) else {
        return Answered::ok(json!({}), "dev revocation of an unknown token");
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    if text("jti").is_empty() {
        return Answered::ok(json!({}), "dev revocation of a JWT without jti");
    }
    let pk = format!("jti#{}#{}", text("iss"), text("jti"));
    let expires_at = claims.get("exp").and_then(Value::as_u64);
    let expires_at = expires_at.unwrap_or(now + MAX_TTL_SECS as u64);
    match revocations.put(pk, None, expires_at).await {
        Ok(()) => Answered::ok(json!({}), format!("dev revoked jti={}", text("jti"))),
        Err(error) => Answered::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            &error,
        ),
    }
}

/// `POST /_dev/signout` with `sub`: signs the subject out everywhere at `now`, its JWTs by the
/// item `sub#{iss}#{sub}` (`revokedBefore` now, kept as long as the longest token it can
/// mint), its opaque tokens at the issuer. Answers the item written.
pub async fn sign_out(
    dev: &DevIssuer,
    revocations: &Revocations,
    body: &[u8],
    now: u64,
) -> Answered {
    let form = form(body);
    let Some(sub) = parameter(&form, "sub") else {
        return Answered::error(StatusCode::BAD_REQUEST, "invalid_request", "no sub");
    };
    let pk = format!("sub#{}#{sub}", dev.issuer());
    let expires_at = now + MAX_TTL_SECS as u64;
    match revocations.put(pk.clone(), Some(now), expires_at).await {
        Ok(()) => {
            dev.sign_out(sub, now);
            let item = json!({ REVOCATION_KEY: pk, REVOKED_BEFORE: now, EXPIRES_AT: expires_at });
            Answered::ok(item, format!("dev signed out sub={sub}"))
        }
        Err(error) => Answered::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            &error,
        ),
    }
}
