//! Every `logpipe` command line that the README, `docs/` or a Terraform
//! output prints is one the CLI accepts.
//!
//! Each command is taken from the text (code blocks, inline code, HCL
//! strings), its synopsis notation resolved (`[--flag VALUE]` kept,
//! `a|b` → `a`, placeholders such as `HOST:PORT` or `N` given a value of
//! their kind), and run as `logpipe ARGS --help`: clap parses every
//! argument before the `--help`, so an unknown subcommand or flag, or a
//! value a flag refuses, fails the run, and a valid line prints the help
//! and exits 0.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::root;

/// The CLI's subcommands, as its own `--help` lists them, so a new one is
/// checked from the day it exists.
fn subcommands() -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_logpipe"))
        .arg("--help")
        .output()
        .expect("logpipe --help runs");
    let help = String::from_utf8_lossy(&out.stdout);
    let list: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect();
    assert!(list.len() >= 10, "subcommands of logpipe --help: {list:?}");
    list
}

/// Values for the synopses' placeholders, by kind.
fn placeholder(token: &str) -> Option<&'static str> {
    Some(match token {
        "HOST:PORT" | "SERVERS" | "ADDR" => "127.0.0.1:9092",
        "N" | "N_PER_TOPIC" | "SECONDS" => "10",
        "R" | "RATIO" => "0.01",
        "DIR" => "/tmp/logpipe-doc-dir",
        "FILE" | "FILE..." | "FILE…" => "event.json",
        "URL" => "http://127.0.0.1:9000",
        "KINDS" => "auth",
        "KIND=TOPIC" => "auth=user_auth_logs",
        "KIND=NAME" => "auth=auth-logs",
        "GROUP" | "K" | "NAME" | "TOPIC" => "x",
        "MAP" => "{'class':'SimpleStrategy','replication_factor':1}",
        _ => return None,
    })
}

/// Resolves `[...]` groups innermost first: a group of flags is kept (its
/// first `|` alternative); prose such as `[TLS/SASL flags]` is dropped.
fn resolve_brackets(mut line: String) -> String {
    while let Some(close) = line.find(']') {
        let Some(open) = line[..close].rfind('[') else {
            break;
        };
        let inner = line[open + 1..close].trim();
        let kept = if inner.starts_with('-') {
            inner.split(" | ").next().unwrap_or("").to_owned()
        } else {
            String::new()
        };
        line.replace_range(open..=close, &kept);
    }
    line
}

