//! The server's layering rule, checked on the source (docs/ARCHITECTURE.md explains it):
//!
//! handlers (`api`, `gateway`, `http`, `web`) → use cases (`ai` → `chat`; `auth`, `media` →
//! `chat`) → services (`limits`, `bus`, `wire`, `error`, `config`, …) → `justus_core`.
//!
//! `state` is the composition root: it names every service so every layer may read it, and it
//! is left out of the cycle check. Everything else must form a graph without cycles, and no
//! module may reach a layer above its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// Where each top-level module sits; a module may use only modules on a lower or equal rank
/// (equal rank: listed in `SAME_RANK_EDGES`).
fn rank(module: &str) -> Option<u8> {
    Some(match module {
        "main" | "lib" | "state" => 5,
        "api" | "gateway" | "http" | "web" => 4,
        "ai" | "media" | "retention" => 3,
        "chat" | "auth" => 2,
        "limits" | "bus" | "wire" | "error" | "config" | "secrets" | "secret_files" | "backup"
        | "database" | "telemetry" | "traces" | "tls" | "presence" => 1,
        _ => return None,
    })
}

/// Edges allowed between modules of the same rank.
const SAME_RANK_EDGES: &[(&str, &str)] = &[
    // The gateway runs on the HTTP server (upgrade, client address, errors).
    ("gateway", "http"),
    // Handlers share the HTTP error type and extractors.
    ("api", "http"),
    ("api", "gateway"),
    ("api", "web"),
    ("web", "http"),
    ("secrets", "config"),
    ("database", "config"),
    ("limits", "config"),
    // The log format carries the exported span's ids; the bus carries trace context.
    ("telemetry", "traces"),
    ("bus", "traces"),
    // A purge removes the bytes of the uploads it orphans.
    ("retention", "media"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::<module>` references per top-level module (comments included: a doc link to a
/// higher layer is a smell too).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(SRC).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("utf-8 path")
            .trim_end_matches(".rs")
            .to_owned();
        let text = std::fs::read_to_string(&file).expect("read file");
        let deps = graph.entry(top.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != top {
                deps.insert(name);
            }
        }
    }
    graph
}

#[test]
fn every_module_has_a_layer() {
    for module in graph().keys() {
        assert!(
            rank(module).is_some(),
            "module `{module}` has no layer: add it to `rank` in tests/layering.rs and to the \
             codemap in docs/ARCHITECTURE.md"
        );
    }
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let mut wrong = Vec::new();
    for (from, deps) in graph() {
        let Some(r) = rank(&from) else { continue };
        // Every layer reads the composition root.
        for to in deps.into_iter().filter(|d| d != "state") {
            let Some(t) = rank(&to) else { continue };
            let allowed =
                t < r || (t == r && SAME_RANK_EDGES.contains(&(from.as_str(), to.as_str())));
            if !allowed {
                wrong.push(format!("{from} → {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken: {wrong:?}");
}

#[test]
fn no_import_cycles_outside_the_composition_root() {
    let graph: BTreeMap<String, BTreeSet<String>> = graph()
        .into_iter()
        .filter(|(m, _)| !matches!(m.as_str(), "state" | "lib" | "main"))
        .map(|(m, deps)| {
            let deps = deps
                .into_iter()
                .filter(|d| !matches!(d.as_str(), "state" | "lib" | "main"))
                .collect();
            (m, deps)
        })
        .collect();
    // Depth-first search with colours; a grey node met again closes a cycle.
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match colour.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|n| *n == node).unwrap_or(0);
                let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            _ => {}
        }
        colour.insert(node, 1);
        path.push(node);
        for dep in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(dep, graph, colour, path) {
                return Some(c);
            }
        }
        path.pop();
        colour.insert(node, 2);
        None
    }
    let mut colour = BTreeMap::new();
    for node in graph.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(node, &graph, &mut colour, &mut path) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}
