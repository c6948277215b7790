//! The on-failure destination: where a batch goes once the mapping gives up
//! on it. AWS writes an invocation record to S3 (metadata, and the whole
//! event as an escaped JSON string in `payload`); here it is a directory:
//!
//! ```text
//! DIR/<function>/<time>-<request id>.record.json   the invocation record
//! DIR/<function>/<time>-<request id>.event.json    the event, for `logpipe replay`
//! ```
//!
//! Both files are synced to disk before the mapping commits past the batch.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::event::{records_key, EventSource, PolledRecord};
use super::retry::Condition;

/// How the last invocation answered (absent when the batch was never sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseContext {
    pub status_code: i32,
    pub executed_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_error: Option<String>,
}

/// `requestContext` of an invocation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    pub request_id: String,
    pub function_arn: String,
    pub condition: &'static str,
    pub approximate_invoke_count: u32,
}

/// First and last record of one `<topic>-<partition>` in a failed batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionRecordsInfo {
    pub first_record_offset: String,
    pub last_record_offset: String,
    pub first_record_timestamp: String,
    pub last_record_timestamp: String,
}

/// `KafkaBatchInfo` of an invocation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaBatchInfo {
    pub batch_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_source_arn: Option<String>,
    pub bootstrap_servers: String,
    pub payload_size: usize,
    pub records_info: BTreeMap<String, PartitionRecordsInfo>,
}

/// What AWS writes to an S3 on-failure destination for a Kafka batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationRecord {
    pub request_context: RequestContext,
    /// `null` when the batch was never invoked (too large).
    pub response_context: Option<ResponseContext>,
    pub version: &'static str,
    pub timestamp: String,
    #[serde(rename = "KafkaBatchInfo")]
    pub kafka_batch_info: KafkaBatchInfo,
    /// The whole event, as an escaped JSON string.
    pub payload: String,
}

/// Everything needed to describe one failed batch.
pub struct FailedBatch<'a> {
    pub source: &'a EventSource,
    pub records: &'a [PolledRecord],
    pub payload: &'a [u8],
    pub function_arn: &'a str,
    pub condition: Condition,
    pub invocations: u32,
    pub response: Option<ResponseContext>,
    pub now: DateTime<Utc>,
}

fn format_ms(ms: i64) -> String {
    logpipe_local::dump::format_timestamp(ms)
}

impl InvocationRecord {
    /// The record AWS would write for `batch`.
    pub fn new(batch: &FailedBatch<'_>) -> Self {
        let mut records_info: BTreeMap<String, PartitionRecordsInfo> = BTreeMap::new();
        for r in batch.records {
            let offset = r.offset.to_string();
            let ts = format_ms(r.timestamp_ms);
            records_info
                .entry(records_key(&r.topic, r.partition))
                .and_modify(|info| {
                    info.last_record_offset = offset.clone();
                    info.last_record_timestamp = ts.clone();
                })
                .or_insert_with(|| PartitionRecordsInfo {
                    first_record_offset: offset.clone(),
                    last_record_offset: offset.clone(),
                    first_record_timestamp: ts.clone(),
                    last_record_timestamp: ts.clone(),
                });
        }
        InvocationRecord {
            request_context: RequestContext {
                request_id: uuid::Uuid::new_v4().to_string(),
                function_arn: batch.function_arn.to_owned(),
                condition: batch.condition.as_aws(),
                approximate_invoke_count: batch.invocations,
            },
            response_context: batch.response.clone(),
            version: "1.0",
            timestamp: batch.now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            kafka_batch_info: KafkaBatchInfo {
                batch_size: batch.records.len(),
                event_source_arn: batch.source.arn().map(str::to_owned),
                bootstrap_servers: batch.source.bootstrap_servers.clone(),
                payload_size: batch.payload.len(),
                records_info,
            },
            payload: String::from_utf8_lossy(batch.payload).into_owned(),
        }
    }
}

/// A directory of failed batches.
#[derive(Debug, Clone)]
pub struct FailureDestination {
    dir: PathBuf,
}

