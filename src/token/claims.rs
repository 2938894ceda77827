//! Token verification: the signature by [`jws`](crate::token::jws), the claims here, with the clock
//! passed in.
//!
//! Claims are deserialized once, into strict types, so `"exp": "9999999999"` (a string) is
//! refused rather than skipped (GHSA-h395-gr6q-cpjc), and checked against [`Rules`] and `now`,
//! so tests never need to sleep.

use crate::scopes::ScopeSet;
use crate::token::error::TokenError;
use crate::token::jws::{Jws, SignatureKey};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// What a verified token must also satisfy, for one issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Exact `iss` value. Required.
    pub issuer: String,
    /// Accepted audiences, required and non-empty. `aud` (string or array) must name one of
    /// them; only a token without `aud` is judged by its `client_id` instead (RFC 9068 §4; API
    /// Gateway's JWT authorizer reads `client_id` only then).
    pub audiences: Vec<String>,
    /// Seconds of clock skew tolerated for `exp`, `nbf` and `iat`. Default 60.
    pub leeway: u64,
    /// Required `token_use` claim (Cognito: `access`), or `None` to not check.
    pub token_use: Option<String>,
    /// Required header `typ` (RFC 9068: `at+jwt`), compared case-insensitively, or `None`.
    pub typ: Option<String>,
}

/// What a deployment asks of a verified token beyond [`Rules`], per issuer: the claims it must
/// carry and the one naming its principal. Kept apart from [`Rules`], which the local gateway's
/// JWT authorizer shares and which API Gateway's HTTP API authorizer has no such settings for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimPolicy {
    /// Further claims the token must carry, as API Gateway's REST JWT authorizer models them
    /// (its `AdditionalClaims`).
    pub required: Vec<RequiredClaim>,
    /// The claim whose value is the policy's principal (`sub` by default; `client_id` suits
    /// machine tokens). When the token has no such claim, or not as a string: `sub`, else
    /// `client_id`, else `anonymous`.
    pub principal: String,
}

impl Default for ClaimPolicy {
    fn default() -> Self {
        ClaimPolicy {
            required: Vec::new(),
            principal: DEFAULT_PRINCIPAL_CLAIM.into(),
        }
    }
}

/// One claim a token must carry, as API Gateway's REST JWT authorizer models it (`claimName`,
/// `expectedValues`, `required`, format `SINGLE_STRING`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequiredClaim {
    /// The claim.
    pub name: String,
    /// Accepted values, compared exactly and case-sensitively; the claim must equal one of them
    /// (any-of). A present claim that is not a string is refused: we do not guess how a number
    /// or an array would compare. Empty: presence alone is checked.
    pub values: Vec<String>,
    /// Whether a token without the claim is refused. When `false`, an absent claim passes and a
    /// present one must still be one of `values`.
    pub required: bool,
}

impl RequiredClaim {
    /// Whether `value` (the token's claim, `None` when absent) is accepted.
    pub fn accepts(&self, value: Option<&Value>) -> bool {
        match value {
            None => !self.required,
            Some(_) if self.values.is_empty() => true,
            Some(Value::String(text)) => self.values.iter().any(|v| v == text),
            Some(_) => false,
        }
    }
}

/// The principal claim unless configured otherwise.
pub const DEFAULT_PRINCIPAL_CLAIM: &str = "sub";

/// The claims we read, strictly typed. Unknown claims are ignored.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TokenClaims {
    /// Issuer.
    pub iss: Option<String>,
    /// Subject.
    pub sub: Option<String>,
    /// Audience: one string or an array of strings; `None` when absent. `null` and `[]` are
    /// present but name no one, and are refused.
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Option<Vec<String>>,
    /// OAuth client (Cognito access tokens carry this instead of `aud`); read only without `aud`.
    pub client_id: Option<String>,
    /// Expiry, seconds since the epoch. Required.
    pub exp: Option<f64>,
    /// Not before.
    pub nbf: Option<f64>,
    /// Issued at.
    pub iat: Option<f64>,
    /// Token id (RFC 7519 §4.1.7), what a revocation item names one token by.
    pub jti: Option<String>,
    /// Cognito's token type.
    pub token_use: Option<String>,
    /// RFC 8693 space separated scopes.
    pub scope: Option<Value>,
    /// Azure AD / Okta scopes.
    pub scp: Option<Value>,
    /// Array form.
    pub scopes: Option<Value>,
    /// Auth0 RBAC permissions.
    pub permissions: Option<Value>,
    /// Confirmation (RFC 7800 §3.1): the key or certificate a sender-constrained token is
    /// bound to, checked by the authorizer's binding step.
    pub cnf: Option<Confirmation>,
}

