//! Runs one hot-path case a few times, for a profiler:
//!
//! ```sh
//! cargo build --release -p logpipe-bench --example profile_hot
//! valgrind --tool=callgrind target/release/examples/profile_hot activity pipeline
//! ```
//!
//! Arguments: the event (`auth`, `session`, `activity`, `mixed_1pct_bad`),
//! then `pipeline` or `baseline`, then optionally records (10,000) and runs (3).

use logpipe_bench::{baseline, event_bytes, pipeline, values, MIXES};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("auth", String::as_str);
    let side = args.get(1).map_or("pipeline", String::as_str);
    let records = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let runs = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(3);
    let Some(mix) = MIXES.into_iter().find(|m| m.name() == name) else {
        eprintln!("unknown event {name:?}");
        std::process::exit(2);
    };
    let payload = event_bytes(mix, records);
    let values = values(&payload);
    let mut total = 0;
    for _ in 0..runs {
        total += match side {
            "pipeline" => pipeline(&payload),
            "baseline" => baseline(&values),
            other => {
                eprintln!("unknown side {other:?}");
                std::process::exit(2);
            }
        };
    }
    println!("{total}");
}
