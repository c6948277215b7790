//! The topic → function → table list lives in `topics::LogKind`; the files
//! outside the Rust code that name topics, functions or tables (the
//! Makefile, Terraform, docker-compose, the scripts, the Python benchmark)
//! are checked against it here. A renamed topic, or a fourth kind added to
//! `LogKind` and not to one of these files, fails this test and names the
//! file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use logpipe_contract::topics::{LogKind, DEAD_LETTER_TABLE};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Files (relative to the repository) under `dir` whose name ends in one of
/// `exts`, recursively.
fn files(dir: &str, exts: &[&str]) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, exts: &[&str], out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') {
                    walk(base, &path, exts, out);
                }
            } else if exts.iter().any(|e| name.ends_with(e)) {
                out.push(
                    path.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    let base = root().canonicalize().unwrap();
    walk(&base, &base.join(dir), exts, &mut out);
    out.sort();
    out
}

/// Every maximal run of `[a-z0-9_-]` in `text` that matches `pattern`.
fn words(text: &str, pattern: impl Fn(&str) -> bool) -> BTreeSet<&str> {
    text.split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'))
        .filter(|w| pattern(w))
        .collect()
}

fn is_topic(w: &str) -> bool {
    w.starts_with("user_") && w.ends_with("_logs") && !w.contains('-')
}

fn is_function(w: &str) -> bool {
    w.ends_with("-logs") && !w.contains('_') && w.matches('-').count() == 1
}

/// Topic-like names that are not topics of a function, on purpose: the
/// generator's wrong-topic records and a fixture's record of a topic no
/// function owns.
const NOT_OWNED: [&str; 2] = ["user_unowned_logs", "user_payment_logs"];

fn topics() -> BTreeSet<&'static str> {
    LogKind::ALL.iter().map(|k| k.default_topic()).collect()
}

fn functions() -> BTreeSet<&'static str> {
    LogKind::ALL.iter().map(|k| k.function_name()).collect()
}

#[test]
fn every_topic_and_function_named_outside_the_rust_code_is_one_of_logkind() {
    let mut checked = Vec::new();
    let mut sources = vec!["Makefile".to_owned(), "docker-compose.yml".to_owned()];
    sources.extend(files("mk", &[".mk"]));
    sources.extend(files("infra", &[".tf", ".json", ".tfvars", ".sh"]));
    sources.extend(files("localstack", &[".sh", ".env", ".py"]));
    sources.extend(files("scripts", &[".py", ".sh"]));
    sources.extend(files("bench/python", &[".py"]));
    for rel in &sources {
        let text = read(rel);
        for t in words(&text, is_topic) {
            assert!(
                topics().contains(t) || NOT_OWNED.contains(&t),
                "{rel} names topic `{t}`, which no LogKind has (topics: {:?})",
                topics()
            );
        }
        for f in words(&text, is_function) {
            assert!(
                functions().contains(f),
                "{rel} names function `{f}`, which no LogKind has (functions: {:?})",
                functions()
            );
        }
        checked.push(rel);
    }
    assert!(checked.len() > 10, "{checked:?}");
}

/// The files that list every kind must list all of them.
#[test]
fn the_files_that_list_every_kind_list_all_of_them() {
    let every_topic = [
        "docker-compose.yml",
        "infra/variables.tf",
        "bench/python/handler.py",
    ];
    for rel in every_topic {
        let text = read(rel);
        let found = words(&text, is_topic);
        for t in topics() {
            assert!(found.contains(t), "{rel} does not name topic `{t}`");
        }
    }
    let every_function = ["Makefile", "infra/variables.tf"];
    for rel in every_function {
        let text = read(rel);
        let found = words(&text, is_function);
        for f in functions() {
            assert!(found.contains(f), "{rel} does not name function `{f}`");
        }
    }
    // Keyspaces tables in Terraform, and the CQL schema the CLI applies.
    for rel in ["infra/keyspaces.tf", "cassandra/schema.cql"] {
        let text = read(rel);
        let found = words(&text, |w| w.ends_with("_logs") || w == DEAD_LETTER_TABLE);
        for k in LogKind::ALL {
            assert!(
                found.contains(k.table()),
                "{rel} has no table `{}`",
                k.table()
            );
        }
        assert!(
            found.contains(DEAD_LETTER_TABLE),
            "{rel} has no `{DEAD_LETTER_TABLE}`"
        );
        for t in found
            .iter()
            .filter(|w| w.ends_with("_logs") && !w.starts_with("user_"))
        {
            assert!(
                LogKind::ALL.iter().any(|k| k.table() == *t),
                "{rel} names table `{t}`, which no LogKind has"
            );
        }
    }
}

/// The Rust sources that spell out every kind: a match with an arm for each
/// `LogKind` or `LogRow` variant, written out by name. These are the places
/// a fourth kind must be added to.
fn sources_that_list_every_kind() -> Vec<String> {
    let dirs = [
        "contract/src",
        "functions",
        "local/src",
        "logpipe/src",
        "logpipe/tests",
        "generator/src",
        "bench/src",
        "fuzz/src",
    ];
    let mut out = Vec::new();
    for dir in dirs.into_iter().filter(|d| root().join(d).is_dir()) {
        for rel in files(dir, &[".rs"]) {
            let text = read(&rel);
            let lists = |enum_name: &str| {
                LogKind::ALL.iter().all(|k| {
                    let variant = format!("{enum_name}::{k:?}");
                    text.match_indices(&variant).any(|(at, _)| {
                        // An arm: the variant, maybe a binding, then `=>`.
                        let rest = &text[at + variant.len()..];
                        let arm = rest.split('\n').next().unwrap_or("");
                        arm.contains("=>")
                    })
                })
            };
            if lists("LogKind") || lists("LogRow") {
                out.push(rel);
            }
        }
    }
    out
}

/// docs/architecture.md's guide to adding a kind names every source file
/// that spells out the kinds one by one, so following it touches every
/// such place (the compiler finds the exhaustive matches; this also finds
/// the ones with a `_` arm, and the tests' lists).
#[test]
fn the_guide_to_adding_a_kind_names_every_place_that_lists_the_kinds() {
    let doc = read("docs/architecture.md");
    let start = doc
        .find("## Adding a fourth kind")
        .expect("docs/architecture.md has a section `## Adding a fourth kind`");
    let section = &doc[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let places = sources_that_list_every_kind();
    assert!(
        places.iter().any(|p| p.ends_with("contract/src/topics.rs")),
        "the search for matches over the kinds found no arm in topics.rs: {places:?}"
    );
    let missing: Vec<&String> = places
        .iter()
        .filter(|rel| !section.contains(rel.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "these files have an arm for every kind, but docs/architecture.md's `Adding a fourth kind` does not name them (by their path from the repository root): {missing:?}"
    );
}
