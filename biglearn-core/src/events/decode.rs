//! A small validating walker over `serde_json::Value`.
//!
//! serde's derive stops at the first error; A2 wants every problem of a
//! request reported with its path. Each decoder here has the shape
//! `fn(&Value, &At<'_>, &mut ValidationErrors) -> Option<T>`: it returns the
//! typed value, or pushes one error per problem and returns `None`. Object
//! fields are read through [`Obj`], which records missing keys and lets the
//! caller reject unknown ones (request top level) or keep them verbatim
//! (nested objects, A2).

use serde_json::{Map, Value};
use uuid::Uuid;

use super::datetime::Datetime;
use super::path::{At, JsonPath, ValidationErrors};
use super::slot::Slot;
use crate::ids::parse_uuid;
use crate::log::SequenceNumber;

/// Longest rendering of an offending value inside an error message.
const MAX_SHOWN: usize = 60;

/// A short rendering of a value for error messages: strings quoted and cut
/// to [`MAX_SHOWN`] characters, numbers as written, containers by kind.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            if s.chars().count() > MAX_SHOWN {
                let cut: String = s.chars().take(MAX_SHOWN).collect();
                format!("{:?}… ({} characters)", cut, s.chars().count())
            } else {
                format!("{s:?}")
            }
        }
        Value::Array(items) => format!("an array of {} items", items.len()),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// Pushes `expected <what>, got <value>`.
pub(crate) fn expected(errs: &mut ValidationErrors, path: &At<'_>, what: &str, got: &Value) {
    errs.push_at(path, format!("expected {what}, got {}", describe(got)));
}

/// Whether unknown keys of an object are a client mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnknownKeys {
    /// The request top level: an unknown key is a 400 (A2).
    Reject,
    /// Nested objects: accepted (kept verbatim or dropped by the §4.3 slice).
    Accept,
}

/// A JSON object being read, with its path.
pub(crate) struct Obj<'v, 'p> {
    pub(crate) map: &'v Map<String, Value>,
    pub(crate) path: At<'p>,
}

impl<'v, 'p> Obj<'v, 'p> {
    /// The object at `path`, or an error if `value` is not an object.
    pub(crate) fn new(
        value: &'v Value,
        path: &At<'p>,
        errs: &mut ValidationErrors,
    ) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Obj { map, path: *path }),
            other => {
                expected(errs, path, "an object", other);
                None
            }
        }
    }

    /// A key that must be present (any value, even null, is handed to `decode`).
    pub(crate) fn required<T>(
        &self,
        errs: &mut ValidationErrors,
        key: &str,
        decode: impl FnOnce(&'v Value, &At<'_>, &mut ValidationErrors) -> Option<T>,
    ) -> Option<T> {
        let path = self.path.key(key);
        match self.map.get(key) {
            Some(value) => decode(value, &path, errs),
            None => {
                errs.push_at(&path, "missing required field");
                None
            }
        }
    }

    /// A key that must be present and may be null.
    pub(crate) fn nullable<T>(
        &self,
        errs: &mut ValidationErrors,
        key: &str,
        decode: impl FnOnce(&'v Value, &At<'_>, &mut ValidationErrors) -> Option<T>,
    ) -> Option<Option<T>> {
        self.required(errs, key, |value, path, errs| match value {
            Value::Null => Some(None),
            other => decode(other, path, errs).map(Some),
        })
    }

    /// A key that may be absent or null (the §4.3 slice keeps either as sent).
    /// `None` only when the value is present and invalid.
    pub(crate) fn optional<T>(
        &self,
        errs: &mut ValidationErrors,
        key: &str,
        decode: impl FnOnce(&'v Value, &At<'_>, &mut ValidationErrors) -> Option<T>,
    ) -> Option<Slot<T>> {
        match self.map.get(key) {
            None => Some(Slot::Absent),
            Some(Value::Null) => Some(Slot::Null),
            Some(value) => decode(value, &self.path.key(key), errs).map(Slot::Present),
        }
    }

    /// Applies the unknown-key policy; returns the unknown keys verbatim
    /// (empty when rejected).
    pub(crate) fn rest(
        &self,
        errs: &mut ValidationErrors,
        known: &[&str],
        policy: UnknownKeys,
    ) -> Map<String, Value> {
        let mut extra = Map::new();
        for (key, value) in self.map {
            if known.contains(&key.as_str()) {
                continue;
            }
            match policy {
                UnknownKeys::Reject => errs.push_at(
                    &self.path.key(key),
                    format!("unknown field (expected one of: {})", known.join(", ")),
                ),
                UnknownKeys::Accept => {
                    extra.insert(key.clone(), value.clone());
                }
            }
        }
        extra
    }
}

