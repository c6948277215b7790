//! Side by side, in turn: the hot path's base64 decoder (base64-simd)
//! against the `base64` crate, on the record values of one generated event.
//!
//! ```sh
//! cargo run --release -p logpipe-bench --example base64_decoders -- auth 10000 25
//! ```

use std::time::Instant;

use base64::Engine;
use logpipe_bench::{event_bytes, values, MIXES};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("auth", String::as_str);
    let records = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let rounds = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(25);
    let Some(mix) = MIXES.into_iter().find(|m| m.name() == name) else {
        eprintln!("unknown event {name:?}");
        std::process::exit(2);
    };
    let encoded = values(&event_bytes(mix, records));
    let b64 = base64::engine::general_purpose::STANDARD;
    let time = |f: &dyn Fn() -> usize| {
        let t = Instant::now();
        std::hint::black_box(f());
        t.elapsed().as_secs_f64()
    };
    // Decodes every value into one reused buffer; counts those decoded.
    let decode_all = |decode: &dyn Fn(&str, &mut Vec<u8>) -> bool| {
        let mut out = Vec::new();
        encoded
            .iter()
            .filter(|v| {
                out.clear();
                decode(v, &mut out)
            })
            .count()
    };
    let runs: [&dyn Fn() -> usize; 2] = [
        &|| decode_all(&|v, out| base64_simd::STANDARD.decode_append(v, out).is_ok()),
        &|| decode_all(&|v, out| b64.decode_vec(v, out).is_ok()),
    ];
    // Each round runs every side once, so all see the same moments.
    let mut best = [f64::MAX; 2];
    for _ in 0..rounds {
        for (b, run) in best.iter_mut().zip(runs) {
            *b = b.min(time(run));
        }
    }
    let rate = |s: f64| format!("{:.0}k/s", encoded.len() as f64 / s / 1e3);
    println!(
        "{name}: base64-simd {} vs base64 {} ({:.2}x)",
        rate(best[0]),
        rate(best[1]),
        best[1] / best[0]
    );
}