/// A token's `cnf` claim: what its presenter must prove to hold.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Confirmation {
    /// RFC 9449 §6: the RFC 7638 thumbprint of the DPoP proof key.
    pub jkt: Option<String>,
    /// RFC 8705 §3.1: base64url SHA-256 of the client certificate's DER.
    #[serde(rename = "x5t#S256")]
    pub x5t_s256: Option<String>,
}

/// A token that passed every check.
#[derive(Debug)]
pub struct Verified {
    /// The token's claims.
    pub claims: TokenClaims,
    /// Scopes from every scope claim, merged and normalised.
    pub scopes: ScopeSet,
    /// The policy's principal (see [`ClaimPolicy::principal`]).
    pub principal: String,
}

/// Accepts `jws` if one of `candidates`, keys held in hand (HMAC secrets), signed it and its
/// claims satisfy `rules` and `policy` at `now` (seconds since the epoch); its scopes are then
/// read from every scope claim. Keys fetched from a JWKS check the signature themselves
/// ([`crate::token::JwksCache::check_signature`]), then [`accept_checked_signature`] does the rest.
pub fn verify_with_keys<'k>(
    jws: Jws<'_, TokenClaims>,
    candidates: impl IntoIterator<Item = &'k SignatureKey>,
    rules: &Rules,
    policy: &ClaimPolicy,
    now: u64,
) -> Result<Verified, TokenError> {
    jws.check_signature(candidates)?;
    accept_checked_signature(jws, rules, policy, now)
}

/// The steps after a good signature: claims against `rules` at `now`, the required claims of
/// `policy`, then the scopes and the principal.
pub fn accept_checked_signature(
    jws: Jws<'_, TokenClaims>,
    rules: &Rules,
    policy: &ClaimPolicy,
    now: u64,
) -> Result<Verified, TokenError> {
    check_rules(&jws.claims, rules, jws.header.typ.as_deref(), now)?;
    let named = if policy.required.is_empty() && policy.principal == DEFAULT_PRINCIPAL_CLAIM {
        Map::new()
    } else {
        jws.payload_as::<Map<String, Value>>()?
    };
    check_required(&policy.required, &named)?;
    let scopes = scopes_as_issued(&jws.claims)?;
    let principal = principal_of(&named, &jws.claims, policy);
    Ok(Verified {
        claims: jws.claims,
        scopes,
        principal,
    })
}

/// The policy's principal: `policy`'s claim from `named` (all the claims, or an empty map when
/// only `sub` is wanted) when it is a non-empty string, else `sub`, else `client_id`, else
/// `anonymous`.
pub fn principal_of(
    named: &Map<String, Value>,
    claims: &TokenClaims,
    policy: &ClaimPolicy,
) -> String {
    match named.get(&policy.principal) {
        Some(Value::String(value)) if !value.is_empty() => value.clone(),
        _ => claims
            .sub
            .clone()
            .or_else(|| claims.client_id.clone())
            .unwrap_or_else(|| "anonymous".into()),
    }
}

/// Refuses a token whose `claims` (its payload) fail one of `required`, naming the first: one
/// reading of API Gateway's `AdditionalClaims` for the Lambda authorizer and the local gateway's
/// REST JWT authorizer alike.
pub fn check_required(
    required: &[RequiredClaim],
    claims: &Map<String, Value>,
) -> Result<(), TokenError> {
    match required.iter().find(|c| !c.accepts(claims.get(&c.name))) {
        Some(claim) => Err(TokenError::ClaimNotAccepted(claim.name.clone())),
        None => Ok(()),
    }
}

/// The checks of `rules` (issuer, expiry, not-before, audience, token type; not the required
/// claims, see [`check_required`]), in the order an operator would want to read them in a log.
pub fn check_rules(
    claims: &TokenClaims,
    rules: &Rules,
    typ: Option<&str>,
    now: u64,
) -> Result<(), TokenError> {
    if claims.iss.as_deref() != Some(rules.issuer.as_str()) {
        return Err(TokenError::WrongIssuer);
    }
    if claims.exp.is_none() {
        return Err(TokenError::MissingExpiry);
    }
    check_window(claims, rules.leeway, now)?;
    if !audience_accepted(claims, &rules.audiences) {
        return Err(TokenError::WrongAudience);
    }
    if let Some(required) = &rules.token_use
        && claims.token_use.as_ref() != Some(required)
    {
        return Err(TokenError::WrongTokenType);
    }
    if let Some(required) = &rules.typ
        && !typ_is(typ, required)
    {
        return Err(TokenError::WrongTokenType);
    }
    Ok(())
}

