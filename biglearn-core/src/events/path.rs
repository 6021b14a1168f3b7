//! JSON paths and validation errors (decision A2: every client mistake is
//! reported with the path of the offending field, all of them at once).

use std::fmt;

/// One step of a [`JsonPath`]: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    /// A key of an object.
    Key(String),
    /// A position in an array.
    Index(usize),
}

/// Where a value sits inside a request body, e.g. `responses[3].student_uuid`.
///
/// The empty path is the body itself and prints as `(request body)`. Keys that
/// are not plain identifiers print in brackets as JSON strings
/// (`extra["odd key"]`), so every path reads back unambiguously.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct JsonPath(Vec<PathSegment>);

impl JsonPath {
    /// The path of the whole body.
    pub fn root() -> Self {
        JsonPath(Vec::new())
    }

    /// This path extended by an object key.
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Key(key.to_owned()));
        JsonPath(segments)
    }

    /// This path extended by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Index(index));
        JsonPath(segments)
    }

    /// The steps from the body to the value.
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// Whether this is the body itself.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

/// A borrowed, allocation-free path used while decoding: a chain of
/// stack frames that becomes a [`JsonPath`] only when an error is reported
/// (a large book has a million uuids and usually no error).
#[derive(Debug, Clone, Copy)]
pub(crate) enum At<'a> {
    /// The body.
    Root,
    /// A key below a parent.
    Key(&'a At<'a>, &'a str),
    /// An index below a parent.
    Index(&'a At<'a>, usize),
}

impl<'a> At<'a> {
    /// This path extended by an object key.
    pub(crate) fn key(&'a self, key: &'a str) -> At<'a> {
        At::Key(self, key)
    }

    /// This path extended by an array index.
    pub(crate) fn index(&'a self, index: usize) -> At<'a> {
        At::Index(self, index)
    }

    /// The owned path.
    pub(crate) fn owned(&self) -> JsonPath {
        let mut segments = Vec::new();
        let mut at = self;
        loop {
            match at {
                At::Root => break,
                At::Key(parent, key) => {
                    segments.push(PathSegment::Key((*key).to_owned()));
                    at = parent;
                }
                At::Index(parent, index) => {
                    segments.push(PathSegment::Index(*index));
                    at = parent;
                }
            }
        }
        segments.reverse();
        JsonPath(segments)
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(request body)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Key(key) if is_plain_key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                PathSegment::Key(key) => {
                    let quoted = serde_json::Value::String(key.clone()).to_string();
                    write!(f, "[{quoted}]")?;
                }
                PathSegment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// One problem with a request: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ValidationError {
    /// Where the offending value is (or, for a missing field, would be).
    pub path: JsonPath,
    /// What is wrong, naming what was expected and what was found.
    pub message: String,
}

impl ValidationError {
    /// An error at `path`.
    pub fn new(path: JsonPath, message: impl Into<String>) -> Self {
        ValidationError {
            path,
            message: message.into(),
        }
    }
}

/// Every problem found in one request, in the order the decoder checks them
/// (declared fields in wire order, depth first, then unknown keys); never
/// empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// The errors.
    pub fn errors(&self) -> &[ValidationError] {
        &self.0
    }

    /// One `"<path>: <message>"` line per error: the `errors` array of a 400
    /// response body (A2).
    pub fn messages(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// Whether there is no error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn push(&mut self, path: JsonPath, message: impl Into<String>) {
        self.0.push(ValidationError::new(path, message));
    }

    pub(crate) fn push_at(&mut self, at: &At<'_>, message: impl Into<String>) {
        self.push(at.owned(), message);
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            0 => f.write_str("no validation errors"),
            1 => write!(f, "invalid request: {}", self.0[0]),
            n => {
                write!(f, "invalid request ({n} errors): ")?;
                for (i, error) in self.0.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{error}")?;
                }
                Ok(())
            }
        }
    }
}

impl IntoIterator for ValidationErrors {
    type Item = ValidationError;
    type IntoIter = std::vec::IntoIter<ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_javascript_accessors() {
        let path = JsonPath::root()
            .key("book")
            .key("contents")
            .index(0)
            .key("pools")
            .index(1)
            .key("exercise_uuids")
            .index(7);
        assert_eq!(
            path.to_string(),
            "book.contents[0].pools[1].exercise_uuids[7]"
        );
        assert_eq!(JsonPath::root().to_string(), "(request body)");
        assert_eq!(
            JsonPath::root().key("a b").key("c\"d").to_string(),
            "[\"a b\"][\"c\\\"d\"]"
        );
        assert_eq!(JsonPath::root().index(2).key("x").to_string(), "[2].x");
    }

    #[test]
    fn borrowed_paths_materialise_like_owned_ones() {
        let root = At::Root;
        let book = root.key("book");
        let contents = book.key("contents");
        let first = contents.index(0);
        let odd = first.key("odd key");
        assert_eq!(
            odd.owned(),
            JsonPath::root()
                .key("book")
                .key("contents")
                .index(0)
                .key("odd key")
        );
        assert_eq!(odd.owned().to_string(), "book.contents[0][\"odd key\"]");
        assert!(root.owned().is_root());
    }

    #[test]
    fn errors_list_every_problem() {
        let mut errors = ValidationErrors::default();
        errors.push(JsonPath::root().key("a"), "missing required field");
        errors.push(JsonPath::root().key("b").index(1), "expected a uuid");
        assert_eq!(
            errors.messages(),
            vec!["a: missing required field", "b[1]: expected a uuid"]
        );
        assert_eq!(
            errors.to_string(),
            "invalid request (2 errors): a: missing required field; b[1]: expected a uuid"
        );
    }
}
