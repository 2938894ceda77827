//! Error text safe to log. serde's messages quote the value they choke on (`invalid type: string
//! "Bearer eyJ…", expected a map`), and in an API Gateway event that value can be a header
//! holding a token. Event-reading errors are logged and returned to the runtime through
//! [`json_error`], which keeps what went wrong and where, not the value.

/// `error`'s message with every quoted value replaced by `"…"`.
pub fn json_error(error: &impl std::fmt::Display) -> String {
    let message = error.to_string();
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('"');
    out.push_str(parts.next().unwrap_or_default());
    let mut quoted = true;
    for part in parts {
        out.push_str(if quoted { "\"…" } else { "\"" });
        if !quoted {
            out.push_str(part);
        }
        quoted = !quoted;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_and_where_but_not_the_value() {
        let error = serde_json::from_str::<std::collections::HashMap<String, String>>(
            r#""Bearer secret-token""#,
        )
        .unwrap_err();
        assert_eq!(
            json_error(&error),
            "invalid type: string \"…\", expected a map at line 1 column 21"
        );
        let error = serde_json::from_str::<u8>("[").unwrap_err();
        assert_eq!(json_error(&error), error.to_string());
    }
}
