//! The coverage table of `docs/backend.md` (resource → operations), between its markers.

use std::collections::BTreeMap;

use crate::Result;
use crate::spec::Api;

pub const GUIDE: &str = "docs/backend.md";
const START: &str = "<!-- coverage: written by `cargo xtask codegen`; do not edit by hand -->";
const END: &str = "<!-- /coverage -->";

/// `guide` with its coverage table replaced by the current one.
pub fn guide(api: &Api, guide: &str) -> Result<String> {
    let (before, rest) = guide
        .split_once(START)
        .ok_or_else(|| format!("{GUIDE}: no `{START}` marker"))?;
    let (_, after) = rest
        .split_once(END)
        .ok_or_else(|| format!("{GUIDE}: no `{END}` marker"))?;
    let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for op in &api.operations {
        let method = match &op.name.sub {
            Some(sub) => format!("`{sub}(…).{}`", op.name.method),
            None => format!("`{}`", op.name.method),
        };
        groups
            .entry(op.name.group.as_str())
            .or_default()
            .push(method);
    }
    let mut table = String::from("| `backend.…()` | operations | methods |\n|---|---|---|\n");
    for (group, methods) in &groups {
        table.push_str(&format!(
            "| `{group}()` | {} | {} |\n",
            methods.len(),
            methods.join(", ")
        ));
    }
    table.push_str(&format!(
        "| **all** | **{}** | every operation of the description |\n",
        api.operations.len()
    ));
    Ok(format!("{before}{START}\n{table}{END}{after}"))
}
