//! `bench-report`: measures each benchmark against its baseline side by side
//! in one run, and prints the results as the markdown tables of
//! docs/benchmarks.md.
//!
//! 1. `hot`: hot path (event decode + validate + transform) vs the JSON
//!    floor (base64 + `serde_json::Value` of each record value).
//! 2. `python`: the same events through the Python reference handler
//!    (bench/python/handler.py), run as a child process.
//! 3. `sink`: `CassandraSink::store` vs bare prepared inserts of the same
//!    rows, at several concurrency levels, against the embedded CQL node
//!    and against a real Apache Cassandra node (testkit).
//! 4. `e2e`: `logpipe demo` against its embedded servers, and against a
//!    real Apache Kafka and Cassandra (`--kafka`, `--cassandra`), with the
//!    CPU each process spent and the bare insert rate of that node beside it.
//! 5. `lambda`: the function binary against a fake Lambda Runtime API:
//!    init time (start to first `next` request) and peak RSS on a 6 MB batch.
//! 6. `generator`: `log-generator` to a real Apache Kafka broker vs to /dev/null.
//! 7. `dumps`: a capture rewritten by Python's `json.dumps` (spaces, shuffled
//!    keys, `\uXXXX` escapes, floats in metadata): the hot path against the
//!    JSON floor on it, and `logpipe replay --cassandra none` as a whole
//!    process against the Python reference handler.
//! 8. `cost`: Lambda compute per million records: the three function
//!    binaries under a timed fake Runtime API, billed per 1 ms, beside the
//!    Python reference handler billed the same way.
//!
//! Usage: bench-report [--only hot,python,sink,e2e,lambda,generator,dumps,cost]
//!   [--records N] [--repeats N] [--python PYTHON] [--out DIR]
//!   [--sink-levels 1,8,64,256] [--e2e-records N] [--generator-records N]
//!   [--dumps-records N] [--cost-invocations N] [--functions DIR]
//!   [--logpipe PATH] [--function PATH] [--generator PATH]
//!
//! The real servers come from `make servers` (testkit starts them here).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use logpipe_bench::cost::{
    batch_up_to, billed_ms, cpu_bound_gb_s_per_million, gb_s_per_million, memory_needed_mb,
    terraform_memory_default, PRICE_ARM64_PER_GB_S, PRICE_X86_64_PER_GB_S,
};
use logpipe_bench::python::{self, rewrite_with_dumps};
use logpipe_bench::replay::{replay_none, same_outcomes, single_topic_event};
use logpipe_bench::runtime_api::FakeRuntime;
use logpipe_bench::{baseline, event_bytes, pipeline, values, Mix, MIXES};
use logpipe_core::LogKind;
use logpipe_local::embedded::EmbeddedCassandra;
use logpipe_testkit::{
    cpu_seconds, last_json_line, status_kib, Cassandra, CassandraOptions, Kafka, KafkaOptions,
    KillOnDrop,
};

struct Args {
    only: Vec<String>,
    records: usize,
    repeats: usize,
    python: String,
    out: PathBuf,
    sink_levels: Vec<usize>,
    e2e_records: u64,
    generator_records: u64,
    logpipe: PathBuf,
    function: PathBuf,
    generator: PathBuf,
    dumps_records: usize,
    cost_invocations: usize,
    functions: PathBuf,
}