/// `<…>` placeholders (which may hold spaces: `<real Kafka>`) as one
/// address token.
fn angle_placeholders(command: &str) -> String {
    let mut out = String::new();
    let mut rest = command;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str("127.0.0.1:9092");
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// The arguments after `logpipe` in one documented line.
fn arguments(command: &str) -> Vec<String> {
    let command = command.split(" #").next().unwrap_or("");
    let command = command.trim().trim_end_matches('&').trim_end_matches('\\');
    resolve_brackets(angle_placeholders(command))
        .split_whitespace()
        .filter(|t| !matches!(*t, "..." | "…"))
        .map(|t| {
            if let Some(v) = placeholder(t) {
                return v.to_owned();
            }
            t.split('|').next().unwrap_or(t).to_owned()
        })
        .collect()
}

/// `${...}` interpolations of the Terraform outputs, given example values.
fn interpolate(hcl: &str) -> String {
    let mut out = String::new();
    let mut rest = hcl;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').map_or(rest.len(), |e| at + e + 1);
        let expr = &rest[at + 2..end - 1];
        out.push_str(match expr {
            e if e.contains("endpoint") => "http://localhost:4566",
            e if e.contains("bootstrap") => "localhost:9092",
            e if e.contains("region") => "us-east-1",
            e if e == "topic" || e.contains("topic]") && !e.contains("function") => {
                "user_auth_logs"
            }
            _ => "auth-logs",
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Every `logpipe SUBCOMMAND ...` in `text`, with continuation lines joined.
fn commands_in(text: &str) -> Vec<String> {
    commands_of(text, &subcommands())
}

fn commands_of(text: &str, subcommands: &[String]) -> Vec<String> {
    let joined = text.replace("\\\n", " ");
    let mut found = Vec::new();
    for line in joined.lines() {
        for piece in line.split('`') {
            let mut at = 0;
            while let Some(i) = piece[at..].find("logpipe ") {
                let start = at + i;
                let before = piece[..start].chars().last();
                at = start + "logpipe ".len();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_') {
                    continue;
                }
                let tail = &piece[at..];
                let sub = tail.split_whitespace().next().unwrap_or("");
                if subcommands.iter().any(|s| s == sub) {
                    let end = tail.find('"').unwrap_or(tail.len());
                    found.push(format!("logpipe {}", &tail[..end]));
                }
            }
        }
    }
    found
}

fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![root.join("README.md")];
    let mut dir: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    dir.sort();
    files.extend(dir);
    for example in ["localstack", "msk", "self-managed"] {
        files.push(root.join(format!("infra/examples/{example}/outputs.tf")));
    }
    files.push(root.join("infra/outputs.tf"));
    files
}

fn check(file: &Path, command: &str) -> Result<(), String> {
    let mut args = arguments(command.trim_start_matches("logpipe "));
    args.push("--help".into());
    let out = Command::new(env!("CARGO_BIN_EXE_logpipe"))
        .args(&args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    // Prose that names a flag without its value (`logpipe replay --dump`):
    // the flag exists, it only wants a value.
    if err.contains("a value is required for") && args.len() >= 2 {
        let last = &args[args.len() - 2];
        if last.starts_with("--") && err.contains(last.as_str()) {
            return Ok(());
        }
    }
    Err(format!(
        "{}: `{command}` (run as logpipe {}) is refused:\n{err}",
        file.display(),
        args.join(" ")
    ))
}

#[test]
fn every_documented_logpipe_command_parses() {
    let subs = subcommands();
    let mut checked = 0;
    let mut refused = Vec::new();
    for file in documents() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let text = if file.extension().is_some_and(|x| x == "tf") {
            interpolate(&text)
        } else {
            text
        };
        for command in commands_of(&text, &subs) {
            checked += 1;
            if let Err(e) = check(&file, &command) {
                refused.push(e);
            }
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n\n"));
    // The README alone documents every subcommand: far more than this.
    assert!(checked >= 30, "only {checked} commands found");
    // Each subcommand is documented somewhere.
    let all: String = documents()
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    for sub in &subs {
        assert!(
            all.contains(&format!("logpipe {sub}")),
            "`logpipe {sub}` is not in the README or docs/"
        );
    }
}

#[test]
fn the_check_refuses_what_the_cli_refuses() {
    let file = Path::new("test");
    assert!(check(file, "logpipe esm --topic auth --function auth-logs").is_err());
    assert!(check(file, "logpipe replay --no-such-flag x.json").is_err());
    assert!(check(file, "logpipe frobnicate").is_err());
    assert!(check(
        file,
        "logpipe replay [--cassandra embedded|none|HOST:PORT] [--json] [--dump DIR] FILE..."
    )
    .is_ok());
    assert!(check(file, "logpipe replay --dump").is_ok());
}

#[test]
fn synopses_resolve_to_arguments() {
    assert_eq!(
        arguments("demo [--records N] [--kafka HOST:PORT [TLS/SASL flags]] [--json]"),
        [
            "demo",
            "--records",
            "10",
            "--kafka",
            "127.0.0.1:9092",
            "--json"
        ]
    );
    assert_eq!(
        arguments("generate [--bootstrap HOST:PORT | --stdout | --emit-events DIR] ..."),
        ["generate", "--bootstrap", "127.0.0.1:9092"]
    );
    assert_eq!(
        arguments("demo --kafka <real Kafka> --json"),
        ["demo", "--kafka", "127.0.0.1:9092", "--json"]
    );
    assert_eq!(
        commands_in("run `logpipe kafka --listen 127.0.0.1:9092` and\nlogpipe replay --json \\\n  a.json # note"),
        ["logpipe kafka --listen 127.0.0.1:9092", "logpipe replay --json    a.json # note"]
    );
}
