//! The documentation check (`cargo test --test docs_check`, run by `.ci/run`):
//!
//! - every environment variable the code reads (a string literal `"WACHT_…"` or
//!   `"NEXT_PUBLIC_WACHT_…"` in `wacht-runtime/src` or `src`) is in `docs/configuration.md`;
//! - every reason code the code emits (the string arms of a `fn reason(&self)`, and the string
//!   literal given as the reason to a `Rejection::…` constructor: the first argument, the second
//!   for `Rejection::new`) is in `docs/rejections.md`;
//! - every guide in `docs/` is rendered in the crate's docs (`src/guide.rs`).
//!
//! A name counts as documented when the guide has it in backticks (`` `WACHT_API_KEY` ``).
//! Comments (doc examples included) and `#[cfg(test)]` modules, and the runtime's test-only
//! files (`tests.rs`, `*_tests.rs`, `*_tests/`, `session_vectors.rs`), are not scanned: what
//! they mention is never read or emitted by a user's program. The variables that examples,
//! tests and benches read (`WACHT_TEST_*`, `WACHT_LOAD_*`, `WACHT_BENCH_MS`,
//! `WACHT_EXPECT_PROFILE`, `WACHT_WORKERS_RELAY_ORIGIN`) are outside the scanned folders.
//!
//! The scanner works on text (no parser), so its functions take text and the unit tests below
//! feed them made-up sources and guides, including a deliberately undocumented variable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The workspace root (the facade's manifest directory).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, sorted, except the test-only ones.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.ends_with("_tests") && name != "testdata" {
                    pending.push(path);
                }
            } else if name.ends_with(".rs")
                && name != "tests.rs"
                && !name.ends_with("_tests.rs")
                && name != "session_vectors.rs"
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The code the program runs, as text: `//` comments (doc comments included) and
/// `#[cfg(test)]` modules removed.
fn code_only(source: &str) -> String {
    let without_comments: String = source
        .lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string literal (a URL) is kept: only a comment that starts the
            // line, or follows code outside any quote, is cut.
            Some(at) if line[..at].matches('"').count() % 2 == 0 => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut code = without_comments;
    while let Some(start) = code.find("#[cfg(test)]") {
        let after = &code[start + "#[cfg(test)]".len()..];
        let item = after.trim_start();
        // Only modules are cut; a `#[cfg(test)]` on another item stays (it is harmless).
        if !item.starts_with("mod ") {
            code.replace_range(start..start + "#[cfg(test)]".len(), "");
            continue;
        }
        let item_start = code.len() - item.len();
        let end = match (item.find('{'), item.find(';')) {
            (Some(open), semicolon) if semicolon.is_none_or(|semi| open < semi) => {
                item_start + open + block_len(&item[open..])
            }
            (_, Some(semi)) => item_start + semi + 1,
            _ => code.len(),
        };
        code.replace_range(start..end, "");
    }
    code
}

/// The length of the `{ … }` block `text` starts with, skipping braces inside string and
/// character literals.
fn block_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(len) = raw_string_len(bytes, i) {
            i += len;
            continue;
        }
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            // A character literal (`'{'`, `'\''`); a lifetime (`'a`) has no closing quote.
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\\') => {
                i += 2;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += 1;
                }
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    text.len()
}

/// The length of the raw string literal (`r"…"`, `r#"…"#`, `br#"…"#`) starting at `at`, if
/// one does.
fn raw_string_len(bytes: &[u8], at: usize) -> Option<usize> {
    let word_before =
        |i: usize| i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
    let start = match bytes[at] {
        b'b' if bytes.get(at + 1) == Some(&b'r') && !word_before(at) => at + 1,
        b'r' if !word_before(at) => at,
        _ => return None,
    };
    let hashes = bytes[start + 1..]
        .iter()
        .take_while(|&&b| b == b'#')
        .count();
    if bytes.get(start + 1 + hashes) != Some(&b'"') {
        return None;
    }
    let body = start + 2 + hashes;
    let closing: Vec<u8> = std::iter::once(b'"')
        .chain(std::iter::repeat_n(b'#', hashes))
        .collect();
    let end = bytes[body..]
        .windows(closing.len())
        .position(|window| window == closing.as_slice())
        .map_or(bytes.len(), |offset| body + offset + closing.len());
    Some(end - at)
}