/// The two files written for one failed batch.
#[derive(Debug, Clone)]
pub struct WrittenFailure {
    pub record: PathBuf,
    pub event: PathBuf,
}

impl FailureDestination {
    /// Failed batches go under `dir` (created when needed).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FailureDestination { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the invocation record and the event of a failed batch of
    /// `function`, durably.
    pub fn write(
        &self,
        function: &str,
        record: &InvocationRecord,
    ) -> std::io::Result<WrittenFailure> {
        let dir = self.dir.join(function);
        std::fs::create_dir_all(&dir)?;
        let stamp = record.timestamp.replace(':', ".");
        let stem = format!("{stamp}-{}", record.request_context.request_id);
        let record_path = dir.join(format!("{stem}.record.json"));
        let event_path = dir.join(format!("{stem}.event.json"));
        let text = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
        write_synced(&event_path, record.payload.as_bytes())?;
        write_synced(&record_path, &text)?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(WrittenFailure {
            record: record_path,
            event: event_path,
        })
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::esm::event::{to_payload, TimestampType};
    use logpipe_contract::event::EventVariant;

    fn rec(partition: i32, offset: i64, ts: i64) -> PolledRecord {
        PolledRecord {
            topic: Arc::from("user_session_logs"),
            partition,
            offset,
            timestamp_ms: ts,
            timestamp_type: TimestampType::CreateTime,
            key: None,
            value: Some(b"{}".to_vec()),
            headers: vec![],
        }
    }

    #[test]
    fn writes_an_aws_shaped_record_and_a_replayable_event() {
        let source = EventSource {
            variant: EventVariant::Msk,
            event_source_arn: "arn:aws:kafka:us-east-1:123456789012:cluster/x/y".into(),
            bootstrap_servers: "127.0.0.1:9092".into(),
        };
        let records = vec![
            rec(0, 5, 1_767_225_600_000),
            rec(0, 6, 1_767_225_600_500),
            rec(2, 9, 1_767_225_601_000),
        ];
        let payload = to_payload(&source, &records);
        let batch = FailedBatch {
            source: &source,
            records: &records,
            payload: &payload,
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:session-logs",
            condition: Condition::RetryAttemptsExhausted,
            invocations: 3,
            response: Some(ResponseContext {
                status_code: 200,
                executed_version: "$LATEST".into(),
                function_error: Some("Unhandled".into()),
            }),
            now: DateTime::from_timestamp_millis(1_767_225_700_042).unwrap(),
        };
        let record = InvocationRecord::new(&batch);
        let dir = tempfile::tempdir().unwrap();
        let written = FailureDestination::new(dir.path())
            .write("session-logs", &record)
            .unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&written.record).unwrap()).unwrap();
        assert_eq!(json["version"], "1.0");
        assert_eq!(json["timestamp"], "2026-01-01T00:01:40.042Z");
        assert_eq!(
            json["requestContext"]["condition"],
            "RetryAttemptsExhausted"
        );
        assert_eq!(json["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(json["responseContext"]["functionError"], "Unhandled");
        let info = &json["KafkaBatchInfo"];
        assert_eq!(info["batchSize"], 3);
        assert_eq!(info["payloadSize"], payload.len());
        assert_eq!(
            info["recordsInfo"]["user_session_logs-0"]["firstRecordOffset"],
            "5"
        );
        assert_eq!(
            info["recordsInfo"]["user_session_logs-0"]["lastRecordOffset"],
            "6"
        );
        assert_eq!(
            info["recordsInfo"]["user_session_logs-2"]["lastRecordTimestamp"],
            "2026-01-01T00:00:01.000Z"
        );
        assert_eq!(json["payload"].as_str().unwrap().as_bytes(), &payload[..]);
        let event = std::fs::read(&written.event).unwrap();
        assert_eq!(event, payload);
        logpipe_core::event::decode(&event).expect("the functions' decoder reads it");
        assert!(written.record.starts_with(dir.path().join("session-logs")));
    }
}
