//! `cargo xtask`: the repository's code generator.
//!
//! - `cargo xtask codegen` writes `wacht-backend/src/generated/` and the generated test table
//!   `tests/backend_operations.rs` from the pinned description `wacht-backend/spec/platform-api.json`;
//! - `cargo xtask codegen --check` writes nothing and fails when a checked-in file differs;
//! - `cargo xtask import-spec <platform-api.json> <commit>` reduces an upstream description to
//!   the facts the generator reads (operations, paths, parameters, schemas; no prose) and pins
//!   it in `wacht-backend/spec/`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod coverage;
mod emit;
mod fixes;
mod names;
mod samples;
mod spec;
mod tests;

type Result<T, E = String> = std::result::Result<T, E>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["codegen"] => codegen(false),
        ["codegen", "--check"] => codegen(true),
        ["import-spec", file, commit] => spec::import(Path::new(file), commit, &root()),
        _ => Err(
            "usage: cargo xtask codegen [--check] | cargo xtask import-spec <file> <commit>"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The repository's root (this crate lives in `<root>/xtask`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

fn codegen(check: bool) -> Result<()> {
    let root = root();
    let mut document = spec::load(&root.join(spec::FACTS))?;
    fixes::apply(&mut document)?;
    let api = spec::Api::read(&document)?;
    let files = emit::files(&api, &document)?;
    let mut tests = tests::files(&api, &document)?;
    let mut all = files;
    all.append(&mut tests);
    let guide = std::fs::read_to_string(root.join(coverage::GUIDE))
        .map_err(|e| format!("{}: {e}", coverage::GUIDE))?;
    all.push((coverage::GUIDE.to_owned(), coverage::guide(&api, &guide)?));
    let mut stale = Vec::new();
    for (path, text) in &all {
        let path = root.join(path);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != *text {
            stale.push(path.display().to_string());
            if !check {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    if check && !stale.is_empty() {
        return Err(format!(
            "generated files differ from `cargo xtask codegen` (run it and commit): {}",
            stale.join(", ")
        ));
    }
    println!(
        "xtask codegen: {} operations, {} files{}",
        api.operations.len(),
        all.len(),
        if check {
            " up to date".to_owned()
        } else {
            format!(", {} written", stale.len())
        }
    );
    Ok(())
}

/// Formats generated Rust: prettyplease, then rustfmt (the repository's style).
fn format(tokens: proc_macro2::TokenStream, header: &str) -> Result<String> {
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    let pretty = prettyplease::unparse(&file);
    // `#[doc = "text"]` prints as `///text`: a space after the slashes, as written by hand.
    let pretty: String = pretty
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            for marker in ["///", "//!"] {
                if let Some(rest) = trimmed.strip_prefix(marker)
                    && !rest.is_empty()
                    && !rest.starts_with(' ')
                    && !rest.starts_with('/')
                {
                    return format!("{indent}{marker} {rest}\n");
                }
            }
            format!("{line}\n")
        })
        .collect();
    let text = format!("{header}\n{pretty}");
    rustfmt(&text)
}

fn rustfmt(text: &str) -> Result<String> {
    use std::io::Write;
    let mut child = std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("rustfmt: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("rustfmt: no stdin")?
        .write_all(text.as_bytes())
        .map_err(|e| format!("rustfmt: {e}"))?;
    let output = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("rustfmt: {e}"))
}
