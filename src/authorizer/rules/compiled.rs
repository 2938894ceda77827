//! A rule compiled with cel-rust, its cold-start checks, and its evaluation per request.

use super::{Facts, Refusal, RequestFacts, Scope};
use cel::common::ast::{Expr, LiteralValue};
use cel::objects::{Key, Map as CelMap};
use cel::{Context, Env, ExecutionError, IdedExpr, Program, Value as Cel};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

/// The standard environment with its macros (`has`, `all`, `exists`, `exists_one`, `map`,
/// `filter`), built once per process and shared by every rule and evaluation.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

/// Identifiers that name a type (`type(claims.roles) == list`), not a variable.
const TYPE_NAMES: &[&str] = &[
    "bool",
    "bytes",
    "double",
    "dyn",
    "int",
    "list",
    "map",
    "null_type",
    "string",
    "type",
    "uint",
];

impl Scope {
    /// The variables a rule of this scope may name.
    fn variables(self) -> &'static [&'static str] {
        match self {
            Scope::Issuer => &["header", "claims"],
            Scope::Route => &["header", "claims", "request"],
        }
    }
}

/// Standard functions this build leaves out: without them every call would fail at run time,
/// so a rule naming one fails the cold start instead.
const UNAVAILABLE: &[&str] = &["matches", "timestamp", "duration"];

/// A CEL expression, compiled and checked.
#[derive(Debug)]
pub struct Rule {
    program: Program,
    source: String,
    reads: Reads,
}