/// The string literal `text` starts with (after white space), if it is one.
fn leading_literal(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// Environment variable names in `source`: string literals that are exactly `WACHT_…` or
/// `NEXT_PUBLIC_WACHT_…` (upper-case letters, digits, `_`).
fn env_vars(source: &str) -> BTreeSet<String> {
    let code = code_only(source);
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices('"') {
        let Some(name) = leading_literal(&code[at..]) else {
            continue;
        };
        let is_name = (name.starts_with("WACHT_") || name.starts_with("NEXT_PUBLIC_WACHT_"))
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if is_name {
            names.insert(name.to_owned());
        }
    }
    names
}

/// Whether `text` is a reason code: snake_case ASCII.
fn is_reason(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Reason codes in `source`: the string arms of every `fn reason(&self)`, and the literal
/// reason of every `Rejection::…(…)` call (`Rejection::new`'s second argument).
fn reason_codes(source: &str) -> BTreeSet<String> {
    let code = code_only(source);
    let mut reasons = BTreeSet::new();
    for (at, _) in code.match_indices("fn reason(&self)") {
        let rest = &code[at..];
        let Some(open) = rest.find('{') else { continue };
        let body = &rest[open..open + block_len(&rest[open..])];
        for (arrow, _) in body.match_indices("=>") {
            if let Some(reason) = leading_literal(&body[arrow + 2..]).filter(|r| is_reason(r)) {
                reasons.insert(reason.to_owned());
            }
        }
    }
    // `Rejection::<constructor>("<reason>", …)`, and `Rejection::new(<code>, "<reason>", …)`:
    // any associated function of `Rejection`, so a new constructor is covered too.
    for (at, _) in code.match_indices("Rejection::") {
        let rest = &code[at + "Rejection::".len()..];
        let name_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let (name, rest) = rest.split_at(name_len);
        let Some(arguments) = rest.strip_prefix('(') else {
            continue;
        };
        let reason_argument = if name == "new" {
            match arguments.find(',') {
                Some(comma) => &arguments[comma + 1..],
                None => continue,
            }
        } else {
            arguments
        };
        if let Some(reason) = leading_literal(reason_argument).filter(|r| is_reason(r)) {
            reasons.insert(reason.to_owned());
        }
    }
    reasons
}

/// The names `doc` does not mention in backticks.
fn undocumented<'a>(names: impl IntoIterator<Item = &'a String>, doc: &str) -> Vec<String> {
    names
        .into_iter()
        .filter(|name| !doc.contains(&format!("`{name}`")))
        .cloned()
        .collect()
}

/// Every scanned source of the runtime and the facade, concatenated.
fn sources() -> String {
    let root = root();
    let mut text = String::new();
    // wacht-backend: the backend API's errors (`BackendError` is its `Error`).
    for dir in [
        root.join("wacht-runtime/src"),
        root.join("wacht-backend/src"),
        root.join("src"),
    ] {
        for file in rust_files(&dir) {
            text.push_str(&fs::read_to_string(&file).unwrap());
            text.push('\n');
        }
    }
    text
}

fn guide(name: &str) -> String {
    fs::read_to_string(root().join("docs").join(name)).unwrap()
}

#[test]
fn every_variable_the_code_reads_is_in_the_configuration_guide() {
    let variables = env_vars(&sources());
    // The scanner finds what it must (it is not silently finding nothing).
    for known in [
        "WACHT_PUBLISHABLE_KEY",
        "NEXT_PUBLIC_WACHT_PUBLISHABLE_KEY",
        "WACHT_HTTP_TIMEOUT_MS",
    ] {
        assert!(
            variables.contains(known),
            "{known} not found in {variables:?}"
        );
    }
    let missing = undocumented(&variables, &guide("configuration.md"));
    assert!(
        missing.is_empty(),
        "read by the code but not in docs/configuration.md: {missing:?}"
    );
}

#[test]
fn every_reason_the_code_emits_is_in_the_rejections_guide() {
    let reasons = reason_codes(&sources());
    for known in [
        "missing_token",
        "invalid_timeout",
        "rate_limited",
        "missing_either_check",
        "gateway_bad_request",
        "backend_timeout",
    ] {
        assert!(reasons.contains(known), "{known} not found in {reasons:?}");
    }
    let missing = undocumented(&reasons, &guide("rejections.md"));
    assert!(
        missing.is_empty(),
        "emitted by the code but not in docs/rejections.md: {missing:?}"
    );
}

#[test]
fn every_guide_is_rendered_in_the_crate_docs() {
    let wiring = fs::read_to_string(root().join("src/guide.rs")).unwrap();
    let mut guides: Vec<String> = fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .collect();
    guides.sort();
    assert!(guides.len() >= 13, "{guides:?}");
    for name in guides {
        assert!(
            wiring.contains(&format!("include_str!(\"../docs/{name}\")")),
            "docs/{name} is not rendered: add it to src/guide.rs"
        );
    }
}

// ----- the checker itself, on made-up inputs -----

const FAKE_SOURCE: &str = r##"
//! Reads `WACHT_IN_A_COMMENT` (a comment: not read).
pub fn from_env(get: impl Fn(&str) -> Option<String>) {
    let _ = get("WACHT_PUBLISHABLE_KEY").or_else(|| get("NEXT_PUBLIC_WACHT_PUBLISHABLE_KEY"));
    let _ = get("WACHT_FRESHLY_ADDED"); // the one the fake guide forgets
    let _ = "https://example.com/WACHT_NOT_A_NAME"; // not a whole literal
    let _ = format!("WACHT_MACROS_{}_NEED", 1); // not a whole literal either
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Error::A => "reason_in_an_arm",
            Error::B { .. } => "another_arm",
            Error::C(inner) => inner.reason(),
        }
    }
}

