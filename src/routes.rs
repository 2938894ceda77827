//! The route table: the single source of truth for which method and path need which scopes.
//!
//! `product-api` uses it to re-check scopes, the authorizer to decide and to list every route a
//! token may call in its Allow policy, and a test keeps `template.yaml` in step with it. Paths use
//! API Gateway's template syntax (`/product/{name}`), which is also what `matchit` understands.

use crate::scopes::Requirement;
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

/// A request matched to its route, with the path parameters still as they came (percent-encoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched<'p> {
    /// The route that matched.
    pub route: &'static Route,
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

/// A path router over [`ROUTES`], built once per process.
pub struct RouteTable {
    router: matchit::Router<Vec<&'static Route>>,
}

static TABLE: LazyLock<RouteTable> = LazyLock::new(|| RouteTable::new(ROUTES));

impl RouteTable {
    /// The table of this API's routes.
    pub fn global() -> &'static RouteTable {
        &TABLE
    }

    /// Builds a router; a table with conflicting paths is a programming error caught by the tests.
    fn new(routes: &'static [Route]) -> Self {
        let mut paths: Vec<(&str, Vec<&'static Route>)> = Vec::new();
        for route in routes {
            match paths.iter_mut().find(|(p, _)| *p == route.path) {
                Some((_, list)) => list.push(route),
                None => paths.push((route.path, vec![route])),
            }
        }
        let mut router = matchit::Router::new();
        for (path, list) in paths {
            router
                .insert(path, list)
                .expect("route table paths must not conflict");
        }
        RouteTable { router }
    }

    /// Finds the route for a method and a concrete path such as `/product/widget`.
    pub fn find<'p>(&self, method: &str, path: &'p str) -> Result<Matched<'p>, RouteError> {
        let found = self.router.at(path).map_err(|_| RouteError::NotFound)?;
        let name = found.params.get("name");
        match found
            .value
            .iter()
            .find(|r| r.method.eq_ignore_ascii_case(method))
        {
            Some(route) => Ok(Matched { route, name }),
            None => Err(RouteError::MethodNotAllowed {
                allow: found
                    .value
                    .iter()
                    .map(|r| r.method)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
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
