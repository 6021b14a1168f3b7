//! Every decision code and specification section the repository cites is
//! explained in `docs/DECISIONS.md`.
//!
//! Comments cite design decisions by code (`A2`, `O2b`, `S1 fix 11`, …) and
//! sections of the specification documents by number (`api.md §4.7`, a bare
//! `§3.2`). Those documents are not in the repository, so `DECISIONS.md` is the
//! key. This test scans the source tree for every citation and fails naming
//! each one the key does not explain:
//!
//! - a code `A7`, `F4`, … needs a `### <code> — …` heading; a lettered part
//!   (`O2a`) may instead be named on the page under its parent's heading;
//! - `S1 fix N` (also `fix N`, `fixes 2, 5 and 8`) needs `### S1 fix N — …`;
//! - `api.md §4.7` needs a `| §4.7 |` row in the `### api.md` table; a bare
//!   `§3.2` needs a row in at least one document's table.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The key, relative to the repository root.
const KEY: &str = "docs/DECISIONS.md";
/// This file: its examples of citations are not citations.
const THIS_FILE: &str = "tests/decision_codes.rs";
/// The specification documents sections are cited from.
const DOCUMENTS: [&str; 4] = ["api", "scheduler", "sparfa", "ops"];
/// File kinds that carry comments or prose.
const EXTENSIONS: [&str; 8] = ["rs", "md", "py", "pyi", "sql", "sh", "toml", "ipynb"];

/// Everything cited, with one file that cites it (for the failure message).
#[derive(Debug, Default, PartialEq, Eq)]
struct Citations {
    codes: BTreeMap<String, String>,
    fixes: BTreeMap<u32, String>,
    /// (document, section); document `None` for a bare `§`.
    sections: BTreeMap<(Option<String>, String), String>,
}

