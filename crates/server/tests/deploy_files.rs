//! The operator files in `deploy/` stay true to the server: every metric an alert rule or a
//! dashboard panel reads is one the server exports (a renamed metric would otherwise leave its
//! alert silently dead and its panel empty).
//! `promtool check rules` / `promtool test rules` (scripts/test.sh) check the rules themselves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Metrics the rules may read that other exporters provide.
const EXTERNAL: &[&str] = &[
    "up",                          // Prometheus itself, per scrape target
    "node_filesystem_avail_bytes", // node_exporter
    "node_filesystem_size_bytes",
];

const PROMQL_WORDS: &[&str] = &["and", "or", "unless", "bool", "offset", "inf", "nan"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The metric names a PromQL expression reads: identifiers that are not functions (followed by
/// `(`), not inside `{…}` matchers, `by (…)`-style label lists or strings, and not keywords.
fn metrics_in(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            // Label matchers, whose quoted values may hold braces.
            let mut quoted = false;
            while i < chars.len() && (quoted || chars[i] != '}') {
                if chars[i] == '"' {
                    quoted = !quoted;
                } else if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
        } else if c == '[' {
            // A range (`[5m]`, `[1h:1m]`).
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
        } else if c.is_ascii_digit() {
            // A number or a duration (`0.99`, `1e3`, `5m`).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            continue;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let label_list = [
                "by",
                "without",
                "on",
                "ignoring",
                "group_left",
                "group_right",
            ];
            if label_list.contains(&word.as_str()) {
                // Skip the parenthesised label names.
                if j < chars.len() && chars[j] == '(' {
                    while j < chars.len() && chars[j] != ')' {
                        j += 1;
                    }
                }
                i = j;
                continue;
            }
            // A function, or an aggregation with its grouping first (`sum by (le) (…)`).
            let rest: String = chars[j..].iter().take(8).collect();
            let is_call = j < chars.len() && chars[j] == '('
                || ["by", "without"].iter().any(|g| {
                    rest.starts_with(g)
                        && !rest[g.len()..]
                            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                });
            if !is_call && !PROMQL_WORDS.contains(&word.to_ascii_lowercase().as_str()) {
                out.insert(word);
            }
            continue;
        }
        i += 1;
    }
    out
}

/// The `expr:` of every rule in a Prometheus rules file (single-line or `|` blocks).
fn exprs(rules: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lines: Vec<&str> = rules.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(rest) = line.trim_start().strip_prefix("expr:") {
            let indent = line.len() - line.trim_start().len();
            let rest = rest.trim();
            if rest == "|" || rest == ">" {
                let mut block = String::new();
                i += 1;
                while i < lines.len()
                    && (lines[i].trim().is_empty()
                        || lines[i].len() - lines[i].trim_start().len() > indent)
                {
                    block.push_str(lines[i].trim());
                    block.push('\n');
                    i += 1;
                }
                out.push(block);
                continue;
            }
            out.push(rest.to_owned());
        }
        i += 1;
    }
    out
}

/// Every string literal of the server's sources, for finding metric names.
fn server_source() -> String {
    fn walk(dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = String::new();
    walk(&repo().join("crates/server/src"), &mut out);
    out
}

fn exported(name: &str, source: &str) -> bool {
    let base = ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    EXTERNAL.contains(&name) || source.contains(&format!("\"{base}\""))
}

#[test]
fn the_expression_reader_finds_metrics_and_only_metrics() {
    assert_eq!(
        metrics_in(
            r#"histogram_quantile(0.99, sum by (le, route) (rate(a_seconds_bucket{route="x{y}"}[5m]))) > 1e3 and on (instance) b_up == 0 or max without(job) (c_state offset 5m) * 60"#
        ),
        ["a_seconds_bucket", "b_up", "c_state"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    let source = "metrics::counter!(\"known_total\")";
    assert!(exported("known_total", source));
    assert!(!exported("unknown_total", source));
    assert!(exported("up", source));
}

#[test]
fn alert_rules_read_only_metrics_the_server_exports() {
    let rules = std::fs::read_to_string(repo().join("deploy/prometheus/alerts.yml")).unwrap();
    let source = server_source();
    let exprs = exprs(&rules);
    assert!(exprs.len() >= 10, "every rule's expr is read: {exprs:?}");
    let mut seen = BTreeSet::new();
    for expr in &exprs {
        let metrics = metrics_in(expr);
        assert!(!metrics.is_empty(), "no metric in {expr}");
        for m in metrics {
            assert!(
                exported(&m, &source),
                "{m} (in `{expr}`) is not a metric the server exports"
            );
            seen.insert(m);
        }
    }
    assert!(seen.len() >= 10, "{seen:?}");
}

#[test]
fn dashboard_panels_read_only_metrics_the_server_exports() {
    let text = std::fs::read_to_string(repo().join("deploy/grafana/justus.json")).unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let source = server_source();
    let panels = dash["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10);
    let mut ids = BTreeSet::new();
    for panel in panels {
        assert!(
            ids.insert(panel["id"].as_u64().expect("id")),
            "ids are unique"
        );
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for t in targets {
            // Grafana's `$__rate_interval` is not PromQL; give the reader a plain range.
            let expr = t["expr"]
                .as_str()
                .expect("expr")
                .replace("$__rate_interval", "5m");
            let metrics = metrics_in(&expr);
            assert!(!metrics.is_empty(), "no metric in {expr}");
            for m in metrics {
                assert!(
                    exported(&m, &source),
                    "{m} (panel {}) is not a metric the server exports",
                    panel["title"]
                );
            }
        }
    }
}
