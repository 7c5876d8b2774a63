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

/// The answers the shared extractors give are declared on every operation they guard: 401 where
/// a token is required (and 429 when the request changes something), 400 `invalid_id` where the
/// path has an id, and 400/413/415/422 where a JSON body is read (schemathesis fails a run on any
/// undeclared status).
#[test]
fn every_operation_declares_the_shared_errors() {
    let doc = serde_json::to_value(justus_server::api::openapi()).expect("serialises");
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let statuses = op["responses"].as_object().expect("responses");
            let mut need = Vec::new();
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                need.push("401");
                if method != "get" {
                    need.push("429");
                }
            }
            if path.contains("{id}") || path.contains("_id}") {
                need.push("400");
            }
            if op["requestBody"]["content"]
                .get("application/json")
                .is_some()
            {
                need.extend(["400", "413", "415", "422"]);
            }
            for status in need {
                let declared = &statuses.get(status);
                if declared.is_none_or(|r| r["content"]["application/json"].is_null()) {
                    missing.push(format!("{method} {path}: {status}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undeclared error answers: {missing:#?}");
}
