//! What tests read back: from the servers, and from a command line.

use rdkafka::message::{Headers, Message};

/// A Kafka record's headers as (key, value) pairs in order, absent values
/// as empty.
pub fn headers_of(message: &impl Message) -> Vec<(String, Vec<u8>)> {
    message
        .headers()
        .map(|h| {
            h.iter()
                .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                .collect()
        })
        .unwrap_or_default()
}

/// The (day, offset) of each dumped dead-letter row, in the order the
/// dump gave them; panics unless that order is sorted, as a dump of one
/// topic and partition sorts by (topic, partition, day, offset).
pub fn assert_dead_letter_order<R>(rows: &[R]) -> Vec<(&str, i64)>
where
    R: std::ops::Index<&'static str, Output = serde_json::Value>,
{
    let keys: Vec<(&str, i64)> = rows
        .iter()
        .map(|r| (r["day"].as_str().unwrap(), r["offset"].as_i64().unwrap()))
        .collect();
    assert!(
        keys.is_sorted(),
        "sorted by (topic, partition, day, offset)"
    );
    keys
}

/// Panics unless `parse` refuses every argument list of `cases` with an
/// error whose text contains the case's needle (what the user typed, or
/// the flag that is missing).
pub fn assert_refusals<T, E: std::fmt::Display>(
    cases: &[(&[&str], &str)],
    parse: impl Fn(&[&str]) -> Result<T, E>,
) {
    for (args, needle) in cases {
        let err = match parse(args) {
            Ok(_) => panic!("{args:?} parsed"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
