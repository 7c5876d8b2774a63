//! The OpenAPI document is a contract: it is committed at `docs/openapi.json`, the web client's
//! types are generated from that file, and this test fails when the handlers' annotations and the
//! committed copy differ, so every API change shows up as a reviewed diff.
//! Regenerate with `UPDATE_OPENAPI=1 cargo test -p justus-server --test api openapi_snapshot`.

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

#[test]
fn openapi_snapshot_matches_the_committed_document() {
    let mut current = justus_server::api::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    current.push('\n');
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(SNAPSHOT, &current).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    if committed != current {
        let line = committed
            .lines()
            .zip(current.lines())
            .position(|(a, b)| a != b)
            .map_or(
                committed.lines().count().min(current.lines().count()),
                |i| i,
            )
            + 1;
        panic!(
            "docs/openapi.json is out of date (first difference at line {line}); \
             regenerate it with UPDATE_OPENAPI=1 cargo test -p justus-server --test api \
             openapi_snapshot, then run `npm run gen:api` in web/ and review the diff"
        );
    }
}
