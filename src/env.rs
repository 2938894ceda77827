//! What both programs read from outside: the process environment and the wall clock, each in one
//! place. Everything below takes the values as arguments (`now`, a lookup), so it is tested
//! without touching either.

use std::time::{SystemTime, UNIX_EPOCH};

/// An environment variable, when set to something other than blanks: Lambda consoles and
/// templates leave unset optional variables as `""`.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A setting that holds a document: the document itself when it starts with `{` or spans
/// several lines (inline JSON, inline YAML), else the path of a file bundled with the function or
/// from a layer (`/opt/...`), read. One rule for every such setting (`AUTH_ROUTES`,
/// `AUTH_CONFIG`, `AUTH_JWKS`); the error names the path, never the content.
pub fn inline_or_file(value: &str) -> Result<String, String> {
    if value.trim_start().starts_with('{') || value.trim().contains('\n') {
        return Ok(value.to_owned());
    }
    std::fs::read_to_string(value.trim()).map_err(|e| format!("cannot read {value:?}: {e}"))
}

/// Milliseconds since the Unix epoch; 0 if the clock is before it.
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Seconds since the Unix epoch, what token claims are compared with.
pub fn now() -> u64 {
    now_millis() / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_setting_is_inline_when_it_looks_like_one_else_a_file() {
        assert_eq!(inline_or_file(" {\"a\": 1}").unwrap(), " {\"a\": 1}");
        let yaml = "openapi: 3.1.0\npaths: {}";
        assert_eq!(inline_or_file(yaml).unwrap(), yaml);
        let path = std::env::temp_dir().join(format!("setting-{}.json", std::process::id()));
        std::fs::write(&path, "[1]").unwrap();
        let named = format!(" {} ", path.display());
        assert_eq!(inline_or_file(&named).unwrap(), "[1]");
        let missing = inline_or_file("/nonexistent/keys.json").unwrap_err();
        assert!(
            missing.starts_with("cannot read \"/nonexistent/keys.json\""),
            "{missing}"
        );
    }
}
