//! Validation of the bodies `biglearn-core` has no parser for: the engine
//! reads (api.md §5.7, §5.9), the update_* endpoints (§5.8, §5.9) and
//! fetch_course_ecosystem_statuses (§5.4). Same rules and message style as
//! the core parsers (A2): every problem, each with its JSON path; unknown
//! keys rejected at the top level only.

use serde_json::{Map, Value};
use uuid::Uuid;

use biglearn_core::engine_store::{AlgorithmName, ClueData};
use biglearn_core::events::{JsonPath, ValidationError, ValidationErrors};
use biglearn_core::ids::parse_uuid;

/// Items per bulk call (A8).
pub const MAX_ITEMS: usize = 1000;
/// Largest `max_num_exercises`, and most exercise uuids per update.
pub const MAX_EXERCISES: u64 = 1000;

/// Collects errors while walking a body.
#[derive(Debug, Default)]
pub struct Errors(Vec<ValidationError>);

impl Errors {
    /// Records a problem at `path`.
    pub fn push(&mut self, path: &JsonPath, message: impl Into<String>) {
        self.0.push(ValidationError::new(path.clone(), message));
    }

    /// `expected <what>, got <value>`.
    pub fn expected(&mut self, path: &JsonPath, what: &str, got: &Value) {
        self.push(path, format!("expected {what}, got {}", describe(got)));
    }

    /// The value when nothing was reported, else every error.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ValidationErrors> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ if self.0.is_empty() => Err(ValidationErrors(vec![ValidationError::new(
                JsonPath::root(),
                "invalid request",
            )])),
            _ => Err(ValidationErrors(self.0)),
        }
    }
}

/// A short rendering of an offending value.
pub fn describe(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > 60 => {
            let cut: String = s.chars().take(60).collect();
            format!("{cut:?}… ({} characters)", s.chars().count())
        }
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => format!("an array of {} items", items.len()),
        Value::Object(_) => "an object".to_owned(),
        other => other.to_string(),
    }
}

/// An object with its path.
pub struct Obj<'v> {
    /// The keys.
    pub map: &'v Map<String, Value>,
    /// Where it is.
    pub path: JsonPath,
}

impl<'v> Obj<'v> {
    /// The object at `path`, or an error.
    pub fn new(value: &'v Value, path: JsonPath, errs: &mut Errors) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Obj { map, path }),
            other => {
                errs.expected(&path, "an object", other);
                None
            }
        }
    }

    /// A required key, decoded.
    pub fn required<T>(
        &self,
        errs: &mut Errors,
        key: &str,
        decode: impl FnOnce(&'v Value, &JsonPath, &mut Errors) -> Option<T>,
    ) -> Option<T> {
        let path = self.path.key(key);
        match self.map.get(key) {
            Some(value) => decode(value, &path, errs),
            None => {
                errs.push(&path, "missing required field");
                None
            }
        }
    }

    /// An optional key (absent or null is `Some(None)`); `None` when invalid.
    pub fn optional<T>(
        &self,
        errs: &mut Errors,
        key: &str,
        decode: impl FnOnce(&'v Value, &JsonPath, &mut Errors) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(value) => decode(value, &self.path.key(key), errs).map(Some),
        }
    }

    /// Reports keys outside `known` (the request top level, A2).
    pub fn reject_unknown(&self, errs: &mut Errors, known: &[&str]) {
        for key in self.map.keys() {
            if !known.contains(&key.as_str()) {
                errs.push(
                    &self.path.key(key),
                    format!("unknown field (expected one of: {})", known.join(", ")),
                );
            }
        }
    }
}

/// A uuid (any version, either case, A9) and its text as sent.
pub fn uuid_text(value: &Value, path: &JsonPath, errs: &mut Errors) -> Option<(Uuid, String)> {
    match value.as_str().map(|t| (parse_uuid(t), t)) {
        Some((Ok(uuid), text)) => Some((uuid, text.to_owned())),
        _ => {
            errs.expected(path, "a uuid (8-4-4-4-12 hex digits)", value);
            None
        }
    }
}

/// A uuid.
pub fn uuid(value: &Value, path: &JsonPath, errs: &mut Errors) -> Option<Uuid> {
    uuid_text(value, path, errs).map(|(uuid, _)| uuid)
}

