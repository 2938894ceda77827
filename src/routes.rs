//! The route table: the single source of truth for which method and path need which scopes.
//!
//! `product-api` uses it to re-check scopes, the authorizer (unless given an OpenAPI document,
//! `AUTH_ROUTES`) to decide and to list every route a token may call in its Allow policy, and a
//! test keeps `template.yaml` in step with it. Paths use
//! API Gateway's template syntax (`/product/{name}`), which is also what `matchit` understands.

use crate::scopes::Requirement;
use std::fmt;
use std::sync::LazyLock;

/// What a matched request is for; handlers switch on this, never on strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// List the catalog.
    ListProducts,
    /// Read one product.
    GetProduct,
    /// Create or replace one product.
    PutProduct,
    /// Remove one product.
    DeleteProduct,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// HTTP method, upper case, as API Gateway writes it in route keys and ARNs.
    pub method: &'static str,
    /// Path template in API Gateway syntax.
    pub path: &'static str,
    /// The scopes the caller must hold.
    pub requirement: Requirement,
    /// What the route does.
    pub operation: Operation,
}

impl Route {
    /// The HTTP API route key, e.g. `GET /product/{name}`.
    pub fn route_key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Scope that lets a caller read the catalog.
pub const READ_PRODUCTS: &str = "read:products";
/// Scope that lets a caller change the catalog.
pub const WRITE_PRODUCTS: &str = "write:products";

/// Every scope the table uses, with what it grants, for the OpenAPI document's security scheme.
pub const SCOPES: &[(&str, &str)] = &[
    (
        READ_PRODUCTS,
        "Read the catalog: list products and read one.",
    ),
    (
        WRITE_PRODUCTS,
        "Change the catalog: create, replace and delete products.",
    ),
];

/// Every route of the API. A route must state its requirement; `Requirement::Public` is the only
/// way to open one, so forgetting the scopes cannot make a route public.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/products",
        requirement: Requirement::AllOf(&[READ_PRODUCTS]),
        operation: Operation::ListProducts,
    },
    Route {
        method: "GET",
        path: "/product/{name}",
        requirement: Requirement::AllOf(&[READ_PRODUCTS]),
        operation: Operation::GetProduct,
    },
    Route {
        method: "PUT",
        path: "/product/{name}",
        requirement: Requirement::AllOf(&[WRITE_PRODUCTS]),
        operation: Operation::PutProduct,
    },
    Route {
        method: "DELETE",
        path: "/product/{name}",
        requirement: Requirement::AllOf(&[WRITE_PRODUCTS]),
        operation: Operation::DeleteProduct,
    },
];

/// API Gateway's catch-all method (`ANY` in a REST API method or an HTTP API route key,
/// `x-amazon-apigateway-any-method` in OpenAPI): a row with it serves every method of
/// [`METHODS`] that no other row on its path declares, since API Gateway routes a request to
/// the method its path declares before the catch-all.
pub const ANY: &str = "ANY";

/// The methods API Gateway routes, and so those an [`ANY`] row can serve. Any other method
/// (`TRACE`, a WebSocket route) never matches `ANY`: the table then refuses it.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// What a table needs of a row: its method and path template. The product's [`Route`] is one;
/// the authorizer's rules read from an OpenAPI document (`AUTH_ROUTES`) are another, so neither
/// carries the other's concerns.
pub trait RouteKey {
    /// HTTP method, upper case, or [`ANY`].
    fn method(&self) -> &str;
    /// Path template in API Gateway syntax.
    fn path(&self) -> &str;
}

impl RouteKey for Route {
    fn method(&self) -> &str {
        self.method
    }
    fn path(&self) -> &str {
        self.path
    }
}

/// A request matched to its route, with the path parameters still as they came (percent-encoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched<'t, 'p, R = Route> {
    /// The route that matched.
    pub route: &'t R,
    /// Its index in [`RouteTable::routes`].
    pub index: usize,
    /// The raw `{name}` segment, if the route has one.
    pub name: Option<&'p str>,
}

/// Why a request matched no route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// No route has this path.
    NotFound,
    /// The path exists, but not for this method; `allow` lists the methods that do exist.
    MethodNotAllowed {
        /// Value for the `Allow` header, e.g. `GET, PUT, DELETE`.
        allow: String,
    },
}

/// Why rows cannot make a table; each names the route at fault (`GET /orders/{id}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableError {
    /// The same method on the same path, parameter names aside (OpenAPI 3.1 §4.8.8: templates
    /// differing only in parameter names are identical).
    Duplicate {
        /// The later route.
        route: String,
        /// The earlier one.
        first: String,
    },
    /// A template the router cannot hold: a malformed parameter, two in one segment, or a path
    /// that overlaps another with other parameter names.
    Unroutable {
        /// The route.
        route: String,
        /// The router's reason.
        problem: String,
    },
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::Duplicate { route, first } => {
                write!(f, "{route}: duplicate route (same as {first})")
            }
            TableError::Unroutable { route, problem } => {
                write!(
                    f,
                    "{route}: path template the router cannot hold: {problem}"
                )
            }
        }
    }
}

