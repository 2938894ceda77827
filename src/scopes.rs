//! Scopes: every form a scope claim arrives in, normalised once into a [`ScopeSet`], and the
//! [`Requirement`] a route places on it.
//!
//! The same claim reaches us in several spellings: RFC 8693 `scope` as a space separated string,
//! `scp`/`scopes`/`permissions` as JSON arrays, and, behind the HTTP API JWT authorizer, every one of
//! those stringified by API Gateway (`"[read:products write:posts]"`, or JSON text). Matching is exact
//! and case-sensitive: a scope is an opaque token (RFC 6749 §3.3).

use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// Claim names that carry scopes; a token's scopes are all of them, merged.
pub const SCOPE_CLAIMS: [&str; 4] = ["scope", "scp", "scopes", "permissions"];

/// Longest scope claim we parse; anything longer is refused rather than scanned.
const MAX_SCOPE_CLAIM_BYTES: usize = 8 * 1024;

/// The scopes a caller was granted, deduplicated and in first-seen order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<String>);

/// Why a scope claim could not be read. Kept apart from "no scope claim at all" so logs can tell a
/// misconfigured issuer from an unscoped token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeError {
    /// The claim is neither a string nor an array of strings.
    WrongType,
    /// The claim is larger than we are willing to parse.
    TooLarge,
    /// The claim looked like JSON array text but did not parse as one.
    BadJson,
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScopeError::WrongType => "scope claim is neither a string nor an array of strings",
            ScopeError::TooLarge => "scope claim is too large",
            ScopeError::BadJson => "scope claim is not a valid JSON array",
        })
    }
}

impl std::error::Error for ScopeError {}

impl ScopeSet {
    /// An empty set: an identity that was granted nothing.
    pub fn empty() -> Self {
        ScopeSet(Vec::new())
    }

    /// Parses one claim written as text, in any of the spellings API Gateway or an issuer uses:
    /// `"a b"`, `"[a b]"` (API Gateway's rendering of an array), or `"[\"a\",\"b\"]"` (JSON text).
    pub fn parse_text(text: &str) -> Result<Self, ScopeError> {
        if text.len() > MAX_SCOPE_CLAIM_BYTES {
            return Err(ScopeError::TooLarge);
        }
        let trimmed = text.trim();
        let Some(inner) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
            return Ok(Self::from_iter(trimmed.split_ascii_whitespace()));
        };
        if inner.trim_start().starts_with('"') {
            let items: Vec<String> =
                serde_json::from_str(trimmed).map_err(|_| ScopeError::BadJson)?;
            return Ok(Self::from_iter(
                items.iter().flat_map(|s| s.split_ascii_whitespace()),
            ));
        }
        Ok(Self::from_iter(inner.split_ascii_whitespace()))
    }

    /// Parses one claim as it appears in a JWT payload or a Lambda authorizer context: a string in
    /// any form [`ScopeSet::parse_text`] accepts, or an array of strings.
    pub fn parse_value(value: &Value) -> Result<Self, ScopeError> {
        match value {
            Value::String(text) => Self::parse_text(text),
            Value::Array(items) => Self::parse_array(items),
            _ => Err(ScopeError::WrongType),
        }
    }

    /// Parses one claim exactly as the issuer wrote it in the token, which is how a token's own
    /// claims are read (by our authorizer, and behind the REST API JWT authorizer, which hands
    /// them over typed) and how our authorizer's context is read back: a space separated string
    /// (RFC 6749 §3.3 `scope`) or an array of strings. A string is only split on ASCII white
    /// space: the `"[a b]"` and JSON-text spellings come from API Gateway stringifying arrays,
    /// which never happens on these paths, so here they are odd scope tokens that match nothing
    /// rather than scopes to unwrap (`[` and `]` are legal in an RFC 6749 scope-token, so
    /// `"[orders:admin]"` is one opaque scope, not `orders:admin`).
    pub fn parse_issued(value: &Value) -> Result<Self, ScopeError> {
        match value {
            Value::String(text) if text.len() > MAX_SCOPE_CLAIM_BYTES => Err(ScopeError::TooLarge),
            Value::String(text) => Ok(Self::from_iter(text.split_ascii_whitespace())),
            Value::Array(items) => Self::parse_array(items),
            _ => Err(ScopeError::WrongType),
        }
    }

    /// Every scope claim of one token, each read as issued ([`Self::parse_issued`]) and merged:
    /// the set an authorizer decides with. Refused when its space separated form, the `scope`
    /// an authorizer hands on in its context, is longer than one claim may be, so that whoever
    /// reads that context back ([`Self::parse_issued`]) gets this very set, not a refusal.
    pub fn merge_issued<'v>(
        claims: impl IntoIterator<Item = &'v Value>,
    ) -> Result<Self, ScopeError> {
        let mut merged = ScopeSet::empty();
        for claim in claims {
            merged.extend(Self::parse_issued(claim)?.iter());
        }
        let text_len =
            merged.iter().map(str::len).sum::<usize>() + merged.0.len().saturating_sub(1);
        if text_len > MAX_SCOPE_CLAIM_BYTES {
            return Err(ScopeError::TooLarge);
        }
        Ok(merged)
    }

    /// An array of strings, each of which may itself hold several space separated scopes.
    fn parse_array(items: &[Value]) -> Result<Self, ScopeError> {
        let mut set = ScopeSet::empty();
        let mut bytes = 0;
        for item in items {
            let Value::String(scope) = item else {
                return Err(ScopeError::WrongType);
            };
            bytes += scope.len() + 1;
            if bytes > MAX_SCOPE_CLAIM_BYTES {
                return Err(ScopeError::TooLarge);
            }
            set.extend(scope.split_ascii_whitespace());
        }
        Ok(set)
    }

    /// Whether the exact scope token was granted.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// Whether nothing was granted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The granted scopes, in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Adds scopes from another source (e.g. a second scope claim), skipping duplicates.
    pub fn extend<'a>(&mut self, scopes: impl IntoIterator<Item = &'a str>) {
        for scope in scopes {
            if !scope.is_empty() && !self.contains(scope) {
                self.0.push(scope.to_owned());
            }
        }
    }
}