fn answer() -> Rejection {
    let _ = Rejection::forbidden(
        "spread_over_lines",
        "A sentence.",
    );
    let _ = Rejection::new(RejectionCode::RateLimited, "from_new", "Slow down.");
    let _ = Rejection::unauthenticated(reason, "A variable reason: found through fn reason.");
    let _ = Rejection::bad_request("a_new_constructor", "Covered too.");
    let _ = Rejection::into_response(rejection); // no literal: nothing
    Rejection::misconfigured("misconfigured_literal")
}

#[cfg(test)]
mod tests {
    fn only_in_tests() {
        let _ = std::env::var("WACHT_ONLY_IN_TESTS");
        let _ = Rejection::new(RejectionCode::Forbidden, "only_in_tests", "{ not a brace }");
        let _ = '{';
        let _ = br#"{"message": "} unbalanced in a raw string"#;
    }
}

fn after_the_tests() -> Rejection {
    Rejection::unavailable("after_the_tests", "Still scanned.")
}
"##;

const FAKE_CONFIGURATION_GUIDE: &str = "
| variable | meaning |
|---|---|
| `WACHT_PUBLISHABLE_KEY` (or `NEXT_PUBLIC_WACHT_PUBLISHABLE_KEY`) | the key |
";

#[test]
fn the_checker_finds_the_variables_a_source_reads() {
    let found: Vec<String> = env_vars(FAKE_SOURCE).into_iter().collect();
    assert_eq!(
        found,
        [
            "NEXT_PUBLIC_WACHT_PUBLISHABLE_KEY",
            "WACHT_FRESHLY_ADDED",
            "WACHT_PUBLISHABLE_KEY"
        ]
    );
}

#[test]
fn the_checker_fails_on_a_deliberately_undocumented_variable() {
    let found = env_vars(FAKE_SOURCE);
    assert_eq!(
        undocumented(&found, FAKE_CONFIGURATION_GUIDE),
        ["WACHT_FRESHLY_ADDED"]
    );
    // Documented, it passes; a mention without backticks does not count.
    let fixed = format!("{FAKE_CONFIGURATION_GUIDE}| `WACHT_FRESHLY_ADDED` | new |\n");
    assert!(undocumented(&found, &fixed).is_empty());
    let loose = format!("{FAKE_CONFIGURATION_GUIDE}WACHT_FRESHLY_ADDED is new\n");
    assert_eq!(undocumented(&found, &loose), ["WACHT_FRESHLY_ADDED"]);
}

#[test]
fn the_checker_finds_the_reasons_a_source_emits() {
    let found: Vec<String> = reason_codes(FAKE_SOURCE).into_iter().collect();
    assert_eq!(
        found,
        [
            "a_new_constructor",
            "after_the_tests",
            "another_arm",
            "from_new",
            "misconfigured_literal",
            "reason_in_an_arm",
            "spread_over_lines",
        ]
    );
    let guide = "`reason_in_an_arm`, `another_arm`, `spread_over_lines`, `from_new`, \
                 `misconfigured_literal`, `a_new_constructor`";
    assert_eq!(
        undocumented(&reason_codes(FAKE_SOURCE), guide),
        ["after_the_tests"]
    );
}
