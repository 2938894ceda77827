//! What both programs read from outside: the process environment and the wall clock, each in one
//! place. Everything below takes the values as arguments (`now`, a lookup), so it is tested
//! without touching either.

use std::time::{SystemTime, UNIX_EPOCH};

/// An environment variable, when set to something other than blanks: Lambda consoles and
/// templates leave unset optional variables as `""`.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
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
