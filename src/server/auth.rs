//! The `Biglearn-Api-Token` check (A3): compared in constant time, so the
//! time taken does not reveal how much of a guess was right.

use axum::http::HeaderMap;

use super::errors::ApiError;
use super::TOKEN_HEADER;

/// Whether `given` equals `expected`, in time that depends only on their
/// lengths.
pub fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = given.len() ^ expected.len();
    for (i, byte) in expected.iter().enumerate() {
        let other = given.get(i).copied().unwrap_or(0);
        difference |= usize::from(byte ^ other);
    }
    difference == 0
}

/// 401 unless the header carries the token.
pub fn check_token(headers: &HeaderMap, token: &str) -> Result<(), ApiError> {
    match headers.get(TOKEN_HEADER) {
        Some(value) if constant_time_eq(value.as_bytes(), token.as_bytes()) => Ok(()),
        _ => Err(ApiError::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_only_when_identical() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abd", b"abc"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
    }
}
