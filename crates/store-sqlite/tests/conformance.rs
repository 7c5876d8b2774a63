//! The shared Store conformance suite against SQLite, one fresh database file per test.

use justus_store_sqlite::{SqliteOptions, SqliteStore};

async fn fresh() -> SqliteStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("justus.db");
    // The directory must outlive the store; tests are short, so leak it deliberately.
    std::mem::forget(dir);
    SqliteStore::open(&path, &SqliteOptions::default()).expect("open sqlite")
}

justus_core::store_conformance!(fresh());

/// Every case written in `core/src/testing/` is listed in `store_conformance!` (a case someone
/// writes but forgets to list would never run, on either store).
#[test]
fn every_conformance_case_is_listed() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/src/testing"));
    let mut written = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("read core/src/testing") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read case file");
        for (i, _) in text.match_indices("pub async fn ") {
            let rest = &text[i + "pub async fn ".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // Cases take the store and nothing else (helpers take more).
            let params = rest[name.len()..].split(')').next().unwrap_or_default();
            if params.starts_with("(store: &") && !params.contains(',') {
                written.insert(name);
            }
        }
    }
    let macro_src = std::fs::read_to_string(dir.join("mod.rs")).expect("read mod.rs");
    let start = macro_src.find("@cases $make;").expect("the case list") + "@cases $make;".len();
    let end = start + macro_src[start..].find(");").expect("end of the case list");
    let listed: std::collections::BTreeSet<String> = macro_src[start..end]
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let missing: Vec<_> = written.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&written).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "written but not listed: {missing:?}; listed but not written: {unknown:?}"
    );
    assert!(listed.len() >= 57, "{} cases", listed.len());
}
