//! `--stdout`: one record value a line on standard output, ready for
//! `kafka-console-producer` or a file.
//!
//! A line is the value's bytes exactly, so bad records stay bad: a value
//! that is not UTF-8 is written as its raw bytes, and a null or zero-byte
//! value is an empty line. No value holds a newline (the generator never
//! writes one), so lines and records match one to one.

use std::io::{ErrorKind, Write};
use std::time::Instant;

use crate::generator::Generator;
use crate::schedule::{Pacer, RunControl, Schedule};
use crate::summary::GenerateSummary;
use crate::GenerateError;

/// Writes `schedule`'s record values to `out`, one a line. A closed pipe
/// (`| head`) ends the run quietly.
pub fn write_lines<W: Write>(
    generator: &mut Generator,
    schedule: &Schedule,
    mut out: W,
    control: &RunControl,
) -> Result<GenerateSummary, GenerateError> {
    let started = Instant::now();
    let mut summary = GenerateSummary {
        output: "stdout".into(),
        destination: "stdout".into(),
        seed: generator.config().seed,
        ..GenerateSummary::default()
    };
    let mut pacer = Pacer::new(schedule, generator.config().kinds.len());
    let mut written = 0u64;
    while pacer.next(&control.stop) {
        let Some(record) = generator.next() else {
            break;
        };
        let value = record.value.bytes().unwrap_or_default();
        let result = out.write_all(value).and_then(|()| out.write_all(b"\n"));
        match result {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::BrokenPipe => break,
            Err(e) => return Err(GenerateError::Stdout(e)),
        }
        summary
            .by_topic
            .entry(record.topic.to_string())
            .or_default()
            .count(record.expected);
        written += 1;
        if written.is_multiple_of(1024) {
            control.progress.set_position(written);
        }
    }
    match out.flush() {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {}
        Err(e) => return Err(GenerateError::Stdout(e)),
    }
    control.progress.set_position(written);
    summary.finish(started.elapsed().as_secs_f64());
    Ok(summary)
}
