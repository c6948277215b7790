//! The numbers the pipeline's rules are made of: how large a value may be,
//! how long a field, which times are plausible. The functions enforce them;
//! the generator aims its bad records just past them.

/// Largest decoded record value that is parsed: 256 KiB. A larger one is
/// `too_large`.
pub const MAX_VALUE_BYTES: usize = 262_144;
/// How much of a bad value `dead_letters.value` keeps: 256 KiB, so every
/// value that could have been parsed is kept whole and can be fixed and
/// sent again.
pub const DEAD_LETTER_VALUE_BYTES: usize = MAX_VALUE_BYTES;
/// How much of a `too_large` value `dead_letters.value` keeps: 64 KiB.
pub const TOO_LARGE_VALUE_BYTES: usize = 65_536;

/// Kafka's timestamp of a record that has none (any negative timestamp
/// reads as this).
pub const NO_TIMESTAMP: i64 = -1;

/// Earliest accepted log `timestamp`: 2000-01-01T00:00:00Z, in epoch ms.
pub const MIN_TIMESTAMP_MS: i64 = 946_684_800_000;
/// First refused log `timestamp`: 2100-01-01T00:00:00Z, in epoch ms.
pub const MAX_TIMESTAMP_MS: i64 = 4_102_444_800_000;

/// Longest `user_id`, in bytes.
pub const MAX_USER_ID_BYTES: usize = 128;
/// Longest `failure_reason`, in bytes.
pub const MAX_FAILURE_REASON_BYTES: usize = 256;
/// `user_agent` is cut to this many bytes.
pub const MAX_USER_AGENT_BYTES: usize = 512;
/// Longest `resource`, in bytes.
pub const MAX_RESOURCE_BYTES: usize = 2048;
/// Longest session `duration_ms`: 30 days.
pub const MAX_SESSION_DURATION_MS: i64 = 2_592_000_000;
/// Most `pages_viewed` in one session.
pub const MAX_PAGES_VIEWED: i64 = 1_000_000;
/// Longest activity `duration_ms`: one day.
pub const MAX_ACTIVITY_DURATION_MS: i64 = 86_400_000;

/// Lambda's limit on a synchronous invocation payload: 6 MB (6 MiB, as
/// Lambda counts it). An event source mapping never sends a larger event.
pub const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;
/// Most records in one event, as an event source mapping's batch size
/// allows.
pub const MAX_BATCH_RECORDS: usize = 10_000;
