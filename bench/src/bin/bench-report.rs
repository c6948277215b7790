//! `bench-report`: measures each benchmark against its baseline side by side
//! in one run, and prints the results as the markdown tables of
//! docs/benchmarks.md.
//!
//! 1. Hot path (decode + validate + transform) vs the JSON floor (event
//!    decode + base64 + `serde_json::Value`), per 10,000-record event.
//! 2. The same events through the Python reference handler
//!    (bench/python/handler.py), run as a child process.
//!
//! Usage: bench-report [--records N] [--repeats N] [--python PYTHON] [--out DIR]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use logpipe_bench::{baseline, event_bytes, pipeline, MIXES};

struct Args {
    records: usize,
    repeats: usize,
    python: String,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        records: 10_000,
        repeats: 15,
        python: "python3".into(),
        out: PathBuf::from("target/bench"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--records" => {
                args.records = value()?.parse().map_err(|e| format!("--records: {e}"))?
            }
            "--repeats" => {
                args.repeats = value()?.parse().map_err(|e| format!("--repeats: {e}"))?
            }
            "--python" => args.python = value()?,
            "--out" => args.out = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// Best wall time of `repeats` runs (the least disturbed by the machine).
fn best_of(repeats: usize, mut f: impl FnMut() -> usize) -> Duration {
    (0..repeats)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: cannot create {}: {e}", args.out.display());
        std::process::exit(1);
    }
    let n = args.records;
    println!(
        "### 1. Hot path vs JSON floor ({n} records an event, best of {} runs, one core)\n",
        args.repeats
    );
    println!("| event | pipeline records/s | baseline records/s | cost vs baseline | target |");
    println!("|---|---:|---:|---:|---|");
    let mut python_rows = Vec::new();
    for mix in MIXES {
        let payload = event_bytes(mix, n);
        assert_eq!(pipeline(&payload), n, "every record must have an outcome");
        let ours = best_of(args.repeats, || pipeline(&payload));
        let floor = best_of(args.repeats, || baseline(&payload));
        let rate = |d: Duration| n as f64 / d.as_secs_f64();
        println!(
            "| {} | {:.0} | {:.0} | {:.2}x | ≥ 1,000,000 rec/s, ≤ 2x |",
            mix.name(),
            rate(ours),
            rate(floor),
            ours.as_secs_f64() / floor.as_secs_f64()
        );
        let file = args.out.join(format!("{}.json", mix.name()));
        if let Err(e) = std::fs::write(&file, &payload) {
            eprintln!("error: cannot write {}: {e}", file.display());
            std::process::exit(1);
        }
        python_rows.push((mix.name(), file, rate(ours)));
    }

    println!("\n### 2. Rust handler vs the Python reference handler (same event files)\n");
    println!("| event | Rust records/s | Python records/s | speed-up | target |");
    println!("|---|---:|---:|---:|---|");
    for (name, file, rust_rate) in python_rows {
        let out = Command::new(&args.python)
            .arg("bench/python/handler.py")
            .arg(&file)
            .arg("3")
            .output();
        let py_rate = match out {
            Ok(o) if o.status.success() => serde_json::from_slice::<serde_json::Value>(&o.stdout)
                .ok()
                .and_then(|v| v["records_per_second"].as_f64()),
            Ok(o) => {
                eprintln!(
                    "python handler failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                None
            }
            Err(e) => {
                eprintln!("cannot run {}: {e}", args.python);
                None
            }
        };
        match py_rate {
            Some(py) => println!(
                "| {name} | {rust_rate:.0} | {py:.0} | {:.1}x | ≥ 20x |",
                rust_rate / py
            ),
            None => {
                println!("| {name} | {rust_rate:.0} | failed | - | ≥ 20x |");
                std::process::exit(1);
            }
        }
    }
}
