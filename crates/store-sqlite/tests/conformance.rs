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

/// The audit log cannot be rewritten, not even by a connection that bypasses the store.
#[tokio::test]
async fn audit_log_refuses_updates_and_deletes() {
    use justus_core::room::NewGroup;
    use justus_core::store::prelude::*;
    use justus_core::testing::{t0, user};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("justus.db");
    let store = SqliteStore::open(&path, &SqliteOptions::default()).expect("open sqlite");
    let owner = user(&store, "auditowner").await;
    let bob = user(&store, "auditbob").await;
    let (room, _) = store
        .create_group(&NewGroup {
            id: justus_core::RoomId::new(),
            name: "Audited".into(),
            topic: None,
            owner: owner.id,
            now: t0(),
        })
        .await
        .unwrap();
    store
        .ban(room.id, bob.id, owner.id, Some("spam".into()), t0())
        .await
        .unwrap();
    let conn = rusqlite::Connection::open(&path).expect("second connection");
    for sql in [
        "UPDATE audit_log SET reason = 'nothing happened'",
        "DELETE FROM audit_log",
    ] {
        let err = conn.execute(sql, []).expect_err(sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let log = store.audit_log(Some(room.id), None, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].reason.as_deref(), Some("spam"));
}