impl Citations {
    fn scan(&mut self, text: &str, file: &str) {
        let bytes = text.as_bytes();
        for i in 0..bytes.len() {
            if let Some(code) = code_at(bytes, i) {
                self.codes.entry(code).or_insert_with(|| file.to_owned());
            }
            for fix in fixes_at(bytes, i) {
                self.fixes.entry(fix).or_insert_with(|| file.to_owned());
            }
            if let Some(section) = section_at(text, i) {
                self.sections
                    .entry(section)
                    .or_insert_with(|| file.to_owned());
            }
        }
    }
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

fn starts_word(bytes: &[u8], i: usize) -> bool {
    i == 0 || !is_word(bytes[i - 1])
}

/// Digits starting at `i`: their value and the index after them.
fn number_at(bytes: &[u8], i: usize) -> Option<(u32, usize)> {
    let end = i + bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let text = std::str::from_utf8(&bytes[i..end]).ok()?;
    Some((text.parse().ok()?, end))
}

/// A decision code starting at `i`: `A`, `S`, `F` or `O`, one or two digits,
/// an optional part letter `a`/`b`, as a whole word.
fn code_at(bytes: &[u8], i: usize) -> Option<String> {
    if !matches!(bytes[i], b'A' | b'S' | b'F' | b'O') || !starts_word(bytes, i) {
        return None;
    }
    let digits = bytes[i + 1..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(1..=2).contains(&digits) {
        return None;
    }
    let mut end = i + 1 + digits;
    if matches!(bytes.get(end), Some(b'a' | b'b')) {
        end += 1;
    }
    if bytes.get(end).is_some_and(|b| is_word(*b)) {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes[i..end]).into_owned())
}

/// The numbers of `fix N` / `fixes N, M and K` starting at `i`.
fn fixes_at(bytes: &[u8], i: usize) -> Vec<u32> {
    let rest = &bytes[i..];
    let after = if rest.starts_with(b"fixes ") {
        i + 6
    } else if rest.starts_with(b"fix ") {
        i + 4
    } else {
        return Vec::new();
    };
    if !starts_word(bytes, i) {
        return Vec::new();
    }
    let mut numbers = Vec::new();
    let mut at = after;
    while at < bytes.len() && bytes[at].is_ascii_digit() {
        let Some((n, end)) = number_at(bytes, at) else {
            break;
        };
        numbers.push(n);
        at = end;
        let separator = [&b", and "[..], b", ", b" and "]
            .into_iter()
            .find(|sep| bytes[at..].starts_with(sep));
        match separator {
            Some(sep) if bytes.get(at + sep.len()).is_some_and(u8::is_ascii_digit) => {
                at += sep.len();
            }
            _ => break,
        }
    }
    numbers
}

/// A section `§4.7` (or `§ 4.7`) starting at byte `i`, with the document
/// named right before it (`api.md §4.7`, `sparfa §6.2`, `scheduler.md, §2`).
fn section_at(text: &str, i: usize) -> Option<(Option<String>, String)> {
    let rest = text.get(i..)?.strip_prefix('§')?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut end = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if end == 0 {
        return None;
    }
    while bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end += 1 + bytes[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    }
    let before = text[..i].trim_end_matches(' ').trim_end_matches(',');
    let before = before.strip_suffix(".md").unwrap_or(before);
    let document = DOCUMENTS.iter().find(|doc| {
        before
            .strip_suffix(**doc)
            .is_some_and(|head| !head.as_bytes().last().is_some_and(|b| is_word(*b)))
    });
    Some((document.map(|d| (*d).to_owned()), rest[..end].to_owned()))
}

/// What the key explains.
#[derive(Debug, Default)]
struct Key {
    /// Codes with their own heading.
    headings: BTreeSet<String>,
    fixes: BTreeSet<u32>,
    /// Section rows per document.
    sections: BTreeMap<String, BTreeSet<String>>,
    text: String,
}

impl Key {
    fn parse(text: &str) -> Key {
        let mut key = Key {
            text: text.to_owned(),
            ..Key::default()
        };
        let mut document: Option<String> = None;
        for line in text.lines() {
            if let Some(heading) = line.strip_prefix("### ") {
                document = heading
                    .strip_suffix(".md")
                    .filter(|d| DOCUMENTS.contains(d))
                    .map(str::to_owned);
                let first = heading.split_whitespace().next().unwrap_or("");
                if let Some(fix) = heading.strip_prefix("S1 fix ") {
                    let digits: String = fix.chars().take_while(char::is_ascii_digit).collect();
                    if let Ok(n) = digits.parse() {
                        key.fixes.insert(n);
                    }
                } else if code_at(first.as_bytes(), 0).as_deref() == Some(first) {
                    key.headings.insert(first.to_owned());
                }
            } else if let (Some(doc), Some(row)) = (&document, line.strip_prefix("| §")) {
                let section = row.split(' ').next().unwrap_or("").to_owned();
                key.sections.entry(doc.clone()).or_default().insert(section);
            }
        }
        key
    }

    fn explains_code(&self, code: &str) -> bool {
        if self.headings.contains(code) {
            return true;
        }
        // A lettered part (O2a) under its parent's heading (O2).
        let parent = code.trim_end_matches(['a', 'b']);
        parent != code && self.headings.contains(parent) && self.text.contains(code)
    }