impl<'a> FromIterator<&'a str> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        let mut set = ScopeSet::empty();
        set.extend(iter);
        set
    }
}

/// Space separated, the RFC 6749 wire form, and the `scope` key our authorizer puts in its context.
impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
        }
        Ok(())
    }
}

/// How the issuer spells the route table's scope names, one setting per deployment
/// (`SCOPE_NAMES`), read alike by both Lambdas and the local gateway.
///
/// Cognito names a custom scope `resource-server-identifier/scope-name`, so with the table's
/// `read:products` a Cognito token carries `products/read:products` (or
/// `https://api.example.com/read:products`): `products/{scope}`. Auth0, Okta and Entra ID
/// put the bare name in the token (Entra's `scp` drops the `api://...` prefix the client asked
/// with), so they need nothing, or a rename where the issuer's names differ
/// (`read:products=Products.Read write:products=Products.Write`). Matching stays exact: with
/// `products/{scope}`, a bare `read:products` no longer grants anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ScopeNames {
    /// The issuer uses the table's names (the default).
    #[default]
    AsWritten,
    /// `{prefix}{scope}{suffix}`, from a template such as `products/{scope}`.
    Template {
        /// Text before the table's name.
        prefix: String,
        /// Text after it.
        suffix: String,
    },
    /// Table name → issuer name; names not listed stay as written.
    Renamed(Vec<(String, String)>),
}

impl ScopeNames {
    /// The environment variable both Lambdas read it from.
    pub const VARIABLE: &'static str = "SCOPE_NAMES";
    const PLACEHOLDER: &'static str = "{scope}";

