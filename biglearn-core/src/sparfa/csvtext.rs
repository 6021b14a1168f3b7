//! A small CSV reader for the response, hint and split files (no I/O: it reads text).
//!
//! Fields are separated by commas; a field may be double-quoted, with `""` for a quote
//! inside. Records span one line. Empty lines are skipped but still counted, so line
//! numbers in errors match what an editor shows.

use super::error::{Result, SparfaError};

/// One parsed record with its 1-based line number.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based line number in the source text.
    pub line: usize,
    /// The fields, unquoted and trimmed of surrounding whitespace.
    pub fields: Vec<String>,
}

/// Splits `text` into records. The first record is the header.
pub fn records(text: &str, source_name: &str) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let raw = if line == 1 {
            raw.strip_prefix('\u{feff}').unwrap_or(raw)
        } else {
            raw
        };
        if raw.trim().is_empty() {
            continue;
        }
        out.push(Record {
            line,
            fields: split_line(raw, line, source_name)?,
        });
    }
    Ok(out)
}

fn split_line(raw: &str, line: usize, source_name: &str) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut was_quoted = false;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
        } else if c == ',' {
            fields.push(finish(std::mem::take(&mut field), was_quoted));
            was_quoted = false;
        } else if c == '"' && !was_quoted && field.trim().is_empty() {
            in_quotes = true;
            was_quoted = true;
            field.clear();
        } else if !was_quoted {
            // Text after a closing quote (other than a comma) is ignored.
            field.push(c);
        }
    }
    if in_quotes {
        return Err(SparfaError::UnterminatedQuote {
            source_name: source_name.to_string(),
            line,
        });
    }
    fields.push(finish(field, was_quoted));
    Ok(fields)
}

fn finish(field: String, was_quoted: bool) -> String {
    if was_quoted {
        field
    } else {
        field.trim().to_string()
    }
}

/// Finds the position of each required column (case-sensitive) in a header record.
pub fn header_positions(
    header: &Record,
    required: &[&str],
    source_name: &str,
) -> Result<Vec<usize>> {
    required
        .iter()
        .map(|name| {
            header
                .fields
                .iter()
                .position(|f| f == name)
                .ok_or_else(|| SparfaError::BadHeader {
                    source_name: source_name.to_string(),
                    expected: required.join(","),
                    found: header.fields.join(","),
                })
        })
        .collect()
}

/// Checks that a record has as many fields as the header.
pub fn check_width(record: &Record, width: usize, source_name: &str) -> Result<()> {
    if record.fields.len() == width {
        Ok(())
    } else {
        Err(SparfaError::FieldCount {
            source_name: source_name.to_string(),
            line: record.line,
            expected: width,
            found: record.fields.len(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splits_plain_and_quoted_fields() {
        let r = records("a,b,c\n1, \"x,\"\"y\"\" \",3\n\n\"q\",2,\n", "t").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].fields, vec!["1", "x,\"y\" ", "3"]);
        assert_eq!(r[2].line, 4);
        assert_eq!(r[2].fields, vec!["q", "2", ""]);
    }

    #[test]
    fn unterminated_quote_names_line() {
        let e = records("a,b\n\"x,1\n", "f.csv").unwrap_err();
        assert_eq!(
            e,
            SparfaError::UnterminatedQuote {
                source_name: "f.csv".into(),
                line: 2
            }
        );
    }
}
