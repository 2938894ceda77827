//! `template.yaml`'s CORS configuration against `local_gateway::cors`: what `cargo local` applies is
//! what the HTTP API deploys, and the REST API has no half CORS set-up.
//!
//! The template uses CloudFormation short-form tags (`!If`, `!Split`, ...); serde_yaml keeps them
//! as `Value::Tagged`, so the file is walked as an untyped `Value`.

use local_gateway::cors::{
    ALLOW_HEADERS, ALLOW_METHODS, Cors, EXPOSE_HEADERS, MAX_AGE_SECS, ORIGINS_PARAMETER,
};
use serde_yaml::Value;
use std::path::Path;

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

fn get<'v>(value: &'v Value, key: &str) -> &'v Value {
    value
        .as_mapping()
        .and_then(|m| m.get(key))
        .unwrap_or_else(|| panic!("no {key:?} in {value:?}"))
}

/// The `[tag, value]` of a short-form intrinsic (`!If [...]` is `("If", [...])`).
fn tagged<'v>(value: &'v Value, tag: &str) -> &'v Value {
    match value {
        Value::Tagged(t) if t.tag == tag => &t.value,
        other => panic!("expected !{tag}, found {other:?}"),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("expected a list, found {value:?}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_http_api_deploys_the_lists_the_local_gateway_applies() {
    let template = template();
    let api = get(get(get(&template, "Resources"), "JwtApi"), "Properties");
    let when = tagged(get(api, "CorsConfiguration"), "If")
        .as_sequence()
        .expect("!If [condition, then, else]");
    assert_eq!(when[0].as_str(), Some("HasCors"));
    assert_eq!(
        tagged(&when[2], "Ref").as_str(),
        Some("AWS::NoValue"),
        "no CORS configuration without origins"
    );
    let cors = &when[1];
    assert_eq!(strings(get(cors, "AllowHeaders")), owned(ALLOW_HEADERS));
    assert_eq!(strings(get(cors, "AllowMethods")), owned(ALLOW_METHODS));
    assert_eq!(strings(get(cors, "ExposeHeaders")), owned(EXPOSE_HEADERS));
    assert_eq!(get(cors, "MaxAge").as_u64(), Some(u64::from(MAX_AGE_SECS)));
    let credentials = cors.as_mapping().and_then(|m| m.get("AllowCredentials"));
    assert!(
        credentials.is_none_or(|v| v.as_bool() == Some(false)),
        "credentials stay off: the gateway never sends Access-Control-Allow-Credentials"
    );
    // AllowOrigins: !Split [",", !Ref CorsAllowOrigin], the list --cors-allow-origin takes.
    let split = tagged(get(cors, "AllowOrigins"), "Split")
        .as_sequence()
        .expect("!Split [delimiter, text]");
    assert_eq!(split[0].as_str(), Some(","));
    assert_eq!(tagged(&split[1], "Ref").as_str(), Some(ORIGINS_PARAMETER));
}

#[test]
fn has_cors_means_the_origin_parameter_is_not_empty() {
    let template = template();
    let condition = get(get(&template, "Conditions"), "HasCors");
    let not = tagged(condition, "Not")
        .as_sequence()
        .expect("!Not [condition]");
    let equals = tagged(&not[0], "Equals")
        .as_sequence()
        .expect("!Equals [a, b]");
    assert_eq!(tagged(&equals[0], "Ref").as_str(), Some(ORIGINS_PARAMETER));
    assert_eq!(equals[1].as_str(), Some(""));
}

#[test]
fn every_origin_list_the_template_accepts_the_local_gateway_reads_alike() {
    let template = template();
    let parameter = get(get(&template, "Parameters"), ORIGINS_PARAMETER);
    assert_eq!(get(parameter, "Default").as_str(), Some(""));
    let pattern = get(parameter, "AllowedPattern")
        .as_str()
        .unwrap()
        .to_owned();
    // A few lists either side of the template's pattern; the gateway takes every one the template
    // takes (and, beyond it, only the local port wildcard).
    let accepted = [
        "https://app.example.com",
        "https://app.example.com,http://localhost:5173",
        "*",
        "https://*",
        "http://*,https://app.example.com:8443",
    ];
    for list in accepted {
        assert!(matches(&pattern, list), "the template should take {list:?}");
        assert!(
            matches!(Cors::parse(list), Ok(Some(_))),
            "the gateway should take {list:?}"
        );
    }
    for list in [
        "https://*.example.com",
        "app.example.com",
        "https://a.example.com/",
    ] {
        assert!(
            !matches(&pattern, list),
            "the template should refuse {list:?}"
        );
        assert!(
            Cors::parse(list).is_err(),
            "the gateway should refuse {list:?}"
        );
    }
    assert!(
        !matches(&pattern, "http://localhost:*"),
        "port wildcards are local only"
    );
}

/// The template's `AllowedPattern`, for the few shapes it has: `^$|^(A)(,(A))*$` where `A` is
/// `\*|https?://(\*|[^,*/\s]+)`. Checked structurally rather than with a regex engine (none is a
/// dependency): the pattern text must be exactly that, and lists are matched by hand.
fn matches(pattern: &str, list: &str) -> bool {
    let entry = r"(\*|https?://(\*|[^,*/\s]+))";
    assert_eq!(
        pattern,
        format!("^$|^{entry}(,{entry})*$"),
        "CorsAllowOrigin's AllowedPattern changed: update this test's matcher"
    );
    if list.is_empty() {
        return true;
    }
    list.split(',').all(|entry| {
        if entry == "*" {
            return true;
        }
        let Some(rest) = entry
            .strip_prefix("https://")
            .or_else(|| entry.strip_prefix("http://"))
        else {
            return false;
        };
        rest == "*"
            || (!rest.is_empty()
                && !rest.contains(|c: char| c == ',' || c == '*' || c == '/' || c.is_whitespace()))
    })
}

#[test]
fn the_rest_api_has_no_half_cors_set_up() {
    let template = template();
    let api = get(get(get(&template, "Resources"), "RestApi"), "Properties");
    let properties = api.as_mapping().unwrap();
    assert!(
        properties.get("Cors").is_none(),
        "RestApi: OPTIONS methods alone leave the proxied answers and the 401/403 without CORS \
         headers; browser apps use JwtApi (see the comment in template.yaml)"
    );
    if let Some(responses) = properties
        .get("GatewayResponses")
        .and_then(Value::as_mapping)
    {
        for (name, response) in responses {
            let text = serde_yaml::to_string(response).unwrap();
            assert!(
                !text.to_ascii_lowercase().contains("access-control-"),
                "RestApi gateway response {name:?} sets CORS headers without a CORS set-up"
            );
        }
    }
}