impl Rule {
    /// Compiles `source` for `scope`, refusing a syntax error, a variable the scope does not
    /// offer, or a result known not to be a boolean. The message names the problem; the caller
    /// names the variable or operation.
    pub fn compile(source: &str, scope: Scope) -> Result<Rule, String> {
        if source.trim().is_empty() {
            return Err("the rule is empty".into());
        }
        let program = ENV
            .compile(source)
            .map_err(|e| format!("not a CEL expression: {e}"))?;
        let root = program.expression();
        let mut reads = Reads::default();
        check_variables(root, scope, &mut Vec::new(), &mut reads)?;
        if infer(root, &[]) == Kind::NotBool {
            return Err("its result is never a boolean".into());
        }
        Ok(Rule {
            source: source.to_owned(),
            program,
            reads,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the rule reads `request`: its verdict may then differ from one request to the
    /// next with the same token, so a cached policy must not carry it beyond this request.
    pub fn reads_request(&self) -> bool {
        self.reads.request
    }

    /// Whether the rule reads what API Gateway's cache key leaves out unless they are identity
    /// sources: `request.query`, `request.headers`, `request.sourceIp` (or `request` whole).
    pub fn reads_uncached_request(&self) -> bool {
        self.reads.uncached
    }

    /// Passes on `true` only. Only the variables the rule names are built, and of `header` and
    /// `claims` only the fields it names when it names them one by one: converting JSON to CEL
    /// values is the bulk of an evaluation's cost.
    pub fn check(&self, facts: &Facts<'_>) -> Result<(), Refusal> {
        let mut context = Context::with_env(ENV.clone());
        for (name, fields, map) in [
            ("header", &self.reads.header, facts.header),
            ("claims", &self.reads.claims, facts.claims),
        ] {
            if let Some(fields) = fields {
                context.add_variable_from_value(name, object(map, fields));
            }
        }
        if let Some(request) = facts.request.filter(|_| self.reads.request) {
            context.add_variable_from_value("request", request_value(request));
        }
        match self.program.execute(&context) {
            Ok(Cel::Bool(true)) => Ok(()),
            Ok(Cel::Bool(false)) => Err(Refusal::False),
            Ok(_) => Err(Refusal::NotBoolean),
            Err(error) => Err(Refusal::Error(error_kind(&error))),
        }
    }
}

/// Which fields of a JSON object a rule reads.
#[derive(Debug, PartialEq, Eq)]
enum Fields {
    /// Only these, each named as `variable.field`.
    Named(Vec<String>),
    /// Any: the variable is read whole (`claims[k]`, `"x" in claims`).
    All,
}

impl Fields {
    /// Notes one more field read; `None`: the variable read whole.
    fn add(fields: &mut Option<Fields>, field: Option<&str>) {
        match (fields.get_or_insert(Fields::Named(Vec::new())), field) {
            (Fields::Named(names), Some(field)) => {
                if !names.iter().any(|n| n == field) {
                    names.push(field.to_owned());
                }
            }
            (all, _) => *all = Fields::All,
        }
    }
}

/// What a rule reads: of `header` and `claims` which fields (`None`: not the variable), of
/// `request` whether at all and whether beyond the method and path.
#[derive(Debug, Default)]
struct Reads {
    header: Option<Fields>,
    claims: Option<Fields>,
    request: bool,
    uncached: bool,
}

impl Reads {
    /// Notes `variable` read, through `field` when selected as `variable.field`.
    fn note(&mut self, variable: &str, field: Option<&str>) {
        match variable {
            "header" => Fields::add(&mut self.header, field),
            "claims" => Fields::add(&mut self.claims, field),
            _ => {
                self.request = true;
                // `request` read whole (`request["query"]`, `request == x`) may read anything.
                self.uncached |= !matches!(field, Some("method" | "path" | "pathParameters"));
            }
        }
    }
}

/// Refuses an identifier that is neither one of `scope`'s variables, nor bound by an enclosing
/// macro (`bound`), nor a type name; notes what the rule reads of `request`.
fn check_variables<'e>(
    expr: &'e IdedExpr,
    scope: Scope,
    bound: &mut Vec<&'e str>,
    reads: &mut Reads,
) -> Result<(), String> {
    match &expr.expr {
        Expr::Ident(name) if bound.contains(&name.as_str()) => Ok(()),
        Expr::Ident(name) if scope.variables().contains(&name.as_str()) => {
            reads.note(name, None);
            Ok(())
        }
        Expr::Ident(name) if TYPE_NAMES.contains(&name.as_str()) => Ok(()),
        Expr::Ident(name) if name == "request" => {
            Err("names `request`, which only a route rule (x-authorizer-rule) may read".into())
        }
        Expr::Ident(name) => Err(format!(
            "names the unknown variable `{name}`; a rule reads {}",
            scope
                .variables()
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Expr::Select(select) => match &select.operand.expr {
            Expr::Ident(name)
                if scope.variables().contains(&name.as_str())
                    && !bound.contains(&name.as_str()) =>
            {
                if name == "request" && select.field == "headers" {
                    // The event is read keeping only the headers that can carry a token.
                    return Err(
                        "reads `request.headers`, which the authorizer does not offer yet".into(),
                    );
                }
                reads.note(name, Some(&select.field));
                Ok(())
            }
            _ => check_variables(&select.operand, scope, bound, reads),
        },
        Expr::Call(call) if UNAVAILABLE.contains(&call.func_name.as_str()) => Err(format!(
            "calls `{}()`, which this build leaves out (cel's `regex` and `chrono` features)",
            call.func_name
        )),
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                check_variables(target, scope, bound, reads)?;
            }
            call.args
                .iter()
                .try_for_each(|arg| check_variables(arg, scope, bound, reads))
        }
        Expr::List(list) => list
            .elements
            .iter()
            .try_for_each(|e| check_variables(e, scope, bound, reads)),
        Expr::Map(map) => map.entries.iter().try_for_each(|entry| match &entry.expr {
            cel::common::ast::EntryExpr::MapEntry(e) => {
                check_variables(&e.key, scope, bound, reads)?;
                check_variables(&e.value, scope, bound, reads)
            }
            cel::common::ast::EntryExpr::StructField(f) => {
                check_variables(&f.value, scope, bound, reads)
            }
        }),
        Expr::Struct(s) => Err(format!(
            "builds a message `{}`, which rules do not offer",
            s.type_name
        )),
        Expr::Comprehension(c) => {
            check_variables(&c.iter_range, scope, bound, reads)?;
            check_variables(&c.accu_init, scope, bound, reads)?;
            let depth = bound.len();
            bound.push(&c.iter_var);
            bound.extend(c.iter_var2.as_deref());
            bound.push(&c.accu_var);
            let inner = [&c.loop_cond, &c.loop_step, &c.result]
                .into_iter()
                .try_for_each(|e| check_variables(e, scope, bound, reads));
            bound.truncate(depth);
            inner
        }
        Expr::Literal(_) | Expr::Unspecified => Ok(()),
    }
}

/// What is known of an expression's result before any request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    NotBool,
    /// Known at run time only: a variable, a field, an index.
    Unknown,
}

/// The kind of `expr`'s result; `accumulators`: the macro accumulators in scope and the kind
/// of their initial value (`exists` starts from `false`, `map` from `[]`).
fn infer(expr: &IdedExpr, accumulators: &[(&str, Kind)]) -> Kind {
    match &expr.expr {
        Expr::Literal(LiteralValue::Boolean(_)) => Kind::Bool,
        Expr::Literal(_) | Expr::List(_) | Expr::Map(_) | Expr::Struct(_) => Kind::NotBool,
        Expr::Ident(name) => accumulators
            .iter()
            .rev()
            .find(|(accu, _)| accu == name)
            .map_or(Kind::Unknown, |(_, kind)| *kind),
        Expr::Select(select) if select.test => Kind::Bool,
        Expr::Select(_) | Expr::Unspecified => Kind::Unknown,
        Expr::Comprehension(c) => {
            let mut inner = accumulators.to_vec();
            inner.push((&c.accu_var, infer(&c.accu_init, accumulators)));
            infer(&c.result, &inner)
        }
        Expr::Call(call) => match call.func_name.as_str() {
            "_==_"
            | "_!=_"
            | "_<_"
            | "_<=_"
            | "_>_"
            | "_>=_"
            | "@in"
            | "_&&_"
            | "_||_"
            | "!_"
            | "@not_strictly_false"
            | "contains"
            | "startsWith"
            | "endsWith"
            | "matches" => Kind::Bool,
            "_+_" | "_-_" | "_*_" | "_/_" | "_%_" | "-_" | "size" | "int" | "uint" | "double"
            | "string" | "bytes" | "type" => Kind::NotBool,
            "_?_:_" => match (
                infer(&call.args[1], accumulators),
                infer(&call.args[2], accumulators),
            ) {
                (a, b) if a == b => a,
                _ => Kind::Unknown,
            },
            _ => Kind::Unknown,
        },
    }
}

/// The `fields` of a JSON object as a CEL map; a field the object lacks stays absent. Numbers as
/// oidc-authorizer reads them, so its rules compare the same: an integer as `int` (`uint` above
/// `i64::MAX`), any other as `double`.
fn object(map: &Map<String, Value>, fields: &Fields) -> Cel {
    let entries: HashMap<Key, Cel> = match fields {
        Fields::All => map
            .iter()
            .map(|(k, v)| (Key::from(k.clone()), json(v)))
            .collect(),
        Fields::Named(names) => names
            .iter()
            .filter_map(|k| Some((Key::from(k.clone()), json(map.get(k)?))))
            .collect(),
    };
    Cel::Map(CelMap::from(entries))
}

fn json(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cel::Int(i),
            (None, Some(u)) => Cel::UInt(u),
            _ => Cel::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(json).collect())),
        Value::Object(map) => object(map, &Fields::All),
    }
}