    /// Reads a template with one `{scope}` (`products/{scope}`), or `table=issuer` pairs
    /// separated by spaces or commas. Scope names hold no white space (RFC 6749 §3.3).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some((prefix, suffix)) = text.split_once(Self::PLACEHOLDER) {
            if suffix.contains(Self::PLACEHOLDER) || text.contains(char::is_whitespace) {
                return Err(format!(
                    "{text:?}: a template holds one {{scope}} and no white space"
                ));
            }
            if prefix.is_empty() && suffix.is_empty() {
                return Ok(ScopeNames::AsWritten);
            }
            return Ok(ScopeNames::Template {
                prefix: prefix.to_owned(),
                suffix: suffix.to_owned(),
            });
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for pair in text.split([',', ' ', '\t', '\n']).filter(|p| !p.is_empty()) {
            let (table, issuer) = pair
                .split_once('=')
                .filter(|(t, i)| !t.is_empty() && !i.is_empty() && !i.contains('='))
                .ok_or_else(|| {
                    format!("{pair:?} is neither table=issuer nor a template with {{scope}}")
                })?;
            if pairs.iter().any(|(t, _)| t == table) {
                return Err(format!("{table:?} is renamed twice"));
            }
            pairs.push((table.to_owned(), issuer.to_owned()));
        }
        if pairs.is_empty() {
            return Err("names no scope".into());
        }
        Ok(ScopeNames::Renamed(pairs))
    }

    /// Reads [`Self::VARIABLE`] from the process environment; unset or blank: as written.
    pub fn from_env() -> Result<Self, String> {
        match crate::env::var(Self::VARIABLE) {
            Some(text) => Self::parse(&text).map_err(|e| format!("{}: {e}", Self::VARIABLE)),
            None => Ok(ScopeNames::AsWritten),
        }
    }

    /// The issuer's name for one of the table's scopes.
    pub fn issuer_name<'s>(&'s self, scope: &'s str) -> Cow<'s, str> {
        match self {
            ScopeNames::AsWritten => Cow::Borrowed(scope),
            ScopeNames::Template { prefix, suffix } => {
                Cow::Owned(format!("{prefix}{scope}{suffix}"))
            }
            ScopeNames::Renamed(pairs) => Cow::Borrowed(
                pairs
                    .iter()
                    .find(|(table, _)| table == scope)
                    .map_or(scope, |(_, issuer)| issuer),
            ),
        }
    }
}

/// What a route demands of the caller's scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// Every listed scope must be granted.
    AllOf(&'static [&'static str]),
    /// At least one listed scope must be granted (the HTTP API JWT authorizer's rule).
    AnyOf(&'static [&'static str]),
    /// No identity needed. Must be chosen explicitly: there is no default requirement.
    Public,
}

impl Requirement {
    /// Whether `granted` (the issuer's names) satisfies this requirement, its scopes spelled as
    /// `names` says. An empty `AllOf`/`AnyOf` list is refused: a requirement that names no scope
    /// is a mistake in the table, not an open door.
    pub fn is_met_by(&self, granted: &ScopeSet, names: &ScopeNames) -> bool {
        self.access(names).is_met_by(granted)
    }

    /// The same requirement in the general form [`Access`] decides with, its scopes spelled as
    /// the issuer writes them.
    pub fn access(&self, names: &ScopeNames) -> Access {
        let spelled = |scope: &&str| names.issuer_name(scope).into_owned();
        match self {
            Requirement::Public => Access::Public,
            Requirement::AllOf([]) | Requirement::AnyOf([]) => Access::AnyOf(Vec::new()),
            Requirement::AllOf(scopes) => Access::AnyOf(vec![scopes.iter().map(spelled).collect()]),
            Requirement::AnyOf(scopes) => {
                Access::AnyOf(scopes.iter().map(|s| vec![spelled(s)]).collect())
            }
        }
    }

    /// Its scopes as the issuer spells them, space separated: what a client must ask for (the
    /// `scope` of an RFC 6750 challenge).
    pub fn issuer_scopes(&self, names: &ScopeNames) -> String {
        let spelled: Vec<Cow<'_, str>> =
            self.scopes().iter().map(|s| names.issuer_name(s)).collect();
        spelled.join(" ")
    }

    /// The scopes named by this requirement, as listed in the route table.
    pub fn scopes(&self) -> &'static [&'static str] {
        match self {
            Requirement::AllOf(scopes) | Requirement::AnyOf(scopes) => scopes,
            Requirement::Public => &[],
        }
    }
}

/// What a caller must hold, in the general form an OpenAPI `security` list has (OpenAPI 3.1
/// §4.8.10 and §4.8.30): several alternatives, any one of which suffices, each a set of scopes
/// that are all needed. [`Requirement`] is the compiled table's shorthand for the common cases
/// and converts into this ([`Requirement::access`]); a route read from a document
/// (`AUTH_ROUTES`) has this form directly. Scopes are the issuer's names, matched exactly.
///
/// [`Access::is_met_by`] is the one rule both forms are decided by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// No identity needed (`security: []`, or an empty requirement object `{}`).
    Public,
    /// At least one set whose every scope was granted. A set naming no scope is met by any
    /// verified caller (`{"oauth": []}`: a valid token, no particular scope); no set at all is
    /// met by nobody.
    AnyOf(Vec<Vec<String>>),
}