/// A uuid in the 8-4-4-4-12 form, any version, either case (A9), as any id type.
pub(crate) fn uuid<T: From<Uuid>>(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<T> {
    match value.as_str().map(parse_uuid) {
        Some(Ok(uuid)) => Some(T::from(uuid)),
        _ => {
            expected(errs, path, "a uuid (8-4-4-4-12 hex digits)", value);
            None
        }
    }
}

/// A uuid, plus the text exactly as sent (for echoes, A9).
pub(crate) fn uuid_with_text<T: From<Uuid>>(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<(T, String)> {
    let id = uuid(value, path, errs)?;
    Some((id, value.as_str().unwrap_or_default().to_owned()))
}

/// A wire datetime (api.md §2.6).
pub(crate) fn datetime(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<Datetime> {
    let Some(text) = value.as_str() else {
        expected(
            errs,
            path,
            "a UTC datetime string like 2017-08-01T12:00:00.000000Z",
            value,
        );
        return None;
    };
    match Datetime::parse(text) {
        Ok(datetime) => Some(datetime),
        Err(err) => {
            let what = format!(
                "a UTC datetime like 2017-08-01T12:00:00.000000Z ({})",
                err.reason
            );
            expected(errs, path, &what, value);
            None
        }
    }
}

/// `true` or `false`.
pub(crate) fn boolean(value: &Value, path: &At<'_>, errs: &mut ValidationErrors) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        other => {
            expected(errs, path, "a boolean", other);
            None
        }
    }
}

/// An integer in `min..=max`. Floats (even `1.0`), negative numbers below
/// `min` and numbers above `max` are rejected with the range in the message.
pub(crate) fn integer_in(
    min: u64,
    max: u64,
) -> impl Fn(&Value, &At<'_>, &mut ValidationErrors) -> Option<u64> {
    move |value, path, errs| {
        let in_range = value.as_u64().filter(|n| (min..=max).contains(n));
        if in_range.is_none() {
            let what = if max == i64::MAX as u64 && min == 0 {
                format!("a non-negative integer no larger than {max}")
            } else {
                format!("an integer from {min} to {max}")
            };
            expected(errs, path, &what, value);
        }
        in_range
    }
}

/// A non-negative integer that fits a signed 64-bit column (api.md §2.6).
pub(crate) fn non_negative(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<u64> {
    integer_in(0, i64::MAX as u64)(value, path, errs)
}

/// A non-negative integer count that fits `u32`.
pub(crate) fn count_u32(value: &Value, path: &At<'_>, errs: &mut ValidationErrors) -> Option<u32> {
    integer_in(0, u64::from(u32::MAX))(value, path, errs).and_then(|n| u32::try_from(n).ok())
}

/// A per-stream sequence number: 0 to `i64::MAX` (api.md §4.4).
pub(crate) fn sequence_number(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<SequenceNumber> {
    non_negative(value, path, errs).and_then(|n| SequenceNumber::new(n).ok())
}

/// A string of `min..=max` characters (Unicode scalar values).
pub(crate) fn string_len(
    min: usize,
    max: usize,
) -> impl Fn(&Value, &At<'_>, &mut ValidationErrors) -> Option<String> {
    move |value, path, errs| {
        let Some(text) = value.as_str() else {
            expected(
                errs,
                path,
                &format!("a string of {min} to {max} characters"),
                value,
            );
            return None;
        };
        let length = text.chars().count();
        if (min..=max).contains(&length) {
            Some(text.to_owned())
        } else {
            errs.push_at(
                path,
                format!("expected a string of {min} to {max} characters, got {length} characters"),
            );
            None
        }
    }
}

/// A non-empty string of any length.
pub(crate) fn non_empty_string(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<String> {
    match value.as_str() {
        Some(text) if !text.is_empty() => Some(text.to_owned()),
        _ => {
            expected(errs, path, "a non-empty string", value);
            None
        }
    }
}

/// An array whose every item is decoded (all item errors are reported);
/// `max_items` is checked first but does not stop item validation.
pub(crate) fn array<T>(
    max_items: Option<usize>,
    item: impl Fn(&Value, &At<'_>, &mut ValidationErrors) -> Option<T>,
) -> impl Fn(&Value, &At<'_>, &mut ValidationErrors) -> Option<Vec<T>> {
    move |value, path, errs| {
        let Value::Array(items) = value else {
            expected(errs, path, "an array", value);
            return None;
        };
        let mut ok = true;
        if let Some(max) = max_items {
            if items.len() > max {
                errs.push_at(
                    path,
                    format!("expected at most {max} items, got {}", items.len()),
                );
                ok = false;
            }
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, value) in items.iter().enumerate() {
            match item(value, &path.index(i), errs) {
                Some(decoded) => out.push(decoded),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

/// A number in [0, 1] (integers included), e.g. a bound of `clue_data`.
pub(crate) fn unit_number(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<f64> {
    let found = value.as_f64().filter(|n| (0.0..=1.0).contains(n));
    if found.is_none() {
        expected(errs, path, "a number from 0 to 1", value);
    }
    found
}

/// A bulk body `{ <key>: [ item, … ] }`: an object with that one key (any
/// other top-level key is rejected, A2) holding at most `max` items, each
/// decoded by `item`.
pub(crate) fn bulk<T>(
    body: &Value,
    key: &str,
    max: usize,
    item: impl Fn(&Value, &At<'_>, &mut ValidationErrors) -> Option<T>,
) -> Result<Vec<T>, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let parsed = Obj::new(body, &At::Root, &mut errs).and_then(|o| {
        let items = o.required(&mut errs, key, array(Some(max), item));
        o.rest(&mut errs, &[key], UnknownKeys::Reject);
        items
    });
    finish(parsed, errs)
}

/// Parses a request body: JSON text that must be an object (api.md §2.3).
pub fn parse_body(bytes: &[u8]) -> Result<Value, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value @ Value::Object(_)) => return Ok(value),
        Ok(other) => expected(&mut errs, &At::Root, "a JSON object", &other),
        Err(err) => errs.push(
            JsonPath::root(),
            format!("could not parse the request JSON: {err}"),
        ),
    }
    Err(errs)
}

/// Finishes a decode: the value if no error was pushed.
pub(crate) fn finish<T>(value: Option<T>, errs: ValidationErrors) -> Result<T, ValidationErrors> {
    match value {
        Some(value) if errs.is_empty() => Ok(value),
        _ if !errs.is_empty() => Err(errs),
        // Defensive: a decoder returned None without saying why.
        _ => Err(ValidationErrors(vec![super::path::ValidationError::new(
            JsonPath::root(),
            "invalid request",
        )])),
    }
}