/// Whether a header `typ` names the media type `expected` (`at+jwt`, `dpop+jwt`): compared
/// case-insensitively, with or without `application/` (RFC 7515 §4.1.9).
pub fn typ_is(typ: Option<&str>, expected: &str) -> bool {
    let typ = typ.unwrap_or_default();
    let media_type = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    media_type.eq_ignore_ascii_case(expected)
}

/// The time claims present, with `leeway` seconds of skew: `exp` in the past is `Expired`,
/// `nbf` or `iat` in the future `NotYetValid` (RFC 7519 §4.1.4-6). Whether `exp` is required is
/// the caller's rule: a JWT's, not an introspection answer's (RFC 7662 §2.2).
pub fn check_window(claims: &TokenClaims, leeway: u64, now: u64) -> Result<(), TokenError> {
    let now = now as f64;
    let leeway = leeway as f64;
    if claims.exp.is_some_and(|exp| exp + leeway <= now) {
        return Err(TokenError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf - leeway > now)
        || claims.iat.is_some_and(|iat| iat - leeway > now)
    {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// RFC 9068 §4: the resource server refuses a token whose `aud` does not name it, so a present
/// `aud` alone decides, and a token minted for another API is refused even when its
/// `client_id` is listed. Only without `aud` (Cognito access tokens) does `client_id` decide,
/// as API Gateway's JWT authorizer does. An empty `aud` names no one.
pub fn audience_accepted(claims: &TokenClaims, audiences: &[String]) -> bool {
    match &claims.aud {
        Some(aud) => aud.iter().any(|a| audiences.contains(a)),
        None => claims
            .client_id
            .as_ref()
            .is_some_and(|c| audiences.contains(c)),
    }
}

/// Every scope claim present ([`crate::scopes::SCOPE_CLAIMS`]), read as issued and merged
/// ([`ScopeSet::merge_issued`]); one malformed claim refuses the token. A raw token's claim is
/// never a stringified array (only API Gateway's JWT authorizer writes `"[a b]"`, into the
/// integration's context), so `scope: "[orders:admin]"` grants the opaque scope
/// `[orders:admin]`, never `orders:admin`.
pub fn scopes_as_issued(claims: &TokenClaims) -> Result<ScopeSet, TokenError> {
    let values = [
        &claims.scope,
        &claims.scp,
        &claims.scopes,
        &claims.permissions,
    ];
    ScopeSet::merge_issued(values.into_iter().flatten()).map_err(TokenError::MalformedScope)
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3); anything else is a type error.
/// Called only when the claim is present, so the answer is always `Some`.
fn one_or_many<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    struct OneOrMany;
    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Option<Vec<String>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an array of strings")
        }
        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            Ok(Some(vec![value.to_owned()]))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Some(Vec::new()))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut all = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                all.push(item);
            }
            Ok(Some(all))
        }
    }
    deserializer.deserialize_any(OneOrMany)
}

/// The claims an API may want beside the scopes, for the authorizer's context. Flat values
/// only: API Gateway refuses nested ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextClaims {
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Granted scopes, space separated: the key `product-api` reads.
    pub scope: String,
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// OAuth client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Expiry, whole seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
}

impl ContextClaims {
    /// The context for a verified token's `claims` and granted `scopes`.
    pub fn new(claims: TokenClaims, scopes: &ScopeSet) -> Self {
        let TokenClaims {
            sub,
            iss,
            client_id,
            exp,
            ..
        } = claims;
        ContextClaims {
            sub,
            scope: scopes.to_string(),
            iss,
            client_id,
            exp: exp.map(|e| e as u64),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::scopes::ScopeError;
    use serde_json::json;

    /// The rules the claim tests (and the introspection tests) judge by.
    pub(crate) fn rules() -> Rules {
        Rules {
            issuer: "https://issuer.test/".into(),
            audiences: vec!["products-api".into()],
            leeway: 60,
            token_use: None,
            typ: None,
        }
    }

    fn claims(value: Value) -> Result<TokenClaims, serde_json::Error> {
        serde_json::from_value(value)
    }

    fn base() -> Value {
        json!({"iss": "https://issuer.test/", "aud": "products-api", "exp": 2000, "iat": 1000, "sub": "u"})
    }

    fn with(patch: Value) -> Value {
        patched(base(), patch)
    }

    /// `value` with each member of `patch` set, or removed where `patch` has `null`.
    pub(crate) fn patched(mut value: Value, patch: Value) -> Value {
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                value.as_object_mut().unwrap().remove(k);
            } else {
                value[k] = v.clone();
            }
        }
        value
    }