impl std::error::Error for TableError {}

/// A path router over routes, built once per process: [`ROUTES`] for product-api, or the
/// authorizer's own rules.
#[derive(Clone, Debug)]
pub struct RouteTable<R = Route> {
    rows: Vec<R>,
    /// Each path template to the rows (indexes into `rows`) on it, one per method.
    router: matchit::Router<Vec<usize>>,
}

static TABLE: LazyLock<RouteTable> =
    LazyLock::new(|| RouteTable::new(ROUTES.to_vec()).expect("the route table is valid"));

impl RouteTable {
    /// The table of this API's routes.
    pub fn global() -> &'static RouteTable {
        &TABLE
    }
}

impl<R: RouteKey> RouteTable<R> {
    /// Builds a router, refusing duplicates and templates the router cannot hold. API
    /// Gateway's greedy `{proxy+}` (only as the last segment) matches the rest of the path.
    pub fn new(rows: Vec<R>) -> Result<Self, TableError> {
        let key = |row: &R| format!("{} {}", row.method(), row.path());
        let mut paths: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            if let Some(first) = rows[..i].iter().find(|r| {
                r.method().eq_ignore_ascii_case(row.method())
                    && unnamed(r.path()) == unnamed(row.path())
            }) {
                return Err(TableError::Duplicate {
                    route: key(row),
                    first: key(first),
                });
            }
            match paths.iter_mut().find(|(p, _)| *p == row.path()) {
                Some((_, list)) => list.push(i),
                None => paths.push((row.path(), vec![i])),
            }
        }
        let mut router = matchit::Router::new();
        for (path, list) in paths {
            let route = key(&rows[list[0]]);
            router
                .insert(greedy_as_catch_all(path), list)
                .map_err(|e| TableError::Unroutable {
                    route,
                    problem: e.to_string(),
                })?;
        }
        Ok(RouteTable { rows, router })
    }

    /// Every route, in the order given.
    pub fn routes(&self) -> &[R] {
        &self.rows
    }

    /// The methods `row` (one of [`Self::routes`]) serves ([`methods_served`]). A policy lists
    /// these, not `*`: an `execute-api` ARN's `*` method would also cover the declared methods,
    /// which may need other scopes.
    pub fn methods_of<'t>(&'t self, row: &'t R) -> Vec<&'t str> {
        methods_served(&self.rows, row)
    }

    /// Finds the route for a method and a concrete path such as `/product/widget`: the row
    /// declaring the method, else the path's [`ANY`] row when the method is one it serves.
    pub fn find<'t, 'p>(
        &'t self,
        method: &str,
        path: &'p str,
    ) -> Result<Matched<'t, 'p, R>, RouteError> {
        let found = self.router.at(path).map_err(|_| RouteError::NotFound)?;
        let name = found.params.get("name");
        let mut on_path = found.value.iter().map(|&i| (i, &self.rows[i]));
        let declared = on_path
            .clone()
            .find(|(_, r)| r.method().eq_ignore_ascii_case(method));
        let catch_all = || {
            let served = METHODS.iter().any(|m| m.eq_ignore_ascii_case(method));
            on_path
                .clone()
                .find(|(_, r)| r.method() == ANY)
                .filter(|_| served)
        };
        match declared.or_else(catch_all) {
            Some((index, route)) => Ok(Matched { route, index, name }),
            None => Err(RouteError::MethodNotAllowed {
                allow: on_path
                    .by_ref()
                    .map(|(_, r)| r.method())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// The methods `row`, one of `rows`, serves: its own, or for an [`ANY`] row each of [`METHODS`]
/// no other row on its path declares.
pub fn methods_served<'r, R: RouteKey>(rows: &'r [R], row: &'r R) -> Vec<&'r str> {
    if row.method() != ANY {
        return vec![row.method()];
    }
    let declared = |m: &&str| {
        rows.iter()
            .any(|r| r.path() == row.path() && r.method().eq_ignore_ascii_case(m))
    };
    METHODS.iter().copied().filter(|m| !declared(m)).collect()
}

/// A template with its parameter names dropped (`/a/{id}` → `/a/{}`, greedy `{proxy+}` →
/// `{+}`), to compare routes.
fn unnamed(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let Some((name, tail)) = after.split_once('}') else {
            out.push('{');
            out.push_str(after);
            return out;
        };
        out.push_str(if name.ends_with('+') { "{+}" } else { "{}" });
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// API Gateway's greedy last segment `{proxy+}` in matchit's spelling, `{*proxy}`.
fn greedy_as_catch_all(path: &str) -> String {
    match path.rsplit_once("/{") {
        Some((head, last)) if last.ends_with("+}") && !last.contains('/') => {
            format!("{head}/{{*{}}}", &last[..last.len() - 2])
        }
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_each_route_with_its_parameter() {
        let table = RouteTable::global();
        let cases = [
            ("GET", "/products", Operation::ListProducts, None),
            (
                "GET",
                "/product/widget",
                Operation::GetProduct,
                Some("widget"),
            ),
            (
                "PUT",
                "/product/a%20b",
                Operation::PutProduct,
                Some("a%20b"),
            ),
            ("DELETE", "/product/x", Operation::DeleteProduct, Some("x")),
            ("get", "/products", Operation::ListProducts, None),
        ];
        for (method, path, operation, name) in cases {
            let matched = table.find(method, path).unwrap();
            assert_eq!(matched.route.operation, operation, "{method} {path}");
            assert_eq!(matched.name, name, "{method} {path}");
        }
    }

    #[test]
    fn unknown_paths_are_not_found() {
        let table = RouteTable::global();
        for path in [
            "/",
            "/product",
            "/product/",
            "/products/x",
            "/product/a/b",
            "/PRODUCTS",
            "",
        ] {
            assert_eq!(
                table.find("GET", path),
                Err(RouteError::NotFound),
                "{path:?}"
            );
        }
    }

    #[test]
    fn known_path_wrong_method_lists_allowed_methods() {
        let table = RouteTable::global();
        assert_eq!(
            table.find("POST", "/product/x"),
            Err(RouteError::MethodNotAllowed {
                allow: "GET, PUT, DELETE".into()
            })
        );
        assert_eq!(
            table.find("DELETE", "/products"),
            Err(RouteError::MethodNotAllowed {
                allow: "GET".into()
            })
        );
    }

    struct Row(&'static str, &'static str);
    impl RouteKey for Row {
        fn method(&self) -> &str {
            self.0
        }
        fn path(&self) -> &str {
            self.1
        }
    }

    #[test]
    fn refuses_duplicates_and_paths_it_cannot_hold() {
        let table = |rows: Vec<Row>| RouteTable::new(rows).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            table(vec![Row("GET", "/a/{id}"), Row("GET", "/a/{name}")]),
            Err("GET /a/{name}: duplicate route (same as GET /a/{id})".into())
        );
        assert!(table(vec![Row("GET", "/a"), Row("get", "/a")]).is_err());
        assert_eq!(unnamed("/a/{id}/b/{proxy+}"), "/a/{}/b/{+}");
        for bad in ["/a/{x}{y}", "/a/{", "/a/{}", "/a/{*x}/b"] {
            let e = table(vec![Row("GET", bad)]).unwrap_err();
            assert!(e.contains("router cannot hold"), "{bad}: {e}");
        }
        assert!(
            table(vec![Row("GET", "/a/{id}"), Row("PUT", "/a/{name}")])
                .unwrap_err()
                .contains("router cannot hold")
        );
    }

    #[test]
    fn greedy_segments_match_the_rest_of_the_path() {
        let table =
            RouteTable::new(vec![Row("GET", "/files/{proxy+}"), Row("GET", "/files")]).unwrap();
        assert_eq!(
            table.find("GET", "/files/a/b.txt").unwrap().route.1,
            "/files/{proxy+}"
        );
        assert_eq!(table.find("GET", "/files").unwrap().route.1, "/files");
    }

    #[test]
    fn any_serves_the_methods_its_path_does_not_declare() {
        let table = RouteTable::new(vec![
            Row("ANY", "/orders/{id}"),
            Row("GET", "/orders/{id}"),
            Row("ANY", "/health"),
        ])
        .unwrap();
        let method_of = |method, path| table.find(method, path).map(|m| m.route.0);
        assert_eq!(method_of("GET", "/orders/7"), Ok("GET"));
        assert_eq!(method_of("get", "/orders/7"), Ok("GET"));
        for method in ["POST", "delete", "HEAD", "OPTIONS"] {
            assert_eq!(method_of(method, "/orders/7"), Ok("ANY"), "{method}");
        }
        assert_eq!(method_of("GET", "/health"), Ok("ANY"));
        for method in ["TRACE", "$connect"] {
            assert!(matches!(
                table.find(method, "/health"),
                Err(RouteError::MethodNotAllowed { .. })
            ));
        }
        let rows = table.routes();
        assert_eq!(
            table.methods_of(&rows[0]),
            ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        );
        assert_eq!(table.methods_of(&rows[1]), ["GET"]);
        assert_eq!(table.methods_of(&rows[2]), METHODS);
        assert!(
            RouteTable::new(vec![Row("ANY", "/a/{id}"), Row("ANY", "/a/{name}")])
                .map(|_| ())
                .unwrap_err()
                .to_string()
                .contains("duplicate route")
        );
    }

    #[test]
    fn every_route_declares_scopes_and_is_unique() {
        for (i, route) in ROUTES.iter().enumerate() {
            let open = route.requirement == Requirement::Public;
            assert!(
                open || !route.requirement.scopes().is_empty(),
                "{} names no scope",
                route.route_key()
            );
            assert!(
                ROUTES[..i]
                    .iter()
                    .all(|r| r.route_key() != route.route_key()),
                "{} listed twice",
                route.route_key()
            );
        }
    }
}