    fn explains_section(&self, document: Option<&str>, section: &str) -> bool {
        match document {
            Some(doc) => self.sections.get(doc).is_some_and(|s| s.contains(section)),
            None => self.sections.values().any(|s| s.contains(section)),
        }
    }
}

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every text file of the repository that can cite a decision, relative paths.
fn source_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {dir:?}: {e}"));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("listing {dir:?}: {e}"))
                .path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            if path.is_dir() {
                let skipped = name == "target"
                    || name == "node_modules"
                    || name == "__pycache__"
                    || (name.starts_with('.') && name != ".ci");
                if !skipped {
                    pending.push(path);
                }
            } else {
                let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                let in_ci = relative.starts_with(".ci");
                let wanted = EXTENSIONS.contains(&extension) || in_ci;
                let excluded = relative == Path::new(KEY) || relative == Path::new(THIS_FILE);
                if wanted && !excluded {
                    files.push(relative);
                }
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_cited_decision_and_section_is_explained() {
    let root = repository_root();
    let key_text = fs::read_to_string(root.join(KEY)).expect("docs/DECISIONS.md exists");
    let key = Key::parse(&key_text);
    let mut cited = Citations::default();
    let files = source_files(&root);
    for file in &files {
        let bytes = fs::read(root.join(file)).unwrap_or_else(|e| panic!("reading {file:?}: {e}"));
        cited.scan(&String::from_utf8_lossy(&bytes), &file.to_string_lossy());
    }
    // The scan must have found the citations the engine is full of, so a
    // wrong root or a broken scanner cannot pass by finding nothing.
    assert!(files.len() > 100, "only {} files scanned", files.len());
    assert!(cited.codes.contains_key("A2") && cited.fixes.contains_key(&11));

    let mut missing = Vec::new();
    for (code, file) in &cited.codes {
        if !key.explains_code(code) {
            missing.push(format!("decision {code} (cited in {file})"));
        }
    }
    for (fix, file) in &cited.fixes {
        if !key.fixes.contains(fix) {
            missing.push(format!("S1 fix {fix} (cited in {file})"));
        }
    }
    for ((document, section), file) in &cited.sections {
        if !key.explains_section(document.as_deref(), section) {
            let name = document
                .as_deref()
                .map_or(String::new(), |d| format!("{d}.md "));
            missing.push(format!("section {name}§{section} (cited in {file})"));
        }
    }
    assert!(
        missing.is_empty(),
        "{KEY} does not explain:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn the_scanner_finds_each_kind_of_citation() {
    let mut cited = Citations::default();
    cited.scan(
        "decided by A2, (O2b), README A6a and S1 fixes 2, 5 and 8; see fix 11, \
         api.md §4.7, sparfa §6.2, scheduler.md, §1.6(c) and a bare §3.2.",
        "sample",
    );
    let codes: Vec<&str> = cited.codes.keys().map(String::as_str).collect();
    assert_eq!(codes, ["A2", "A6a", "O2b", "S1"]);
    let fixes: Vec<u32> = cited.fixes.keys().copied().collect();
    assert_eq!(fixes, [2, 5, 8, 11]);
    let sections: Vec<(Option<&str>, &str)> = cited
        .sections
        .keys()
        .map(|(d, s)| (d.as_deref(), s.as_str()))
        .collect();
    assert_eq!(
        sections,
        [
            (None, "3.2"),
            (Some("api"), "4.7"),
            (Some("scheduler"), "1.6"),
            (Some("sparfa"), "6.2"),
        ]
    );
}

#[test]
fn the_scanner_ignores_what_only_looks_like_a_citation() {
    let mut cited = Citations::default();
    cited.scan(
        "uuid 93E2B09D-261C-4007-A987-0B3062FE154B, F789, prefix 3, A2B, xA2, ops §x",
        "sample",
    );
    assert_eq!(cited, Citations::default());
}

#[test]
fn the_key_lists_headings_fixes_and_section_rows() {
    let key = Key::parse(
        "### A2 — Validation\n### O2 — Bundling\n(O2a) and (O2b)\n### S1 fix 11 — Ready\n\
         ### api.md\n| § | about |\n| §4.7 | fetching |\n### sparfa.md\n| §6.2 | CLUE |\n",
    );
    assert!(key.explains_code("A2") && key.explains_code("O2a"));
    assert!(!key.explains_code("A3") && !key.explains_code("A2a"));
    assert_eq!(key.fixes, BTreeSet::from([11]));
    assert!(key.explains_section(Some("api"), "4.7"));
    assert!(!key.explains_section(Some("api"), "6.2"));
    assert!(key.explains_section(None, "6.2"));
}