/// An algorithm name (1–255 bytes, matched case-insensitively, A6a).
pub fn algorithm(value: &Value, path: &JsonPath, errs: &mut Errors) -> Option<AlgorithmName> {
    match value.as_str().map(AlgorithmName::new) {
        Some(Ok(name)) => Some(name),
        _ => {
            errs.expected(
                path,
                "an algorithm name (a string of 1 to 255 bytes)",
                value,
            );
            None
        }
    }
}

/// An integer in `min..=max`.
pub fn integer_in(min: u64, max: u64) -> impl Fn(&Value, &JsonPath, &mut Errors) -> Option<u64> {
    move |value, path, errs| {
        let found = value.as_u64().filter(|n| (min..=max).contains(n));
        if found.is_none() {
            errs.expected(path, &format!("an integer from {min} to {max}"), value);
        }
        found
    }
}

/// A number in [0, 1].
pub fn unit_number(value: &Value, path: &JsonPath, errs: &mut Errors) -> Option<f64> {
    let found = value.as_f64().filter(|n| (0.0..=1.0).contains(n));
    if found.is_none() {
        errs.expected(path, "a number from 0 to 1", value);
    }
    found
}

/// `true` or `false`.
pub fn boolean(value: &Value, path: &JsonPath, errs: &mut Errors) -> Option<bool> {
    let found = value.as_bool();
    if found.is_none() {
        errs.expected(path, "a boolean", value);
    }
    found
}

/// An array of at most `max` items, each decoded (every item error kept).
pub fn array<T>(
    value: &Value,
    path: &JsonPath,
    errs: &mut Errors,
    max: usize,
    mut item: impl FnMut(&Value, &JsonPath, &mut Errors) -> Option<T>,
) -> Option<Vec<T>> {
    let Value::Array(items) = value else {
        errs.expected(path, "an array", value);
        return None;
    };
    let mut ok = true;
    if items.len() > max {
        errs.push(
            path,
            format!("expected at most {max} items, got {}", items.len()),
        );
        ok = false;
    }
    let mut out = Vec::with_capacity(items.len().min(max));
    for (i, value) in items.iter().enumerate() {
        match item(value, &path.index(i), errs) {
            Some(decoded) => out.push(decoded),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// A body `{ <key>: [ item, … ] }` of at most [`MAX_ITEMS`] items.
pub fn bulk<T>(
    body: &Value,
    key: &str,
    item: impl FnMut(&Value, &JsonPath, &mut Errors) -> Option<T>,
) -> Result<Vec<T>, ValidationErrors> {
    let mut errs = Errors::default();
    let parsed = Obj::new(body, JsonPath::root(), &mut errs).and_then(|o| {
        let items = o.required(&mut errs, key, |v, p, e| array(v, p, e, MAX_ITEMS, item));
        o.reject_unknown(&mut errs, &[key]);
        items
    });
    errs.finish(parsed)
}

/// A `spy_info` object (default `{}`).
pub fn spy_info(value: &Value, path: &JsonPath, errs: &mut Errors) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map.clone()),
        other => {
            errs.expected(path, "an object", other);
            None
        }
    }
}

/// A `clue_data` object: `minimum`, `most_likely`, `maximum` in [0, 1],
/// `is_real`, optional `ecosystem_uuid`; no other keys (api.md §2.6).
pub fn clue_data(value: &Value, path: &JsonPath, errs: &mut Errors) -> Option<ClueData> {
    const KEYS: [&str; 5] = [
        "minimum",
        "most_likely",
        "maximum",
        "is_real",
        "ecosystem_uuid",
    ];
    let o = Obj::new(value, path.clone(), errs)?;
    let minimum = o.required(errs, KEYS[0], unit_number);
    let most_likely = o.required(errs, KEYS[1], unit_number);
    let maximum = o.required(errs, KEYS[2], unit_number);
    let is_real = o.required(errs, KEYS[3], boolean);
    let ecosystem = o.optional(errs, KEYS[4], uuid);
    o.reject_unknown(errs, &KEYS);
    Some(ClueData {
        minimum: minimum?,
        most_likely: most_likely?,
        maximum: maximum?,
        is_real: is_real?,
        ecosystem_uuid: ecosystem?.map(Into::into),
    })
}