const SECTIONS: [&str; 8] = [
    "hot",
    "python",
    "sink",
    "e2e",
    "lambda",
    "generator",
    "dumps",
    "cost",
];

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        only: SECTIONS.map(str::to_owned).to_vec(),
        records: 10_000,
        repeats: 15,
        python: "python3".into(),
        out: PathBuf::from("target/bench"),
        sink_levels: vec![1, 8, 64, 256],
        e2e_records: 1_000_000,
        generator_records: 500_000,
        logpipe: PathBuf::from("target/release/logpipe"),
        function: PathBuf::from("target/release/auth-logs"),
        generator: PathBuf::from("target/release/log-generator"),
        dumps_records: 60_000,
        cost_invocations: 20,
        functions: PathBuf::from("target/release"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--only" => {
                args.only = value()?.split(',').map(str::to_owned).collect();
                if let Some(bad) = args.only.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(format!("--only: unknown section {bad:?}"));
                }
            }
            "--records" => args.records = num(value()?)? as usize,
            "--repeats" => args.repeats = num(value()?)?.max(1) as usize,
            "--python" => args.python = value()?,
            "--out" => args.out = PathBuf::from(value()?),
            "--sink-levels" => {
                args.sink_levels = value()?
                    .split(',')
                    .map(|s| s.parse().map_err(|e| format!("--sink-levels: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--e2e-records" => args.e2e_records = num(value()?)?,
            "--generator-records" => args.generator_records = num(value()?)?,
            "--logpipe" => args.logpipe = PathBuf::from(value()?),
            "--function" => args.function = PathBuf::from(value()?),
            "--generator" => args.generator = PathBuf::from(value()?),
            "--dumps-records" => args.dumps_records = num(value()?)? as usize,
            "--cost-invocations" => args.cost_invocations = num(value()?)?.max(1) as usize,
            "--functions" => args.functions = PathBuf::from(value()?),
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

/// Best wall times of `f` and `g` over `repeats` runs each, taken in turn
/// (f, g, f, g, ...) so that both sides see the same moments of the
/// machine: on a shared machine a burst of other work then slows one run
/// of each, not every run of one side.
fn best_of_pair(
    repeats: usize,
    mut f: impl FnMut() -> usize,
    mut g: impl FnMut() -> usize,
) -> (Duration, Duration) {
    let mut best = (Duration::MAX, Duration::MAX);
    for _ in 0..repeats {
        let t = Instant::now();
        std::hint::black_box(f());
        best.0 = best.0.min(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(g());
        best.1 = best.1.min(t.elapsed());
    }
    best
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

/// Groups digits by thousands: 1234567 → 1,234,567.
fn n(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{cores} cores, {cpu}; load average {} at start",
        load.join(" ")
    )
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        fail(format_args!("cannot create {}: {e}", args.out.display()));
    }
    let on = |s: &str| args.only.iter().any(|o| o == s);
    println!("Machine: {}\n", machine());
    let mut events = Vec::new();
    if on("hot") || on("python") {
        events = hot_path(&args);
    }
    if on("python") {
        python(&args, &events);
    }
    if on("sink") {
        sink(&args);
    }
    if on("e2e") {
        e2e(&args);
    }
    if on("lambda") {
        lambda(&args);
    }
    if on("generator") {
        generator(&args);
    }
    if on("dumps") {
        dumps(&args, &events);
    }
    if on("cost") {
        cost(&args);
    }
}

/// Section 1; returns each event's name and file for section 2.
fn hot_path(args: &Args) -> Vec<(&'static str, PathBuf)> {
    let count = args.records;
    println!(
        "### 1. Hot path vs JSON floor ({count} records an event, best of {} runs of each side, taken in turn, one core)\n",
        args.repeats
    );
    println!("| event | pipeline records/s | baseline records/s | cost vs baseline | target |");
    println!("|---|---:|---:|---:|---|");
    let mut out = Vec::new();
    for mix in MIXES {
        let payload = event_bytes(mix, count);
        assert_eq!(
            pipeline(&payload),
            count,
            "every record must have an outcome"
        );
        let values = values(&payload);
        let (ours, floor) = best_of_pair(args.repeats, || pipeline(&payload), || baseline(&values));
        let rate = |d: Duration| count as f64 / d.as_secs_f64();
        println!(
            "| {} | {} | {} | {:.2}x | ≥ 1,000,000 rec/s, ≤ 2x |",
            mix.name(),
            n(rate(ours)),
            n(rate(floor)),
            ours.as_secs_f64() / floor.as_secs_f64()
        );
        let file = args.out.join(format!("{}.json", mix.name()));
        if let Err(e) = std::fs::write(&file, &payload) {
            fail(format_args!("cannot write {}: {e}", file.display()));
        }
        out.push((mix.name(), file));
    }
    out
}

/// Rounds of section 2: one Python run, then the Rust side, in turn.
const PYTHON_ROUNDS: usize = 5;

fn python(args: &Args, events: &[(&'static str, PathBuf)]) {
    println!(
        "\n### 2. Rust handler vs the Python reference handler (same event files; best of {PYTHON_ROUNDS} rounds of one Python run then {} Rust runs)\n",
        args.repeats
    );
    println!("| event | Rust records/s | Python records/s | speed-up | target |");
    println!("|---|---:|---:|---:|---|");
    for (name, file) in events {
        let payload = std::fs::read(file)
            .unwrap_or_else(|e| fail(format_args!("cannot read {}: {e}", file.display())));
        let records = pipeline(&payload) as f64;
        let (mut py, mut rust) = (0f64, 0f64);
        // Taken in turn, so both sides see the same moments of the machine.
        for _ in 0..PYTHON_ROUNDS {
            py = py.max(python_rate(args, file));
            rust = rust.max(records / best_of(args.repeats, || pipeline(&payload)).as_secs_f64());
        }
        println!(
            "| {name} | {} | {} | {:.1}x | ≥ 20x |",
            n(rust),
            n(py),
            rust / py
        );
    }
}

/// Records/s of one run of the Python handler on `file`.
fn python_rate(args: &Args, file: &Path) -> f64 {
    let out = Command::new(&args.python)
        .arg("bench/python/handler.py")
        .arg(file)
        .arg("1")
        .stdin(Stdio::null())
        .output();
    let rate = match out {
        Ok(o) if o.status.success() => serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .ok()
            .and_then(|v| v["records_per_second"].as_f64()),
        Ok(o) => fail(format_args!(
            "python handler failed: {}",
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => fail(format_args!("cannot run {}: {e}", args.python)),
    };
    rate.unwrap_or_else(|| fail("python handler printed no records_per_second"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format_args!("tokio runtime: {e}")))
}

fn sink(args: &Args) {
    let rows = args.records;
    println!(
        "\n### 3. Sink: rows/s, the handler's write path vs bare prepared inserts ({rows} rows of the mixed event, best of 3)\n"
    );
    let payload = event_bytes(Mix::MixedOnePercentBad, rows);
    let batch =
        logpipe_core::batch::process_payload(&logpipe_core::Router::all_default("bench"), &payload)
            .unwrap_or_else(|e| fail(e));
    println!("| node | concurrency | handler write path rows/s | bare prepared inserts rows/s | ratio | target |");
    println!("|---|---:|---:|---:|---:|---|");
    let node = EmbeddedCassandra::start("127.0.0.1:0".parse().expect("an address"))
        .unwrap_or_else(|e| fail(format_args!("embedded CQL node: {e}")));
    sink_rows(
        "embedded",
        &node.addr().to_string(),
        &batch,
        &args.sink_levels,
    );
    drop(node);
    match Cassandra::start(CassandraOptions::default()) {
        Ok(real) => sink_rows(
            "Apache Cassandra 5",
            real.address(),
            &batch,
            &args.sink_levels,
        ),
        Err(e) => println!("| Apache Cassandra 5 | not run: {e} | | | | |"),
    }
}

fn sink_rows(node: &str, contact: &str, batch: &logpipe_core::ProcessedBatch, levels: &[usize]) {
    let rates = runtime()
        .block_on(logpipe_bench::sink::rates(contact, batch, levels, 3))
        .unwrap_or_else(|e| fail(e));
    for r in rates {
        println!(
            "| {node} | {} | {} | {} | {:.0}% | ≥ 80% |",
            r.concurrency,
            n(r.sink),
            n(r.bare),
            100.0 * r.sink / r.bare
        );
    }
}

/// What one `logpipe demo` run printed, and the CPU it used.
struct DemoRun {
    summary: serde_json::Value,
    cpu_seconds: f64,
}

/// Runs `logpipe demo --records RECORDS` with `extra` flags; returns its
/// JSON summary.
fn demo(args: &Args, records: u64, extra: &[&str]) -> Result<DemoRun, String> {
    let records = records.to_string();
    let mut cmd = Command::new(&args.logpipe);
    cmd.args(["demo", "--records", &records, "--json"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut group = KillOnDrop::spawn_group(&mut cmd)
        .map_err(|e| format!("cannot run {}: {e}", args.logpipe.display()))?;
    let mut stdout = Vec::new();
    if let Some(mut out) = group.child.stdout.take() {
        use std::io::Read;
        let _ = out.read_to_end(&mut stdout);
    }
    // Exited (or exiting) but not reaped: its CPU times are still readable
    // (a zombie keeps its final times) until it is waited for.
    let pid = group.pid();
    let mut cpu = cpu_seconds(pid).unwrap_or(0.0);
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(50));
        match cpu_seconds(pid) {
            Some(c) if c > cpu => cpu = c,
            _ => break,
        }
    }
    let _ = group.child.try_wait();
    let summary =
        last_json_line(&stdout).map_err(|e| format!("the demo printed no JSON summary: {e}"))?;
    Ok(DemoRun {
        summary,
        cpu_seconds: cpu,
    })
}

/// Runs of each side on the real pair, taken in turn (demo, bare, demo,
/// bare), after one warm-up demo; the best of each side is compared.
const E2E_ROUNDS: u64 = 3;

fn e2e(args: &Args) {
    println!(
        "\n### 4. End to end: `logpipe demo --records {}` (per topic, three topics)\n",
        args.e2e_records
    );
    println!("| Kafka, CQL | produced | stored | all accounted for | records/s | batch p50 ms | batch p99 ms | batches | CPU s per 1M records: logpipe / Kafka / Cassandra |");
    println!("|---|---:|---:|---|---:|---:|---:|---:|---|");
    match demo(args, args.e2e_records, &[]) {
        Ok(r) => {
            demo_row("embedded, embedded (one process)", &r, " (all in-process)");
        }
        Err(e) => println!("| embedded | failed: {e} | | | | | | | |"),
    }
    let servers = Kafka::start(KafkaOptions::default()).and_then(|k| {
        Cassandra::start(CassandraOptions {
            heap_mb: 2048,
            ..CassandraOptions::default()
        })
        .map(|c| (k, c))
    });
    let (kafka, cassandra) = match servers {
        Ok(s) => s,
        Err(e) => {
            println!("| Apache Kafka 4, Apache Cassandra 5 | not run: {e} | | | | | | | |");
            return;
        }
    };
    let jvm_cpu = |pid: Option<u32>| pid.and_then(cpu_seconds).unwrap_or(0.0);
    let real = [
        "--kafka",
        kafka.bootstrap(),
        "--cassandra",
        cassandra.address(),
    ];
    // A warm-up run as long as a measured one, not reported: both JVMs
    // compile their hot code over their first minute or so (C2 compiler
    // threads took a third of Cassandra's CPU in a first run), which
    // whichever side ran first would pay alone, and which a server in
    // service has long since done.
    let warm_up = args.e2e_records;
    let warm_up_args = [&real[..], &["--seed", "1000", "--keyspace", "warm_up"]].concat();
    if let Err(e) = demo(args, warm_up, &warm_up_args) {
        println!("| Apache Kafka 4, Apache Cassandra 5 | warm-up failed: {e} | | | | | | | |");
        return;
    }
    // The same node's bare insert rate at the demo's concurrency (three
    // mappings, each invocation writing 64 rows at a time), each run writing
    // as many distinct rows as the demo stored, generated like the demo's:
    // in events of 10,000 records, each event from its own seed.
    let concurrency = 3 * 64;
    let router = logpipe_core::Router::all_default("bench");
    let (mut best_e2e, mut best_bare) = (0.0f64, 0.0f64);
    let mut bare_lines = Vec::new();
    for round in 0..E2E_ROUNDS {
        let seed = (1 + round).to_string();
        let (k0, c0) = (jvm_cpu(kafka.pid()), jvm_cpu(cassandra.pid()));
        let run = demo(
            args,
            args.e2e_records,
            &[&real[..], &["--seed", &seed]].concat(),
        );
        let (k1, c1) = (jvm_cpu(kafka.pid()), jvm_cpu(cassandra.pid()));
        let run = match run {
            Ok(run) => run,
            Err(e) => {
                println!("| Apache Kafka 4, Apache Cassandra 5 | failed: {e} | | | | | | | |");
                return;
            }
        };
        let stored = stored_of(&run.summary);
        let jvms = |cpu: f64| format!("{:.1}", cpu * 1e6 / stored.max(1.0));
        let servers = format!(" / {} / {}", jvms(k1 - k0), jvms(c1 - c0));
        demo_row("Apache Kafka 4, Apache Cassandra 5", &run, &servers);
        best_e2e = best_e2e.max(run.summary["records_per_second"].as_f64().unwrap_or(0.0));

        let mut distinct = logpipe_core::ProcessedBatch::default();
        let events = (stored as usize).div_ceil(10_000);
        for event in 0..events {
            let seed = 10_000 * (1 + round) + event as u64;
            let payload = logpipe_bench::generated_event(&LogKind::ALL, 10_000, seed, 0.01);
            let batch =
                logpipe_core::batch::process_payload(&router, &payload).unwrap_or_else(|e| fail(e));
            distinct.rows.extend(batch.rows);
            distinct.dead_letters.extend(batch.dead_letters);
        }
        let rows = (distinct.rows.len() + distinct.dead_letters.len()) as f64;
        let c0 = jvm_cpu(cassandra.pid());
        match runtime().block_on(logpipe_bench::sink::bare_rate(
            cassandra.address(),
            &distinct,
            concurrency,
        )) {
            Ok(bare) => {
                let c1 = jvm_cpu(cassandra.pid());
                best_bare = best_bare.max(bare);
                bare_lines.push(format!(
                    "bare inserts, run {}: {} distinct rows at {} rows/s; Cassandra {:.1} CPU s per 1M rows",
                    round + 1,
                    n(rows),
                    n(bare),
                    (c1 - c0) * 1e6 / rows.max(1.0)
                ));
            }
            Err(e) => {
                println!("\nbare inserts on the real node failed: {e}");
                return;
            }
        }
    }
    println!();
    for line in &bare_lines {
        println!("- {line}");
    }
    println!(
        "\nEnd to end on the real pair (best of {E2E_ROUNDS} runs each, taken in turn after a warm-up demo of {} records a topic): {} records/s against {} rows/s of bare prepared inserts of as many distinct rows to the same node at concurrency {concurrency}: {:.1}% (target ≥ 60%).",
        n(warm_up as f64),
        n(best_e2e),
        n(best_bare),
        100.0 * best_e2e / best_bare
    );
    // The baseline as §3 measures it: one 10,000-row batch, best of three
    // writes of the same rows (overwrites, which a memtable absorbs).
    let payload = event_bytes(Mix::MixedOnePercentBad, args.records);
    let batch = logpipe_core::batch::process_payload(&router, &payload).unwrap_or_else(|e| fail(e));
    if let Ok(rates) = runtime().block_on(logpipe_bench::sink::rates(
        cassandra.address(),
        &batch,
        &[concurrency],
        3,
    )) {
        println!(
            "Against §3's baseline (the same {} rows written three times, best run): {} rows/s, {:.1}%.",
            n((batch.rows.len() + batch.dead_letters.len()) as f64),
            n(rates[0].bare),
            100.0 * best_e2e / rates[0].bare
        );
    }
}

/// Records a demo stored: written plus dead-lettered.
fn stored_of(summary: &serde_json::Value) -> f64 {
    summary["written"].as_f64().unwrap_or(0.0) + summary["dead_lettered"].as_f64().unwrap_or(0.0)
}

/// Prints one demo run as a row of §4's table.
fn demo_row(name: &str, r: &DemoRun, servers: &str) {
    let s = &r.summary;
    let stored = stored_of(s);
    let per_million = if stored > 0.0 {
        format!("{:.1}", r.cpu_seconds * 1e6 / stored)
    } else {
        "?".into()
    };
    println!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {per_million}{servers} |",
        n(s["produced"].as_f64().unwrap_or(0.0)),
        n(stored),
        if s["ok"] == true { "yes" } else { "no" },
        n(s["records_per_second"].as_f64().unwrap_or(0.0)),
        s["batch_latency_ms"]["p50"],
        s["batch_latency_ms"]["p99"],
        s["batches"],
    );
}

/// The function's environment under the fake runtime API.
fn function_command(args: &Args, api: &FakeRuntime, contact: &str) -> Command {
    logpipe_bench::cost::function_command(&args.function, LogKind::Auth, api.addr(), contact, 512)
}

/// The largest auth-log event of at most `limit` bytes; returns it and its records.
fn event_up_to(limit: usize) -> (Vec<u8>, usize) {
    let per_record = event_bytes(Mix::Kind(LogKind::Auth), 1000).len() as f64 / 1000.0;
    let mut records = (limit as f64 / per_record) as usize;
    loop {
        let e = event_bytes(Mix::Kind(LogKind::Auth), records);
        if e.len() <= limit {
            return (e, records);
        }
        records -= records / 100 + 1;
    }
}

fn lambda(args: &Args) {
    println!(
        "\n### 5. Lambda footprint ({}, x86_64 release build, fake runtime API on loopback)\n",
        args.function.display()
    );
    if !args.function.exists() {
        println!(
            "not run: {} is not built (cargo build --release -p auth-logs)",
            args.function.display()
        );
        return;
    }
    // Process start cost on this machine: the floor of any init time.
    let spawn_floor = (0..10)
        .map(|_| {
            let t = Instant::now();
            let _ = Command::new("/bin/true").status();
            t.elapsed()
        })
        .min()
        .unwrap_or_default();
    let mut inits = Vec::new();
    let mut idle_hwm = None;
    for _ in 0..10 {
        let api = FakeRuntime::start(Vec::new()).unwrap_or_else(|e| fail(e));
        let start = Instant::now();
        let child = KillOnDrop::spawn_group(&mut function_command(args, &api, "127.0.0.1:9"))
            .unwrap_or_else(|e| fail(format_args!("cannot start the function: {e}")));
        if !api.wait_for(Duration::from_secs(10), |s| s.first_next.is_some()) {
            fail("the function did not ask for an invocation within 10 s");
        }
        let ready = api.seen(|s| s.first_next).flatten().unwrap_or(start);
        inits.push(ready - start);
        idle_hwm = idle_hwm.or_else(|| status_kib(child.pid(), "VmHWM"));
        drop(child);
    }
    inits.sort();
    let median = inits[inits.len() / 2];

    // Peak RSS: one invocation of the largest auth event under 6 MiB,
    // stored into an embedded CQL node.
    let (_node, contact) = embedded_node_with_schema();
    let (event, records) = event_up_to(6 * 1024 * 1024);
    let api = FakeRuntime::start(vec![event.clone()]).unwrap_or_else(|e| fail(e));
    let started = Instant::now();
    let child = KillOnDrop::spawn_group(&mut function_command(args, &api, &contact))
        .unwrap_or_else(|e| fail(format_args!("cannot start the function: {e}")));
    if !api.wait_for(Duration::from_secs(300), |s| !s.results.is_empty()) {
        fail("the function posted no result within 300 s");
    }
    let took = started.elapsed();
    let peak = status_kib(child.pid(), "VmHWM");
    drop(child);
    let (ok, body) = api
        .seen(|s| s.results[0].clone())
        .unwrap_or_else(|| fail("no result"));
    let summary: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if !ok || summary["records"].as_u64() != Some(records as u64) {
        fail(format_args!(
            "the invocation failed or miscounted: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let mib =
        |kib: Option<u64>| kib.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    println!("| measure | figure | baseline | target |");
    println!("|---|---:|---:|---|");
    println!(
        "| init: start to first `next` request (median of 10; min {:.1} ms) | {:.1} ms | {:.1} ms to start and reap `/bin/true` | ≤ 20 ms |",
        inits[0].as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        spawn_floor.as_secs_f64() * 1e3
    );
    println!(
        "| peak RSS, one {:.2} MB event ({records} auth logs) decoded, validated and stored | {} | {} idle after init | ≤ 64 MB |",
        event.len() as f64 / 1e6,
        mib(peak),
        mib(idle_hwm)
    );
    println!(
        "| that invocation, start to response (includes connecting to the node) | {:.0} ms | | |",
        took.as_secs_f64() * 1e3
    );
    for f in ["auth-logs", "session-logs", "activity-logs"] {
        let zip = PathBuf::from(format!("target/lambda/arm64/{f}/bootstrap.zip"));
        if let Ok(m) = std::fs::metadata(&zip) {
            println!(
                "| zipped bootstrap, {f} (arm64, `make build`) | {} bytes | | ≤ 10 MB |",
                n(m.len() as f64)
            );
        }
    }
}

fn generator(args: &Args) {
    let count = args.generator_records.to_string();
    println!("\n### 6. Generator: {count} records a topic (three topics, 1% bad, lz4)\n");
    // Baseline: the same records made and written to /dev/null.
    let t = Instant::now();
    let status = Command::new(&args.generator)
        .args(["--stdout", "--count", &count, "--invalid-ratio", "0.01"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let made = t.elapsed();
    if !matches!(status, Ok(s) if s.success()) {
        println!("not run: {} --stdout failed", args.generator.display());
        return;
    }
    let made_rate = 3.0 * args.generator_records as f64 / made.as_secs_f64();
    let broker = match Kafka::start(KafkaOptions::default()) {
        Ok(b) => b,
        Err(e) => {
            println!("not run: {e}");
            return;
        }
    };
    let bootstrap = broker.bootstrap().to_owned();
    let created = Command::new(&args.logpipe)
        .args([
            "topics",
            "create",
            "--bootstrap",
            &bootstrap,
            "--partitions",
            "3",
        ])
        .stdin(Stdio::null())
        .output();
    if !matches!(&created, Ok(o) if o.status.success()) {
        println!("not run: `logpipe topics create` failed on the broker");
        return;
    }
    let out = Command::new(&args.generator)
        .args([
            "--bootstrap",
            &bootstrap,
            "--count",
            &count,
            "--invalid-ratio",
            "0.01",
            "--json",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    drop(broker);
    let summary = out.ok().and_then(|o| last_json_line(&o.stdout).ok());
    let Some(summary) = summary else {
        println!("not run: the generator printed no JSON summary");
        return;
    };
    let rate = summary["messages_per_second"].as_f64().unwrap_or(0.0);
    println!(
        "| destination | messages/s | failed | baseline: made, to /dev/null | ratio | target |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    println!(
        "| Apache Kafka 4 (one KRaft node), loopback | {} | {} | {} | {:.0}% | ≥ 500,000 msgs/s |",
        n(rate),
        summary["failed"],
        n(made_rate),
        100.0 * rate / made_rate
    );
}

/// Rounds of section 7: one Python pass over the capture, then the replay
/// runs, in turn.
const DUMPS_ROUNDS: usize = 5;
/// `logpipe replay` runs of each capture a round.
const REPLAY_RUNS: usize = 3;

/// Section 7: a capture written by Python's `json.dumps`.
fn dumps(args: &Args, events: &[(&'static str, PathBuf)]) {
    let write = |name: &str, bytes: &[u8]| {
        let file = args.out.join(format!("{name}.json"));
        if let Err(e) = std::fs::write(&file, bytes) {
            fail(format_args!("cannot write {}: {e}", file.display()));
        }
        file
    };
    // The capture: §1's events (written here if §1 did not run), then
    // events of one topic each with 1% bad records, until it holds
    // --dumps-records records.
    let mut originals: Vec<PathBuf> = if events.is_empty() {
        MIXES
            .iter()
            .map(|&mix| write(mix.name(), &event_bytes(mix, args.records)))
            .collect()
    } else {
        events.iter().map(|(_, f)| f.clone()).collect()
    };
    originals.truncate(args.dumps_records.div_ceil(args.records.max(1)).max(1));
    for (i, kind) in LogKind::ALL.iter().cycle().enumerate() {
        if originals.len() * args.records >= args.dumps_records {
            break;
        }
        let seed = 43 + i as u64;
        let payload = single_topic_event(*kind, args.records, seed, 0.01);
        originals.push(write(
            &format!("capture_{}_{seed}", kind.function_name()),
            &payload,
        ));
    }
    let (rewritten, how) = rewrite_with_dumps(&args.python, &args.out.join("dumps"), &originals)
        .unwrap_or_else(|e| fail(e));
    let names: Vec<String> = originals
        .iter()
        .map(|f| {
            f.file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();

    // The two captures must mean the same to `logpipe replay`.
    let replay = |files: &[PathBuf]| replay_none(&args.logpipe, files).unwrap_or_else(|e| fail(e));
    let before = replay(&originals);
    let after = replay(&rewritten);
    if let Err(diff) = same_outcomes(&before.summary, &after.summary) {
        fail(format_args!(
            "the json.dumps capture does not replay to the same outcomes ({diff}):\n  original:  {}\n  rewritten: {}",
            before.summary, after.summary
        ));
    }
    let records = before.records();
    println!(
        "\n### 7. A capture written by Python's `json.dumps` ({} events, {} records: {} of {} values rewritten; {:.1} MB → {:.1} MB)\n",
        originals.len(),
        n(records as f64),
        n(how["values_rewritten"].as_f64().unwrap_or(0.0)),
        n(how["values_rewritten"].as_f64().unwrap_or(0.0) + how["values_kept"].as_f64().unwrap_or(0.0)),
        how["bytes_in"].as_f64().unwrap_or(0.0) / 1e6,
        how["bytes_out"].as_f64().unwrap_or(0.0) / 1e6,
    );
    println!(
        "`logpipe replay --cassandra none --json` gives the same outcomes on both captures: {} written, {} dead-lettered, reasons {}.\n",
        before.summary["written"], before.summary["dead_lettered"], before.summary["dead_letter_reasons"]
    );

    // (a) The hot path against the JSON floor, as §1 measures it.
    println!(
        "(a) Hot path vs the JSON floor (as §1: best of {} runs of each side, taken in turn, one core)\n",
        args.repeats
    );
    println!("| event | records | json.dumps bytes | pipeline records/s | baseline records/s | cost vs baseline | same event as written by serde_json | target |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    let (mut ours_total, mut floor_total, mut orig_ours, mut orig_floor) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    let mut hot_records = 0;
    for ((name, original), file) in names.iter().zip(&originals).zip(&rewritten) {
        let read = |f: &Path| {
            std::fs::read(f)
                .unwrap_or_else(|e| fail(format_args!("cannot read {}: {e}", f.display())))
        };
        let (payload, plain) = (read(file), read(original));
        let count = pipeline(&payload);
        if count != pipeline(&plain) {
            fail(format_args!(
                "{name}: the rewritten event has {count} outcomes, the original {}",
                pipeline(&plain)
            ));
        }
        let values = values(&payload);
        let (ours, floor) = best_of_pair(args.repeats, || pipeline(&payload), || baseline(&values));
        let plain_values = self::values(&plain);
        let (p_ours, p_floor) = best_of_pair(
            args.repeats,
            || pipeline(&plain),
            || baseline(&plain_values),
        );
        ours_total += ours;
        floor_total += floor;
        orig_ours += p_ours;
        orig_floor += p_floor;
        hot_records += count;
        let rate = |d: Duration| count as f64 / d.as_secs_f64();
        println!(
            "| {name} | {} | {} | {} | {} | {:.2}x | {:.2}x | ≤ 1.0x |",
            n(count as f64),
            n(payload.len() as f64),
            n(rate(ours)),
            n(rate(floor)),
            ours.as_secs_f64() / floor.as_secs_f64(),
            p_ours.as_secs_f64() / p_floor.as_secs_f64(),
        );
    }
    let rate = |d: Duration| hot_records as f64 / d.as_secs_f64();
    let all_line = format!(
        "\nOn all {} events, the pipeline ran at {} records/s on the json.dumps capture and {} records/s on the capture as written by serde_json (best runs summed).",
        originals.len(),
        n(rate(ours_total)),
        n(rate(orig_ours))
    );
    println!(
        "| all | {} | | {} | {} | {:.2}x | {:.2}x | ≤ 1.0x |",
        n(hot_records as f64),
        n(rate(ours_total)),
        n(rate(floor_total)),
        ours_total.as_secs_f64() / floor_total.as_secs_f64(),
        orig_ours.as_secs_f64() / orig_floor.as_secs_f64(),
    );
    println!("{all_line}");

    // (b) The whole `replay` process against the Python handler in-process.
    let mut py_best = f64::INFINITY;
    let mut py_counts = (0, 0);
    let (mut best_after, mut best_before) = (after.wall, before.wall);
    for _ in 0..DUMPS_ROUNDS {
        let py = python::timings(&args.python, &rewritten, 1).unwrap_or_else(|e| fail(e));
        if py.records != records {
            fail(format_args!(
                "the Python handler saw {} records, replay {records}",
                py.records
            ));
        }
        py_counts = (py.written, py.dead_lettered);
        py_best = py_best.min(py.best_pass());
        for _ in 0..REPLAY_RUNS {
            for (files, best) in [
                (&rewritten, &mut best_after),
                (&originals, &mut best_before),
            ] {
                let run = replay(files);
                if same_outcomes(&run.summary, &after.summary).is_err() {
                    fail(format_args!(
                        "replay counted differently from one run to the next: {}",
                        run.summary
                    ));
                }
                *best = (*best).min(run.wall);
            }
        }
    }
    let rust = records as f64 / best_after.as_secs_f64();
    let py = records as f64 / py_best;
    println!(
        "\n(b) `logpipe replay --cassandra none` as a whole process (spawn to exit) vs the Python reference handler in-process, same files (best of {DUMPS_ROUNDS} rounds of one Python pass then {REPLAY_RUNS} replay runs of each capture)\n"
    );
    println!("| side | records | best seconds | records/s | vs Python | target |");
    println!("|---|---:|---:|---:|---:|---|");
    println!(
        "| `logpipe replay --cassandra none --json` on the json.dumps capture, whole process | {} | {:.3} | {} | {:.1}x | ≥ 20x and ≥ 500,000 rec/s |",
        n(records as f64),
        best_after.as_secs_f64(),
        n(rust),
        rust / py
    );
    println!(
        "| the same on the capture as written by serde_json | {} | {:.3} | {} | {:.1}x | |",
        n(records as f64),
        best_before.as_secs_f64(),
        n(records as f64 / best_before.as_secs_f64()),
        records as f64 / best_before.as_secs_f64() / py
    );
    println!(
        "| Python reference handler, in-process (`json.loads` of each event + `handle`; no interpreter start, no file reads) | {} | {py_best:.3} | {} | 1.0x | |",
        n(records as f64),
        n(py)
    );
    println!(
        "\nThe Python handler counted {} written and {} dead-lettered on the json.dumps capture (replay: {} and {}).",
        py_counts.0, py_counts.1, after.summary["written"], after.summary["dead_lettered"]
    );
}

/// An embedded CQL node with the schema applied; returns it and its address.
fn embedded_node_with_schema() -> (EmbeddedCassandra, String) {
    let node = EmbeddedCassandra::start("127.0.0.1:0".parse().expect("an address"))
        .unwrap_or_else(|e| fail(format_args!("embedded CQL node: {e}")));
    let contact = node.addr().to_string();
    runtime().block_on(async {
        let session =
            logpipe_core::sink::connect_session(&logpipe_core::SinkConfig::local(&contact))
                .await
                .unwrap_or_else(|e| fail(e));
        logpipe_core::schema::apply(&session, logpipe_core::topics::DEFAULT_KEYSPACE, None)
            .await
            .unwrap_or_else(|e| fail(e));
    });
    (node, contact)
}

/// Billed durations (ms) of each invocation, their records, and the CPU
/// seconds they used between them.
struct Billed {
    ms: Vec<u64>,
    records: u64,
    cpu_seconds: f64,
}

/// Dollars to three significant digits: 0.0000794.
fn dollars(x: f64) -> String {
    if !(x.is_finite() && x > 0.0) {
        return format!("{x}");
    }
    let decimals = (2 - x.log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

impl Billed {
    /// GB-seconds per 1M records at `memory_mb`.
    fn gb_s(&self, memory_mb: u32) -> f64 {
        gb_s_per_million(self.ms.iter().sum(), memory_mb, self.records)
    }

    /// The CPU-bound floor: GB-seconds per 1M records at Lambda's CPU share.
    fn cpu_bound(&self) -> f64 {
        cpu_bound_gb_s_per_million(self.cpu_seconds, self.records)
    }

    fn row(&self, function: &str, side: &str, memory_mb: u32) {
        let mut sorted = self.ms.clone();
        sorted.sort_unstable();
        let gb_s = self.gb_s(memory_mb);
        println!(
            "| {function} | {side} | {memory_mb} | {} × {} | {} ({}–{}) | {gb_s:.3} | {} | {} | {:.3} |",
            sorted.len(),
            n((self.records / sorted.len().max(1) as u64) as f64),
            sorted.get(sorted.len() / 2).copied().unwrap_or(0),
            sorted.first().copied().unwrap_or(0),
            sorted.last().copied().unwrap_or(0),
            dollars(gb_s * PRICE_ARM64_PER_GB_S),
            dollars(gb_s * PRICE_X86_64_PER_GB_S),
            self.cpu_bound(),
        );
    }
}

/// Section 8: Lambda compute per million records.
fn cost(args: &Args) {
    let invocations = args.cost_invocations;
    let (default_mb, from) = match std::fs::read_to_string("infra/variables.tf")
        .ok()
        .and_then(|tf| terraform_memory_default(&tf))
    {
        Some(mb) => (mb, "the Terraform default, infra/variables.tf"),
        None => (256, "infra/variables.tf unreadable: assumed"),
    };
    let mut memories = vec![default_mb];
    for mb in [128, 1024] {
        if !memories.contains(&mb) {
            memories.push(mb);
        }
    }
    println!(
        "\n### 8. Lambda compute per 1M records ({invocations} invocations a side after one warm-up, billed per invocation rounded up to 1 ms; memory {default_mb} MB = {from})\n"
    );
    println!(
        "Prices: ${PRICE_ARM64_PER_GB_S}/GB-s arm64, ${PRICE_X86_64_PER_GB_S}/GB-s x86_64 (us-east-1, AWS's published Lambda prices, 2025). The functions store into the embedded CQL node (they have no mode without storage); the Python handler and the in-process row store nothing.\n"
    );
    println!("| function | side | memory MB | invocations × records | billed ms per invocation: median (min–max) | GB-s per 1M records | $ per 1M, arm64 | $ per 1M, x86_64 | CPU-bound GB-s per 1M (CPU s × 1,769 MB) |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let (node, contact) = embedded_node_with_schema();
    let mut notes = Vec::new();
    for kind in LogKind::ALL {
        let name = kind.function_name();
        let binary = args.functions.join(name);
        let (event, records) = batch_up_to(kind, 10_000, 6 * 1024 * 1024);
        let file = args.out.join(format!("cost_{name}.json"));
        if let Err(e) = std::fs::write(&file, &event) {
            fail(format_args!("cannot write {}: {e}", file.display()));
        }

        let mut stored: Option<Billed> = None;
        // The release binary under the timed runtime API, one warm-up
        // invocation (it connects to the node) then the billed ones.
        if binary.exists() {
            let api =
                FakeRuntime::repeat(event.clone(), invocations + 1).unwrap_or_else(|e| fail(e));
            let child = KillOnDrop::spawn_group(&mut logpipe_bench::cost::function_command(
                &binary,
                kind,
                api.addr(),
                &contact,
                default_mb,
            ))
            .unwrap_or_else(|e| fail(format_args!("cannot start {}: {e}", binary.display())));
            if !api.wait_for_results(1, Duration::from_secs(300)) {
                fail(format_args!(
                    "{name}: no result for the warm-up invocation within 300 s"
                ));
            }
            let cpu0 = cpu_seconds(child.pid()).unwrap_or(0.0);
            if !api.wait_for_results(invocations + 1, Duration::from_secs(600)) {
                fail(format_args!(
                    "{name}: not every invocation posted a result within 600 s"
                ));
            }
            let cpu1 = cpu_seconds(child.pid()).unwrap_or(0.0);
            let peak = status_kib(child.pid(), "VmHWM");
            drop(child);
            let seen = api.invocations();
            for inv in &seen {
                let (ok, _, body) = inv.result.as_ref().unwrap_or_else(|| fail("no result"));
                let summary: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
                if !ok || summary["records"].as_u64() != Some(records as u64) {
                    fail(format_args!(
                        "{name}: an invocation failed or miscounted: {}",
                        String::from_utf8_lossy(body)
                    ));
                }
            }
            let billed = Billed {
                ms: seen[1..]
                    .iter()
                    .filter_map(|i| i.took().map(billed_ms))
                    .collect(),
                records: (records * invocations) as u64,
                cpu_seconds: cpu1 - cpu0,
            };
            for &mb in &memories {
                billed.row(name, "release binary, stores into the embedded node", mb);
            }
            notes.push(format!(
                "{name}: {} records, {:.2} MB a batch; warm-up invocation (connects, prepares) {} ms; the binary's peak RSS {}",
                n(records as f64),
                event.len() as f64 / 1e6,
                seen[0].took().map_or(0, billed_ms),
                peak.map_or("?".into(), |k| format!(
                    "{:.1} MiB, it needs {} MB by the rule (peak RSS + 25%, rounded up to 128 MB)",
                    k as f64 / 1024.0,
                    memory_needed_mb(k)
                )),
            ));
            stored = Some(billed);
        } else {
            println!(
                "| {name} | not run: {} is not built | | | | | | | |",
                binary.display()
            );
        }

        // The same batch in-process without storage: the function's
        // compute alone, what the Python handler is compared with.
        let mut ms = Vec::new();
        let mut wall = 0.0;
        for _ in 0..invocations {
            let t = Instant::now();
            std::hint::black_box(pipeline(&event));
            let took = t.elapsed();
            wall += took.as_secs_f64();
            ms.push(billed_ms(took));
        }
        let compute = Billed {
            ms,
            records: (records * invocations) as u64,
            cpu_seconds: wall,
        };
        compute.row(name, "in-process `process_payload`, no storage", default_mb);

        // The Python reference handler, billed the same way, at the memory
        // it would need.
        let py = python::timings(&args.python, std::slice::from_ref(&file), invocations)
            .unwrap_or_else(|e| fail(e));
        if py.records != records as u64 {
            fail(format_args!(
                "{name}: the Python handler saw {} records, not {records}",
                py.records
            ));
        }
        // At least the functions' memory, more if its peak RSS needs it.
        let needed = memory_needed_mb(py.peak_rss_kib);
        let py_mb = needed.max(default_mb);
        let seconds = &py.seconds[0];
        let billed = Billed {
            ms: seconds
                .iter()
                .map(|&s| billed_ms(Duration::from_secs_f64(s)))
                .collect(),
            records: (records * invocations) as u64,
            cpu_seconds: seconds.iter().sum(),
        };
        billed.row(name, "Python reference handler, no storage", py_mb);
        notes.push(format!(
            "{name}: the Python handler's peak RSS was {:.0} MiB: it needs {needed} MB by the rule (peak RSS + 25%, rounded up to 128 MB); billed at {py_mb} MB",
            py.peak_rss_kib as f64 / 1024.0
        ));
        let mut versus = format!(
            "{name}, Python ({py_mb} MB) against Rust: compute alone ({default_mb} MB) {:.1}x the GB-s billed, {:.1}x CPU-bound",
            billed.gb_s(py_mb) / compute.gb_s(default_mb),
            billed.cpu_bound() / compute.cpu_bound()
        );
        if let Some(stored) = &stored {
            versus.push_str(&format!(
                "; the release binary storing its rows ({default_mb} MB) {:.1}x billed, {:.1}x CPU-bound",
                billed.gb_s(py_mb) / stored.gb_s(default_mb),
                billed.cpu_bound() / stored.cpu_bound()
            ));
        }
        notes.push(versus);
    }
    drop(node);
    println!();
    for note in notes {
        println!("- {note}");
    }
}