    fn check(value: Value, now: u64) -> Result<(), TokenError> {
        check_rules(&claims(value).unwrap(), &rules(), None, now)
    }

    #[test]
    fn accepts_a_valid_token_within_leeway() {
        assert_eq!(check(base(), 1500), Ok(()));
        assert_eq!(check(base(), 2059), Ok(()));
        assert_eq!(check(base(), 941), Ok(()), "iat 59 s ahead is tolerated");
        assert_eq!(check(with(json!({"exp": 2000.5})), 1500), Ok(()));
    }

    #[test]
    fn time_claims() {
        assert_eq!(check(base(), 2060), Err(TokenError::Expired));
        assert_eq!(
            check(with(json!({"exp": null})), 1500),
            Err(TokenError::MissingExpiry)
        );
        assert_eq!(
            check(with(json!({"nbf": 1700})), 1500),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            check(with(json!({"iat": 1600})), 1500),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn rfc9068_aud_decides_when_present() {
        assert_eq!(
            check(with(json!({"aud": ["other", "products-api"]})), 1500),
            Ok(())
        );
        assert_eq!(
            check(with(json!({"aud": "other"})), 1500),
            Err(TokenError::WrongAudience)
        );
        assert_eq!(
            check(with(json!({"aud": "Products-API"})), 1500),
            Err(TokenError::WrongAudience)
        );
        assert_eq!(
            check(
                with(json!({"aud": "https://billing.example.com", "client_id": "products-api"})),
                1500
            ),
            Err(TokenError::WrongAudience),
            "a token for another API is refused even when its client_id is listed"
        );
        for empty in [json!([]), Value::Null] {
            let mut token = with(json!({"client_id": "products-api"}));
            token["aud"] = empty.clone();
            assert_eq!(
                check(token, 1500),
                Err(TokenError::WrongAudience),
                "aud {empty} names no one"
            );
        }
    }

    #[test]
    fn client_id_decides_only_without_aud() {
        let mut no_aud = base();
        no_aud.as_object_mut().unwrap().remove("aud");
        assert_eq!(check(no_aud.clone(), 1500), Err(TokenError::WrongAudience));
        no_aud["client_id"] = json!("products-api");
        assert_eq!(check(no_aud.clone(), 1500), Ok(()));
        no_aud["client_id"] = json!("another-client");
        assert_eq!(check(no_aud, 1500), Err(TokenError::WrongAudience));
    }

    #[test]
    fn issuer_must_match_exactly() {
        for iss in [
            "https://issuer.test",
            "https://evil.test/",
            "HTTPS://ISSUER.TEST/",
        ] {
            assert_eq!(
                check(with(json!({"iss": iss})), 1500),
                Err(TokenError::WrongIssuer),
                "{iss}"
            );
        }
        assert_eq!(
            check(with(json!({"iss": null})), 1500),
            Err(TokenError::WrongIssuer)
        );
    }

    #[test]
    fn claims_of_the_wrong_type_do_not_parse() {
        for patch in [
            json!({"exp": "9999999999"}),
            json!({"nbf": "0"}),
            json!({"aud": 5}),
            json!({"aud": ["a", 5]}),
            json!({"iss": ["x"]}),
            json!({"exp": true}),
        ] {
            assert!(claims(with(patch.clone())).is_err(), "{patch}");
        }
    }

    #[test]
    fn token_use_and_typ() {
        let mut rules = rules();
        rules.token_use = Some("access".into());
        let id_token = claims(with(json!({"token_use": "id"}))).unwrap();
        assert_eq!(
            check_rules(&id_token, &rules, None, 1500),
            Err(TokenError::WrongTokenType)
        );
        let access = claims(with(json!({"token_use": "access"}))).unwrap();
        assert_eq!(check_rules(&access, &rules, None, 1500), Ok(()));
        rules.typ = Some("at+jwt".into());
        assert_eq!(check_rules(&access, &rules, Some("at+JWT"), 1500), Ok(()));
        assert_eq!(
            check_rules(&access, &rules, Some("application/at+jwt"), 1500),
            Ok(())
        );
        assert_eq!(
            check_rules(&access, &rules, Some("JWT"), 1500),
            Err(TokenError::WrongTokenType)
        );
        assert_eq!(
            check_rules(&access, &rules, None, 1500),
            Err(TokenError::WrongTokenType)
        );
    }

    #[test]
    fn required_claims_compare_strings_exactly_and_fail_closed() {
        let claim = |values: &[&str], required| RequiredClaim {
            name: "tenant".into(),
            values: values.iter().map(|v| v.to_string()).collect(),
            required,
        };
        let acme = claim(&["acme", "globex"], true);
        assert!(acme.accepts(Some(&json!("acme"))));
        assert!(
            acme.accepts(Some(&json!("globex"))),
            "several values: any of them"
        );
        for refused in [
            json!("ACME"),
            json!("acme "),
            json!(["acme"]),
            json!(1),
            json!(null),
        ] {
            assert!(!acme.accepts(Some(&refused)), "{refused}");
        }
        assert!(!acme.accepts(None));
        let optional = claim(&["acme"], false);
        assert!(optional.accepts(None));
        assert!(!optional.accepts(Some(&json!("other"))));
        let present = claim(&[], true);
        assert!(present.accepts(Some(&json!(["anything"]))));
        assert!(!present.accepts(None));
    }

    #[test]
    fn scopes_are_merged_from_every_claim() {
        let c = claims(with(
            json!({"permissions": ["write:products"], "scope": "openid read:products"}),
        ))
        .unwrap();
        assert_eq!(
            scopes_as_issued(&c).unwrap().to_string(),
            "openid read:products write:products"
        );
        let c = claims(with(json!({"scope": 5}))).unwrap();
        assert_eq!(
            scopes_as_issued(&c),
            Err(TokenError::MalformedScope(ScopeError::WrongType))
        );
        assert!(
            scopes_as_issued(&claims(base()).unwrap())
                .unwrap()
                .is_empty()
        );
    }

    /// RFC 8693 §4.2 / RFC 9068 §2.2.3: `scope` is a space separated string as issued; `[` and
    /// `]` are scope-token characters (RFC 6749 §3.3), so a bracketed value is one opaque scope.
    #[test]
    fn rfc6749_a_bracketed_scope_in_a_raw_token_grants_no_scope_of_that_name() {
        for patch in [
            json!({"scope": "[orders:admin]"}),
            json!({"scope": "[\"orders:admin\"]"}),
            json!({"scp": ["[orders:admin]"]}),
            json!({"scp": "[orders:admin]"}),
            json!({"permissions": ["[orders:admin orders:read]"]}),
        ] {
            let granted = scopes_as_issued(&claims(with(patch.clone())).unwrap()).unwrap();
            assert!(!granted.contains("orders:admin"), "{patch}: {granted}");
        }
        let opaque = scopes_as_issued(&claims(with(json!({"scp": ["[orders:admin]"]}))).unwrap());
        assert_eq!(opaque.unwrap().to_string(), "[orders:admin]");
    }

    #[test]
    fn scopes_too_many_to_hand_on_whole_refuse_the_token() {
        let half = |c: char| c.to_string().repeat(5000);
        let c = claims(with(json!({"scope": half('a'), "scp": [half('b')]}))).unwrap();
        assert_eq!(
            scopes_as_issued(&c),
            Err(TokenError::MalformedScope(ScopeError::TooLarge))
        );
    }

    /// Every claim of [`crate::scopes::SCOPE_CLAIMS`] (the list product-api reads contexts by) is a field
    /// [`scopes_as_issued`] reads: the two readers never drift apart.
    #[test]
    fn every_scope_claim_name_is_read_from_a_token() {
        for name in crate::scopes::SCOPE_CLAIMS {
            let claims: TokenClaims =
                serde_json::from_value(serde_json::json!({name: "a:b"})).unwrap();
            let scopes = scopes_as_issued(&claims).unwrap();
            assert_eq!(scopes.iter().collect::<Vec<_>>(), ["a:b"], "{name}");
        }
    }
}
