//! Every function of c_api/gisp.h has a counterpart in the safe crate: each `gisp_*` function
//! the header declares is called somewhere in gisp/src/lib.rs (gisp-sys declares them all: its
//! bindings are regenerated from the header by tools/ci/suite_rust.sh).
use std::collections::BTreeSet;

const HEADER: &str = include_str!("../../../../c_api/gisp.h");
const SAFE: &str = include_str!("../src/lib.rs");
const SYS: &str = include_str!("../../gisp-sys/src/bindings.rs");

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Names `gisp_xxx` directly followed by `(`: the functions a source declares or calls.
fn functions(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("gisp_") {
        let before_ok = i == 0 || !rest[..i].ends_with(is_ident);
        let tail = &rest[i..];
        let end = tail.find(|c: char| !is_ident(c)).unwrap_or(tail.len());
        if before_ok && tail[end..].starts_with('(') {
            out.insert(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    out
}

fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[test]
fn every_header_function_is_wrapped() {
    let declared = functions(HEADER);
    assert!(
        declared.len() >= 95,
        "only {} functions found",
        declared.len()
    );
    assert!(declared.contains("gisp_context_create"));
    let missing_sys: Vec<_> = declared
        .iter()
        .filter(|f| !mentions(SYS, &format!("pub fn {f}")))
        .collect();
    assert!(missing_sys.is_empty(), "not in gisp-sys: {missing_sys:?}");
    let unwrapped: Vec<_> = declared.iter().filter(|f| !mentions(SAFE, f)).collect();
    assert!(unwrapped.is_empty(), "no safe counterpart: {unwrapped:?}");
}
