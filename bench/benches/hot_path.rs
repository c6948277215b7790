//! Hot path: decode + validate + transform of a 10,000-record event of each
//! kind and of a mixed event with 1% bad records, through the functions the
//! handler calls, side by side with the baseline (base64 and
//! `serde_json::Value` of each record value) on the same records.
//!
//! `make bench` runs this and writes the ratios to docs/benchmarks.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use logpipe_bench::{baseline, event_bytes, pipeline, values, MIXES};

const RECORDS: usize = 10_000;

fn hot_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("hot_path");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sample_size(20);
    for mix in MIXES {
        let payload = event_bytes(mix, RECORDS);
        assert_eq!(pipeline(&payload), RECORDS, "every record has an outcome");
        group.bench_with_input(
            BenchmarkId::new("pipeline", mix.name()),
            &payload,
            |b, p| b.iter(|| pipeline(p)),
        );
        let values = values(&payload);
        group.bench_with_input(BenchmarkId::new("baseline", mix.name()), &values, |b, v| {
            b.iter(|| baseline(v))
        });
    }
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