impl Access {
    /// Whether `granted` (the issuer's names) satisfies this requirement.
    pub fn is_met_by(&self, granted: &ScopeSet) -> bool {
        match self {
            Access::Public => true,
            Access::AnyOf(sets) => sets
                .iter()
                .any(|all| all.iter().all(|scope| granted.contains(scope))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AS_WRITTEN: ScopeNames = ScopeNames::AsWritten;

    fn set(scopes: &[&str]) -> ScopeSet {
        scopes.iter().copied().collect()
    }

    #[test]
    fn cognito_resource_server_names_are_matched_exactly() {
        let names = ScopeNames::parse("products/{scope}").unwrap();
        let need = Requirement::AllOf(&["read:products"]);
        assert!(need.is_met_by(&set(&["openid", "products/read:products"]), &names));
        for other in [
            "read:products",
            "products/read:products-x",
            "other/read:products",
        ] {
            assert!(!need.is_met_by(&set(&[other]), &names), "{other}");
        }
        let url = ScopeNames::parse("https://api.example.com/{scope}").unwrap();
        assert!(need.is_met_by(&set(&["https://api.example.com/read:products"]), &url));
        assert_eq!(
            Requirement::AllOf(&["a", "b"]).issuer_scopes(&names),
            "products/a products/b"
        );
    }

    #[test]
    fn scope_names_rename_pairs_and_refuse_what_they_cannot_read() {
        let names = ScopeNames::parse("read:products=Products.Read, write:products=Products.Write")
            .unwrap();
        assert_eq!(names.issuer_name("read:products"), "Products.Read");
        assert_eq!(names.issuer_name("other"), "other");
        assert!(
            Requirement::AnyOf(&["write:products"]).is_met_by(&set(&["Products.Write"]), &names)
        );
        assert!(
            !Requirement::AnyOf(&["write:products"]).is_met_by(&set(&["write:products"]), &names)
        );
        assert_eq!(ScopeNames::parse("{scope}"), Ok(ScopeNames::AsWritten));
        for bad in [
            "",
            "a",
            "a=",
            "=b",
            "a=b=c",
            "a=b a=c",
            "{scope}/{scope}",
            "x {scope}",
        ] {
            assert!(ScopeNames::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_every_text_form_to_the_same_set() {
        let expected = set(&["read:products", "write:posts"]);
        for text in [
            "read:products write:posts",
            "  read:products   write:posts ",
            "[read:products write:posts]",
            r#"["read:products","write:posts"]"#,
            r#"[ "read:products", "write:posts" ]"#,
            "read:products\twrite:posts read:products",
        ] {
            assert_eq!(ScopeSet::parse_text(text).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn issued_claims_are_split_on_white_space_only() {
        for value in [
            json!("read:products write:posts"),
            json!(["read:products", "write:posts"]),
        ] {
            assert_eq!(
                ScopeSet::parse_issued(&value).unwrap(),
                set(&["read:products", "write:posts"])
            );
        }
        // API Gateway's stringified-array spellings are not unwrapped in a typed claim.
        let bracketed = ScopeSet::parse_issued(&json!("[read:products]")).unwrap();
        assert!(!bracketed.contains("read:products"));
        let json_text = ScopeSet::parse_issued(&json!(r#"["read:products"]"#)).unwrap();
        assert!(!json_text.contains("read:products"));
        for wrong in [json!(5), json!({"a": 1}), json!(["a", true]), json!(null)] {
            assert_eq!(
                ScopeSet::parse_issued(&wrong),
                Err(ScopeError::WrongType),
                "{wrong}"
            );
        }
        let long = json!("a".repeat(MAX_SCOPE_CLAIM_BYTES + 1));
        assert_eq!(ScopeSet::parse_issued(&long), Err(ScopeError::TooLarge));
    }

    #[test]
    fn parses_array_values_and_rejects_wrong_types() {
        let value = json!(["read:products", "write:posts"]);
        assert_eq!(
            ScopeSet::parse_value(&value).unwrap(),
            set(&["read:products", "write:posts"])
        );
        assert_eq!(ScopeSet::parse_value(&json!(5)), Err(ScopeError::WrongType));
        assert_eq!(
            ScopeSet::parse_value(&json!(["a", 1])),
            Err(ScopeError::WrongType)
        );
        assert_eq!(
            ScopeSet::parse_value(&json!({"a": 1})),
            Err(ScopeError::WrongType)
        );
        assert_eq!(
            ScopeSet::parse_text(r#"["a", 1]"#),
            Err(ScopeError::BadJson)
        );
    }

    #[test]
    fn empty_forms_grant_nothing() {
        for text in ["", "   ", "[]", "[ ]"] {
            assert!(ScopeSet::parse_text(text).unwrap().is_empty(), "{text:?}");
        }
        assert!(ScopeSet::parse_value(&json!([])).unwrap().is_empty());
    }

    #[test]
    fn refuses_oversized_claims() {
        let huge = "a ".repeat(MAX_SCOPE_CLAIM_BYTES);
        assert_eq!(ScopeSet::parse_text(&huge), Err(ScopeError::TooLarge));
        let many = Value::Array(vec![Value::String("x".repeat(100)); 200]);
        assert_eq!(ScopeSet::parse_value(&many), Err(ScopeError::TooLarge));
    }

    #[test]
    fn matching_is_exact_and_case_sensitive() {
        let need = Requirement::AllOf(&["read:products"]);
        assert!(need.is_met_by(&set(&["read:products"]), &AS_WRITTEN));
        for lookalike in [
            "read:products-archive",
            "READ:PRODUCTS",
            "read:product",
            "xread:products",
        ] {
            assert!(
                !need.is_met_by(&set(&[lookalike]), &AS_WRITTEN),
                "{lookalike}"
            );
        }
        let inside_longer = ScopeSet::parse_text("read:products-x\"read:products\"").unwrap();
        assert!(!need.is_met_by(&inside_longer, &AS_WRITTEN));
        assert!(!need.is_met_by(
            &set(&["read:products-archive", "READ:PRODUCTS"]),
            &AS_WRITTEN
        ));
    }

    #[test]
    fn all_of_and_any_of() {
        let all = Requirement::AllOf(&["a", "b"]);
        let any = Requirement::AnyOf(&["a", "b"]);
        assert!(all.is_met_by(&set(&["b", "a"]), &AS_WRITTEN));
        assert!(!all.is_met_by(&set(&["a"]), &AS_WRITTEN));
        assert!(any.is_met_by(&set(&["b"]), &AS_WRITTEN));
        assert!(!any.is_met_by(&set(&["c"]), &AS_WRITTEN));
        assert!(Requirement::Public.is_met_by(&ScopeSet::empty(), &AS_WRITTEN));
    }

    #[test]
    fn a_requirement_naming_no_scope_refuses_everyone() {
        assert!(!Requirement::AllOf(&[]).is_met_by(&set(&["a"]), &AS_WRITTEN));
        assert!(!Requirement::AnyOf(&[]).is_met_by(&set(&["a"]), &AS_WRITTEN));
    }

    #[test]
    fn access_is_alternatives_of_all_of_sets() {
        let access = Access::AnyOf(vec![vec!["a".into(), "b".into()], vec!["c".into()]]);
        assert!(access.is_met_by(&set(&["b", "a"])));
        assert!(access.is_met_by(&set(&["c"])));
        assert!(!access.is_met_by(&set(&["a"])));
        assert!(Access::AnyOf(vec![Vec::new()]).is_met_by(&ScopeSet::empty()));
        assert!(!Access::AnyOf(Vec::new()).is_met_by(&set(&["a"])));
        assert!(Access::Public.is_met_by(&ScopeSet::empty()));
        let names = ScopeNames::parse("p/{scope}").unwrap();
        assert_eq!(
            Requirement::AnyOf(&["a", "b"]).access(&names),
            Access::AnyOf(vec![vec!["p/a".into()], vec!["p/b".into()]])
        );
        assert_eq!(
            Requirement::AllOf(&[]).access(&names),
            Access::AnyOf(Vec::new())
        );
    }

    #[test]
    fn displays_space_separated() {
        assert_eq!(set(&["a", "b", "a"]).to_string(), "a b");
    }
}
