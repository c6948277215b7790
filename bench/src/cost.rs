//! What a user pays for Lambda compute: billed durations, GB-seconds and
//! dollars per million records.
//!
//! The fake Runtime API ([`crate::runtime_api::FakeRuntime`]) notes, for
//! each invocation, when it handed the event out (the `next` response) and
//! when the function posted its result: the span Lambda bills.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use logpipe_core::LogKind;

use crate::{event_bytes, Mix};

/// Lambda's price per GB-second on arm64 (Graviton), us-east-1, as
/// published by AWS in 2025 (first 6 billion GB-s of a month).
pub const PRICE_ARM64_PER_GB_S: f64 = 0.000_013_333_4;
/// Lambda's price per GB-second on x86_64, us-east-1, as published by AWS
/// in 2025 (first 6 billion GB-s of a month).
pub const PRICE_X86_64_PER_GB_S: f64 = 0.000_016_666_7;
/// The memory at which Lambda gives a function one full vCPU; below it, the
/// CPU share is proportional to memory.
pub const FULL_VCPU_MB: f64 = 1769.0;

/// The billed duration of one invocation: rounded up to the next whole
/// millisecond, as AWS bills, and never less than 1 ms.
pub fn billed_ms(took: Duration) -> u64 {
    let nanos = took.as_nanos();
    (nanos.div_ceil(1_000_000) as u64).max(1)
}

/// GB-seconds per million records for invocations billed `billed_ms` in
/// total, at `memory_mb`, that handled `records` records between them.
pub fn gb_s_per_million(billed_ms: u64, memory_mb: u32, records: u64) -> f64 {
    if records == 0 {
        return f64::NAN;
    }
    billed_ms as f64 / 1e3 * (f64::from(memory_mb) / 1024.0) * (1e6 / records as f64)
}

/// The least GB-seconds per million records that `cpu_seconds` of CPU
/// work can be billed at any memory size: below [`FULL_VCPU_MB`] Lambda
/// slows CPU-bound code in proportion to memory, so memory × duration
/// stays at `cpu_seconds × 1,769 MB`; above it a single thread gains
/// nothing from more memory.
pub fn cpu_bound_gb_s_per_million(cpu_seconds: f64, records: u64) -> f64 {
    if records == 0 {
        return f64::NAN;
    }
    cpu_seconds * (FULL_VCPU_MB / 1024.0) * (1e6 / records as f64)
}

/// The `default` of `variable "memory_size"` in a Terraform variables file.
pub fn terraform_memory_default(variables_tf: &str) -> Option<u32> {
    let start = variables_tf.find("variable \"memory_size\"")?;
    let block = &variables_tf[start..];
    let block = &block[..block.find("\n}").unwrap_or(block.len())];
    block.lines().find_map(|l| {
        let (name, value) = l.split_once('=')?;
        (name.trim() == "default")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// The memory a function needs, by the rule the report states: its peak
/// RSS plus a quarter, rounded up to a multiple of 128 MB (Lambda's
/// smallest size).
pub fn memory_needed_mb(peak_rss_kib: u64) -> u32 {
    let mb = peak_rss_kib as f64 * 1.25 / 1024.0;
    ((mb / 128.0).ceil().max(1.0) as u32) * 128
}

/// The largest event of valid `kind` logs with at most `max_records`
/// records and at most `limit` bytes; returns it and its records.
pub fn batch_up_to(kind: LogKind, max_records: usize, limit: usize) -> (Vec<u8>, usize) {
    let mix = Mix::Kind(kind);
    let per_record = event_bytes(mix, 1000).len() as f64 / 1000.0;
    let mut records = ((limit as f64 / per_record) as usize).clamp(1, max_records.max(1));
    loop {
        let e = event_bytes(mix, records);
        if e.len() <= limit || records == 1 {
            return (e, records);
        }
        records -= records / 100 + 1;
    }
}

/// The command that runs a function binary under the runtime API at
/// `api`, storing to the CQL node at `contact`, with `memory_mb` as its
/// configured memory.
pub fn function_command(
    binary: &Path,
    kind: LogKind,
    api: SocketAddr,
    contact: &str,
    memory_mb: u32,
) -> Command {
    let name = kind.function_name();
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("LOGPIPE_CASSANDRA_CONTACT_POINTS", contact)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_rounds_up_to_the_next_millisecond() {
        assert_eq!(billed_ms(Duration::from_nanos(1)), 1);
        assert_eq!(billed_ms(Duration::ZERO), 1);
        assert_eq!(billed_ms(Duration::from_millis(12)), 12);
        assert_eq!(billed_ms(Duration::from_micros(12_001)), 13);
        assert_eq!(billed_ms(Duration::from_micros(12_999)), 13);
    }

    #[test]
    fn gb_seconds_per_million_records() {
        // 100 invocations of 10,000 records, 50 ms each, at 256 MB:
        // 5 s × 0.25 GB = 1.25 GB-s for 1M records.
        let gb_s = gb_s_per_million(100 * 50, 256, 100 * 10_000);
        assert!((gb_s - 1.25).abs() < 1e-9, "{gb_s}");
        // Twice the memory, twice the GB-s.
        assert!((gb_s_per_million(5_000, 512, 1_000_000) - 2.5).abs() < 1e-9);
        assert!(gb_s_per_million(5, 128, 0).is_nan());
        // One CPU-second for 1M records: 1,769/1,024 GB-s.
        let floor = cpu_bound_gb_s_per_million(1.0, 1_000_000);
        assert!((floor - 1769.0 / 1024.0).abs() < 1e-9, "{floor}");
    }

    #[test]
    fn memory_default_is_read_from_the_variable_block() {
        let tf = r#"
variable "timeout" {
  default = 60
}

variable "memory_size" {
  description = "Memory of each function in MB (128-10240)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128
  }
}
"#;
        assert_eq!(terraform_memory_default(tf), Some(256));
        assert_eq!(
            terraform_memory_default("variable \"timeout\" {\n default = 60\n}"),
            None
        );
        let tf = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../infra/variables.tf"
        ))
        .expect("infra/variables.tf");
        assert!(terraform_memory_default(&tf).is_some());
    }

    #[test]
    fn memory_needed_is_rss_plus_a_quarter_in_128_mb_steps() {
        assert_eq!(memory_needed_mb(0), 128);
        assert_eq!(memory_needed_mb(100 * 1024), 128);
        assert_eq!(memory_needed_mb(103 * 1024), 256);
        assert_eq!(memory_needed_mb(300 * 1024), 384);
    }
}