/// `request`: only the fields the event has.
fn request_value(request: &RequestFacts<'_>) -> Cel {
    let text = |s: &str| Cel::String(Arc::new(s.to_owned()));
    let pairs = |pairs: &mut dyn Iterator<Item = (&str, &str)>| {
        let entries: HashMap<Key, Cel> = pairs.map(|(k, v)| (Key::from(k), text(v))).collect();
        Cel::Map(CelMap::from(entries))
    };
    let owned =
        |list: &[(String, String)]| pairs(&mut list.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut fields: HashMap<Key, Cel> = HashMap::with_capacity(6);
    fields.insert(Key::from("method"), text(request.method));
    fields.insert(Key::from("path"), text(request.path));
    fields.insert(
        Key::from("pathParameters"),
        pairs(&mut request.path_parameters.iter().copied()),
    );
    if let Some(query) = request.query {
        fields.insert(Key::from("query"), owned(query));
    }
    if let Some(headers) = request.headers {
        fields.insert(Key::from("headers"), owned(headers));
    }
    if let Some(ip) = request.source_ip {
        fields.insert(Key::from("sourceIp"), text(ip));
    }
    Cel::Map(CelMap::from(fields))
}

/// The kind of an evaluation error, for the log: never the values it carries.
fn error_kind(error: &ExecutionError) -> &'static str {
    match error {
        ExecutionError::NoSuchKey(_) => "no such field",
        ExecutionError::NoSuchOverload(_)
        | ExecutionError::UnexpectedType { .. }
        | ExecutionError::UnsupportedTargetType { .. }
        | ExecutionError::ValuesNotComparable(..)
        | ExecutionError::UnsupportedBinaryOperator(..)
        | ExecutionError::UnsupportedIndex(..)
        | ExecutionError::UnsupportedKeyType(_) => "wrong type",
        ExecutionError::UndeclaredReference(_) => "unknown function or variable",
        ExecutionError::IndexOutOfBounds(_) => "index out of bounds",
        ExecutionError::DivisionByZero(_)
        | ExecutionError::RemainderByZero(_)
        | ExecutionError::Overflow(..) => "arithmetic error",
        _ => "evaluation error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts_check(
        rule: &Rule,
        claims: Value,
        request: Option<&RequestFacts<'_>>,
    ) -> Result<(), Refusal> {
        let header = json!({"alg": "RS256", "kid": "k1", "typ": "at+jwt"});
        rule.check(&Facts {
            header: header.as_object().unwrap(),
            claims: claims.as_object().unwrap(),
            request,
        })
    }

    fn issuer(source: &str) -> Rule {
        Rule::compile(source, Scope::Issuer).unwrap_or_else(|e| panic!("{source}: {e}"))
    }

    fn passes(source: &str, claims: Value) -> bool {
        facts_check(&issuer(source), claims, None).is_ok()
    }

    #[test]
    fn oidc_authorizer_examples_run_unchanged() {
        let verified = "claims.email_verified == true";
        assert!(passes(verified, json!({"email_verified": true})));
        assert!(!passes(verified, json!({"email_verified": false})));
        assert!(!passes(verified, json!({})));
        let admin = r#"claims.roles.exists(r, r == "admin")"#;
        assert!(passes(admin, json!({"roles": ["user", "admin"]})));
        assert!(!passes(admin, json!({"roles": ["user"]})));
        assert!(
            !passes(admin, json!({"roles": "admin"})),
            "a string is not a list"
        );
        let mfa = r#"!has(claims.acr) || claims.acr == "urn:mfa""#;
        assert!(passes(mfa, json!({"sub": "u"})));
        assert!(passes(mfa, json!({"acr": "urn:mfa"})));
        assert!(!passes(mfa, json!({"acr": "urn:pwd"})));
    }

    #[test]
    fn and_or_and_list_macros() {
        let rule = r#"claims.tier == "gold" && (claims.region == "eu" || claims.region == "uk")"#;
        assert!(passes(rule, json!({"tier": "gold", "region": "uk"})));
        assert!(!passes(rule, json!({"tier": "gold", "region": "us"})));
        assert!(!passes(rule, json!({"tier": "silver", "region": "eu"})));
        let all = r#"claims.groups.all(g, g.startsWith("team-"))"#;
        assert!(passes(all, json!({"groups": ["team-a", "team-b"]})));
        assert!(!passes(all, json!({"groups": ["team-a", "admins"]})));
        let one = r#"claims.groups.exists_one(g, g == "ops")"#;
        assert!(passes(one, json!({"groups": ["ops", "dev"]})));
        assert!(!passes(one, json!({"groups": ["ops", "ops"]})));
        let filtered = r#"size(claims.groups.filter(g, g.endsWith("-admin"))) >= 2"#;
        assert!(passes(
            filtered,
            json!({"groups": ["a-admin", "b-admin", "c"]})
        ));
        assert!(!passes(filtered, json!({"groups": ["a-admin", "c"]})));
        assert!(passes(
            r#""admin" in claims.roles"#,
            json!({"roles": ["admin"]})
        ));
        assert!(passes(
            r#""eu" in claims.quota"#,
            json!({"quota": {"eu": 3}})
        ));
        assert!(passes("claims.level > 2", json!({"level": 3})));
        assert!(passes("claims.score > 0.5", json!({"score": 0.75})));
    }

    /// Only the claims a rule names are converted; one read whole (`in`, an index) gets them all.
    #[test]
    fn only_the_named_claims_are_read() {
        let named = issuer(r#"claims.tier == "gold" && has(claims.org)"#);
        assert_eq!(
            named.reads.claims,
            Some(Fields::Named(vec!["tier".into(), "org".into()]))
        );
        assert_eq!(named.reads.header, None);
        assert!(passes(
            r#"claims.tier == "gold" && !has(claims.org)"#,
            json!({"tier": "gold", "x": 1})
        ));
        let whole = issuer(r#""tier" in claims && claims["tier"] == "gold""#);
        assert_eq!(whole.reads.claims, Some(Fields::All));
        assert!(passes(
            r#""tier" in claims && claims["tier"] == "gold""#,
            json!({"tier": "gold"})
        ));
        let bound = issuer(r#"[claims].exists(claims, claims.tier == "gold")"#);
        assert_eq!(bound.reads.claims, Some(Fields::All));
    }

    #[test]
    fn has_tests_presence_without_error() {
        assert!(passes("!has(claims.email)", json!({"sub": "u"})));
        assert!(passes("has(claims.email)", json!({"email": "a@b"})));
        assert!(!passes("has(claims.email)", json!({})));
        assert!(passes("has(claims.org.id)", json!({"org": {"id": "o"}})));
        assert!(!passes("has(claims.org.id)", json!({"org": {}})));
        assert!(passes("has(header.kid)", json!({})));
        assert!(!passes("has(header.jku)", json!({})));
    }

    #[test]
    fn false_other_types_and_errors_refuse() {
        let rule = issuer("claims.sub");
        assert_eq!(
            facts_check(&rule, json!({"sub": "u"}), None),
            Err(Refusal::NotBoolean)
        );
        let rule = issuer("claims.level > 2");
        assert_eq!(
            facts_check(&rule, json!({"level": "high"}), None),
            Err(Refusal::Error("wrong type"))
        );
        assert_eq!(
            facts_check(&rule, json!({}), None),
            Err(Refusal::Error("no such field"))
        );
        assert_eq!(
            facts_check(&rule, json!({"level": 1}), None),
            Err(Refusal::False)
        );
        let rule = issuer("claims.email.endsWith(\"@example.com\")");
        assert!(facts_check(&rule, json!({"email": ["x@example.com"]}), None).is_err());
    }

    /// CEL spec (langdef.md, "Logical Operators"): `||` and `&&` are commutative over errors: an
    /// error on one side is absorbed when the other side decides.
    #[test]
    fn spec_an_error_on_one_side_of_or_is_absorbed_by_true() {
        assert!(passes(
            r#"claims.missing == "x" || claims.sub == "u""#,
            json!({"sub": "u"})
        ));
        assert!(passes(
            r#"claims.sub == "u" || claims.missing == "x""#,
            json!({"sub": "u"})
        ));
        assert!(!passes(
            r#"claims.missing == "x" || claims.sub == "v""#,
            json!({"sub": "u"})
        ));
        let and = issuer(r#"claims.missing == "x" && claims.sub == "v""#);
        assert_eq!(
            facts_check(&and, json!({"sub": "u"}), None),
            Err(Refusal::False)
        );
    }

    /// CEL spec (langdef.md, "Functions"): `in` takes a list or a map; a string is no container.
    #[test]
    fn spec_in_takes_lists_and_maps_only() {
        let rule = issuer(r#""adm" in claims.role"#);
        assert_eq!(
            facts_check(&rule, json!({"role": "admin"}), None),
            Err(Refusal::Error("wrong type"))
        );
    }

    /// CEL spec (langdef.md, "Functions": `size`): a string's size counts code points, not bytes.
    #[test]
    fn spec_size_of_a_string_counts_code_points() {
        assert!(passes("size(claims.name) == 4", json!({"name": "Zoë!"})));
        assert!(passes("size(claims.name) == 2", json!({"name": "日本"})));
    }

    #[test]
    fn cold_start_refuses_what_can_never_work() {
        let issuer_error = |source: &str| Rule::compile(source, Scope::Issuer).unwrap_err();
        assert!(issuer_error("claims.sub ==").starts_with("not a CEL expression"));
        assert!(issuer_error("token.sub == \"u\"").contains("unknown variable `token`"));
        assert!(issuer_error("request.method == \"GET\"").contains("only a route rule"));
        assert_eq!(
            issuer_error("size(claims.roles)"),
            "its result is never a boolean"
        );
        assert_eq!(
            issuer_error("claims.roles.map(r, r + \"!\")"),
            "its result is never a boolean"
        );
        assert_eq!(issuer_error("\"yes\""), "its result is never a boolean");
        assert_eq!(
            issuer_error("claims.a ? 1 : 2"),
            "its result is never a boolean"
        );
        assert_eq!(issuer_error("  "), "the rule is empty");
        assert!(issuer_error("claims.email.matches(\"@a$\")").contains("`matches()`"));
        // Bound by the macro, not unknown; type names are not variables.
        assert!(Rule::compile("claims.roles.exists(r, r == \"a\")", Scope::Issuer).is_ok());
        assert!(Rule::compile("type(claims.roles) == list", Scope::Issuer).is_ok());
        assert!(issuer_error("claims.roles.exists(r, x == \"a\")").contains("`x`"));
        // Known only at run time: compiles, refuses then.
        assert!(Rule::compile("claims.sub", Scope::Issuer).is_ok());
        assert!(Rule::compile("claims.a ? true : claims.b", Scope::Issuer).is_ok());
    }

    #[test]
    fn a_route_rule_says_what_it_reads_of_the_request() {
        let route = |s: &str| Rule::compile(s, Scope::Route).unwrap();
        let claims_only = route("claims.tier == \"gold\"");
        assert!(!claims_only.reads_request() && !claims_only.reads_uncached_request());
        let path = route("claims.tenant == request.pathParameters.tenantId");
        assert!(path.reads_request() && !path.reads_uncached_request());
        let query = route("request.query.tenant == claims.tenant");
        assert!(query.reads_request() && query.reads_uncached_request());
        let whole = route("request[\"query\"][\"tenant\"] == claims.tenant");
        assert!(whole.reads_uncached_request());
        assert!(route("has(request.sourceIp)").reads_uncached_request());
        let headers = Rule::compile(
            "request.headers[\"x-tenant\"] == claims.tenant",
            Scope::Route,
        );
        assert!(headers.unwrap_err().contains("`request.headers`"));
    }

    #[test]
    fn a_route_rule_reads_the_request_and_a_missing_field_never_matches() {
        let rule = Rule::compile(
            "claims.tenant == request.pathParameters.tenantId && request.method == \"GET\"",
            Scope::Route,
        )
        .unwrap();
        let request = RequestFacts {
            method: "GET",
            path: "/tenants/a/orders",
            path_parameters: vec![("tenantId", "a")],
            ..RequestFacts::default()
        };
        assert!(facts_check(&rule, json!({"tenant": "a"}), Some(&request)).is_ok());
        assert_eq!(
            facts_check(&rule, json!({"tenant": "b"}), Some(&request)),
            Err(Refusal::False)
        );
        let query = Rule::compile("request.query.tenant == claims.tenant", Scope::Route).unwrap();
        assert_eq!(
            facts_check(&query, json!({"tenant": "a"}), Some(&request)),
            Err(Refusal::Error("no such field"))
        );
        let ip = Rule::compile("has(request.sourceIp)", Scope::Route).unwrap();
        assert_eq!(
            facts_check(&ip, json!({}), Some(&request)),
            Err(Refusal::False)
        );
    }

    /// Evaluation per request: `cargo test --release --lib rules::compiled::tests::timing --
    /// --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a test"]
    fn timing() {
        let issuer_rule = issuer(r#"claims.roles.exists(r, r == "admin")"#);
        let route_rule = Rule::compile(
            "claims.tenant == request.pathParameters.tenantId",
            Scope::Route,
        )
        .unwrap();
        let header = json!({"alg": "ES256", "kid": "k1", "typ": "at+jwt"});
        let claims = json!({"iss": "https://issuer.example/", "sub": "user-1", "aud": "api",
            "exp": 2000000000, "iat": 1700000000, "scope": "orders:read orders:write",
            "roles": ["user", "admin"], "tenant": "a", "email": "u@example.com"});
        let request = RequestFacts {
            method: "GET",
            path: "/tenants/a/orders",
            path_parameters: vec![("tenantId", "a")],
            ..RequestFacts::default()
        };
        let facts = Facts {
            header: header.as_object().unwrap(),
            claims: claims.as_object().unwrap(),
            request: Some(&request),
        };
        let n = 100_000;
        for (name, rule) in [
            ("issuer exists()", &issuer_rule),
            ("route pathParameters", &route_rule),
        ] {
            let start = std::time::Instant::now();
            for _ in 0..n {
                assert!(
                    std::hint::black_box(rule)
                        .check(std::hint::black_box(&facts))
                        .is_ok()
                );
            }
            let per = start.elapsed() / n;
            println!("{name}: {per:?} per evaluation ({n} evaluations)");
        }
    }
}
