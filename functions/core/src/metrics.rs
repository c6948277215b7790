//! CloudWatch metrics of every batch, in the Embedded Metric Format (EMF).
//!
//! Lambda sends a function's stdout to CloudWatch Logs, and CloudWatch
//! turns each stdout line that is an EMF document (a JSON object with an
//! `_aws` member naming its metrics) into metric data points. So after each
//! batch the function prints one such line per topic of the batch (one line
//! a batch in Lambda, where a function owns one topic):
//!
//! - dimensions `Function` (the Lambda function's name) and `Topic`, and
//!   rolled up under `Function` alone: `Records`, `Written`, `DeadLettered`
//!   and one `DeadLettered.<reason>` per reason code seen (all `Count`),
//!   and `OldestRecordAge` (`Milliseconds`: now minus the oldest Kafka
//!   timestamp of the topic's records in the batch). The roll-up is what
//!   the dashboard and alarms read: it also counts records of a topic the
//!   function does not own (`wrong_topic`), which carry that other topic's
//!   name;
//! - dimension `Function` alone, on the first line only: `BatchLatency`
//!   (`Milliseconds`, from the event's arrival in the handler to the end of its writes),
//!   `WriteRetries` (`Count`: writes the sink retried) and `Failed` (`Count`:
//!   1 when storing failed and the batch will be retried, else 0).
//!
//! A failed batch stored nothing: its lines carry `OldestRecordAge` and the
//! batch metrics, but no `Records`/`Written`/`DeadLettered`, so that those
//! add up to what was stored and a retried batch is counted once.
//!
//! Metrics are on in Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set) and off
//! elsewhere, so that the CLI's stdout (`logpipe replay --json`) holds only
//! what the CLI prints; `LOGPIPE_METRICS=on|off` overrides both ways.
//! `LOGPIPE_METRICS_NAMESPACE` sets the namespace (default `logpipe`).
//! `infra/emf_metrics.json` lists the names for the Terraform dashboard
//! and alarms; a test holds it equal to [`catalogue`].
//!
//! The documents are built from serde structs rather than with an EMF
//! crate: `metrics_cloudwatch_embedded` is a global recorder of the
//! `metrics` facade with its dimensions fixed at start-up and one flush per
//! invocation, which fits neither several topics (each its own `Topic`
//! dimension) in one batch nor a CLI that shares this code and must keep
//! stdout clean; these few lines need no more than `serde_json`.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::batch::{ProcessedBatch, Router};
use crate::reason::ReasonCode;
use crate::sink::CassandraSink;

/// Namespace of the metrics unless `LOGPIPE_METRICS_NAMESPACE` says otherwise.
pub const DEFAULT_NAMESPACE: &str = "logpipe";
/// `on` or `off` (also `true`/`false`, `1`/`0`, `yes`/`no`).
pub const METRICS_ENV: &str = "LOGPIPE_METRICS";
/// The CloudWatch namespace.
pub const NAMESPACE_ENV: &str = "LOGPIPE_METRICS_NAMESPACE";
/// Set by Lambda in every function: metrics are on by default where it is.
pub const LAMBDA_FUNCTION_ENV: &str = "AWS_LAMBDA_FUNCTION_NAME";

/// Dimension: the function's name (Lambda's, as in `AWS/Lambda`'s
/// `FunctionName`).
pub const FUNCTION: &str = "Function";
/// The `Function` dimension outside Lambda when the router serves several
/// functions.
pub const DEFAULT_FUNCTION: &str = "logpipe";
/// Dimension: the Kafka topic.
pub const TOPIC: &str = "Topic";

/// Records of the topic in a stored batch.
pub const RECORDS: &str = "Records";
/// Of them, written to their log table.
pub const WRITTEN: &str = "Written";
/// Of them, dead-lettered.
pub const DEAD_LETTERED: &str = "DeadLettered";
/// Age of the topic's oldest record in the batch.
pub const OLDEST_RECORD_AGE: &str = "OldestRecordAge";
/// Time from the event's arrival in the handler to the end of its writes.
pub const BATCH_LATENCY: &str = "BatchLatency";
/// Writes the sink retried during the batch.
pub const WRITE_RETRIES: &str = "WriteRetries";
/// 1 when storing the batch failed.
pub const FAILED: &str = "Failed";
/// Prefix of the per-reason dead-letter counts: `DeadLettered.invalid_json`.
pub const DEAD_LETTERED_REASON_PREFIX: &str = "DeadLettered.";

/// The CloudWatch units these metrics use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    /// The unit as EMF spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// Which dimensions a metric is reported under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `Function` and `Topic`, and `Function` alone.
    Topic,
    /// `Function` alone.
    Batch,
}

impl Scope {
    /// The dimension sets (each a list of dimension names) of the metric.
    pub const fn dimension_sets(self) -> &'static [&'static [&'static str]] {
        match self {
            Scope::Topic => &[&[FUNCTION, TOPIC], &[FUNCTION]],
            Scope::Batch => &[&[FUNCTION]],
        }
    }
}

/// One metric the functions emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricSpec {
    pub name: String,
    pub unit: Unit,
    pub scope: Scope,
}

/// The name of the dead-letter count of one reason.
pub fn dead_lettered_metric(reason: &str) -> String {
    format!("{DEAD_LETTERED_REASON_PREFIX}{reason}")
}

/// Every metric the functions can emit: the source of truth the Terraform
/// dashboard and alarms are checked against.
pub fn catalogue() -> Vec<MetricSpec> {
    let spec = |name: &str, unit, scope| MetricSpec {
        name: name.to_owned(),
        unit,
        scope,
    };
    let mut all = vec![
        spec(RECORDS, Unit::Count, Scope::Topic),
        spec(WRITTEN, Unit::Count, Scope::Topic),
        spec(DEAD_LETTERED, Unit::Count, Scope::Topic),
        spec(OLDEST_RECORD_AGE, Unit::Milliseconds, Scope::Topic),
        spec(BATCH_LATENCY, Unit::Milliseconds, Scope::Batch),
        spec(WRITE_RETRIES, Unit::Count, Scope::Batch),
        spec(FAILED, Unit::Count, Scope::Batch),
    ];
    all.extend(ReasonCode::ALL.iter().map(|r| MetricSpec {
        name: dead_lettered_metric(r.as_str()),
        unit: Unit::Count,
        scope: Scope::Topic,
    }));
    all
}

/// Whether and where metrics go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    pub enabled: bool,
    pub namespace: String,
    /// The `Function` dimension: `AWS_LAMBDA_FUNCTION_NAME`, or `None` to
    /// name the function after its router.
    pub function: Option<String>,
    /// Settings that were present but unusable, with why (reported in the
    /// logs when metrics are first emitted).
    pub problems: Vec<String>,
}

impl MetricsConfig {
    /// Reads the configuration through `var` (the environment, in
    /// [`MetricsConfig::from_env`]). Pure, for tests.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let function = var(LAMBDA_FUNCTION_ENV).filter(|f| !f.trim().is_empty());
        let in_lambda = function.is_some();
        let mut problems = Vec::new();
        let enabled = match var(METRICS_ENV) {
            None => in_lambda,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "" => in_lambda,
                "on" | "true" | "1" | "yes" => true,
                "off" | "false" | "0" | "no" => false,
                _ => {
                    problems.push(format!(
                        "{METRICS_ENV}={v:?} is neither on nor off; metrics are {} (the default {})",
                        if in_lambda { "on" } else { "off" },
                        if in_lambda { "in Lambda" } else { "outside Lambda" },
                    ));
                    in_lambda
                }
            },
        };
        let namespace = match var(NAMESPACE_ENV) {
            None => DEFAULT_NAMESPACE.to_owned(),
            Some(ns) => match check_namespace(&ns) {
                Ok(()) => ns,
                Err(why) => {
                    problems.push(format!(
                        "{NAMESPACE_ENV}={ns:?} {why}; using {DEFAULT_NAMESPACE:?}"
                    ));
                    DEFAULT_NAMESPACE.to_owned()
                }
            },
        };
        MetricsConfig {
            enabled,
            namespace,
            function,
            problems,
        }
    }

    /// Reads the configuration from the environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// Checks a CloudWatch namespace: 1 to 255 characters of letters, digits
/// and `. - _ / # : ` and space, with a non-space, not starting with `AWS/`
/// (reserved for AWS).
pub fn check_namespace(ns: &str) -> Result<(), &'static str> {
    if ns.trim().is_empty() || ns.len() > 255 {
        return Err("must hold 1 to 255 characters");
    }
    if ns.starts_with("AWS/") {
        return Err("must not start with AWS/ (reserved for AWS)");
    }
    if !ns
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c))
    {
        return Err("may hold only letters, digits and . - _ / # : and space");
    }
    Ok(())
}

/// The process's configuration, read once.
pub fn config() -> &'static MetricsConfig {
    static CONFIG: OnceLock<MetricsConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let config = MetricsConfig::from_env();
        for problem in &config.problems {
            tracing::error!(problem = %problem, "metrics configuration");
        }
        config
    })
}

/// How storing a batch went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchOutcome {
    /// Every row and dead letter was stored (or there was no sink).
    pub stored: bool,
    /// Writes the sink retried.
    pub write_retries: u64,
    /// From the event's arrival in the handler to the end of its writes, in
    /// milliseconds.
    pub latency_ms: f64,
}

/// The EMF documents of one batch, one per topic (at least one), at
/// `now_ms` (epoch milliseconds). `function` is the `Function` dimension.
pub fn documents(
    namespace: &str,
    function: &str,
    batch: &ProcessedBatch,
    outcome: &BatchOutcome,
    now_ms: i64,
) -> Vec<Value> {
    let oldest = oldest_timestamps(batch);
    let mut reasons: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for d in &batch.dead_letters {
        *reasons
            .entry(d.topic.as_str())
            .or_default()
            .entry(d.reason)
            .or_default() += 1;
    }

    let mut docs = Vec::with_capacity(batch.by_topic.len().max(1));
    for (topic, counts) in &batch.by_topic {
        let mut metrics: Vec<(String, Unit, Value)> = Vec::new();
        if outcome.stored {
            metrics.push((RECORDS.into(), Unit::Count, counts.records.into()));
            metrics.push((WRITTEN.into(), Unit::Count, counts.written.into()));
            metrics.push((
                DEAD_LETTERED.into(),
                Unit::Count,
                counts.dead_lettered.into(),
            ));
            for (reason, n) in reasons.get(topic.as_str()).into_iter().flatten() {
                metrics.push((dead_lettered_metric(reason), Unit::Count, (*n).into()));
            }
        }
        if let Some(ts) = oldest.get(topic.as_str()) {
            let age = now_ms.saturating_sub(*ts).max(0);
            metrics.push((OLDEST_RECORD_AGE.into(), Unit::Milliseconds, age.into()));
        }
        if metrics.is_empty() && !docs.is_empty() {
            continue;
        }
        let mut doc = Document::new(now_ms, function);
        doc.root.insert(TOPIC.into(), topic.as_str().into());
        doc.directive(namespace, Scope::Topic, metrics);
        docs.push(doc);
    }
    if docs.is_empty() {
        docs.push(Document::new(now_ms, function));
    }
    let latency = serde_json::Number::from_f64(outcome.latency_ms.max(0.0))
        .map_or(Value::from(0), Value::Number);
    docs[0].directive(
        namespace,
        Scope::Batch,
        vec![
            (BATCH_LATENCY.into(), Unit::Milliseconds, latency),
            (
                WRITE_RETRIES.into(),
                Unit::Count,
                outcome.write_retries.into(),
            ),
            (
                FAILED.into(),
                Unit::Count,
                u64::from(!outcome.stored).into(),
            ),
        ],
    );
    docs.into_iter().map(Document::into_value).collect()
}

/// The oldest Kafka timestamp (epoch ms) of each topic's records, of
/// those that have one.
fn oldest_timestamps(batch: &ProcessedBatch) -> BTreeMap<&str, i64> {
    batch
        .by_topic
        .iter()
        .filter_map(|(topic, c)| Some((topic.as_str(), c.oldest_timestamp_ms?)))
        .collect()
}

/// The `Function` dimension: Lambda's name for the function, else the name
/// of the one function the router serves, else `logpipe`.
fn function_name<'a>(config: &'a MetricsConfig, router: &Router) -> &'a str {
    if let Some(f) = &config.function {
        return f;
    }
    let mut kinds = router.routes().iter().map(|(_, k)| *k);
    match kinds.next() {
        Some(first) if kinds.all(|k| k == first) => first.function_name(),
        _ => DEFAULT_FUNCTION,
    }
}

/// Emits the metrics of a batch the handler has just stored (or failed to
/// store), if metrics are on: the one call the handler makes.
/// `write_retries` are taken from the sink's counter.
pub fn record_batch(
    router: &Router,
    sink: Option<&CassandraSink>,
    batch: &ProcessedBatch,
    started: Instant,
    stored: bool,
) {
    let config = config();
    if !config.enabled {
        return;
    }
    let outcome = BatchOutcome {
        stored,
        write_retries: sink.map_or(0, CassandraSink::take_write_retries),
        latency_ms: started.elapsed().as_secs_f64() * 1e3,
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let docs = documents(
        &config.namespace,
        function_name(config, router),
        batch,
        &outcome,
        now_ms,
    );
    let mut out = std::io::stdout().lock();
    let written = docs
        .iter()
        .try_for_each(|doc| writeln!(out, "{doc}"))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not write the batch's metrics to stdout");
    }
}

/// `_aws` of an EMF document.
#[derive(Serialize)]
struct Metadata {
    #[serde(rename = "Timestamp")]
    timestamp: i64,
    #[serde(rename = "CloudWatchMetrics")]
    cloudwatch_metrics: Vec<Directive>,
}

/// A metric directive: which root members are metrics, under which
/// dimensions.
#[derive(Serialize)]
struct Directive {
    #[serde(rename = "Namespace")]
    namespace: String,
    #[serde(rename = "Dimensions")]
    dimensions: Vec<Vec<&'static str>>,
    #[serde(rename = "Metrics")]
    metrics: Vec<MetricDefinition>,
}

#[derive(Serialize)]
struct MetricDefinition {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Unit")]
    unit: Unit,
}

/// An EMF document being built: its metadata and its root members
/// (dimension values and metric values).
struct Document {
    aws: Metadata,
    root: Map<String, Value>,
}

impl Document {
    fn new(timestamp: i64, function: &str) -> Self {
        let mut root = Map::new();
        root.insert(FUNCTION.into(), function.into());
        Document {
            aws: Metadata {
                timestamp,
                cloudwatch_metrics: Vec::new(),
            },
            root,
        }
    }

    /// Adds a directive of `metrics` (name, unit, value) under `scope`'s
    /// dimensions, their values at the root. Does nothing without metrics.
    fn directive(&mut self, namespace: &str, scope: Scope, metrics: Vec<(String, Unit, Value)>) {
        if metrics.is_empty() {
            return;
        }
        let mut definitions = Vec::with_capacity(metrics.len());
        for (name, unit, value) in metrics {
            self.root.insert(name.clone(), value);
            definitions.push(MetricDefinition { name, unit });
        }
        self.aws.cloudwatch_metrics.push(Directive {
            namespace: namespace.to_owned(),
            dimensions: scope
                .dimension_sets()
                .iter()
                .map(|set| set.to_vec())
                .collect(),
            metrics: definitions,
        });
    }

    fn into_value(self) -> Value {
        let mut doc = Map::with_capacity(self.root.len() + 1);
        doc.insert(
            "_aws".into(),
            serde_json::to_value(self.aws).unwrap_or(Value::Null),
        );
        doc.extend(self.root);
        Value::Object(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::process_payload;
    use crate::topics::LogKind;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn metrics_are_on_in_lambda_and_off_elsewhere_by_default() {
        let lambda = MetricsConfig::from_lookup(env(&[(LAMBDA_FUNCTION_ENV, "prod-auth-logs")]));
        assert!(lambda.enabled);
        assert_eq!(lambda.function.as_deref(), Some("prod-auth-logs"));
        assert_eq!(lambda.namespace, DEFAULT_NAMESPACE);
        assert!(lambda.problems.is_empty());

        let cli = MetricsConfig::from_lookup(env(&[]));
        assert!(!cli.enabled);
        assert_eq!(cli.function, None);
        let blank = MetricsConfig::from_lookup(env(&[(LAMBDA_FUNCTION_ENV, " ")]));
        assert!(!blank.enabled);
    }

    #[test]
    fn the_switch_overrides_both_ways() {
        for off in ["off", "OFF", "false", "0", "no"] {
            let c =
                MetricsConfig::from_lookup(env(&[(LAMBDA_FUNCTION_ENV, "f"), (METRICS_ENV, off)]));
            assert!(!c.enabled, "{off}");
        }
        for on in ["on", "On", "true", "1", "yes"] {
            let c = MetricsConfig::from_lookup(env(&[(METRICS_ENV, on)]));
            assert!(c.enabled, "{on}");
        }
        let c = MetricsConfig::from_lookup(env(&[(LAMBDA_FUNCTION_ENV, "f"), (METRICS_ENV, "")]));
        assert!(c.enabled);
    }

    #[test]
    fn bad_settings_fall_back_to_the_default_and_say_why() {
        let c = MetricsConfig::from_lookup(env(&[
            (LAMBDA_FUNCTION_ENV, "f"),
            (METRICS_ENV, "sometimes"),
            (NAMESPACE_ENV, "AWS/Lambda"),
        ]));
        assert!(c.enabled);
        assert_eq!(c.namespace, DEFAULT_NAMESPACE);
        assert_eq!(c.problems.len(), 2, "{:?}", c.problems);
        assert!(
            c.problems[0].contains("LOGPIPE_METRICS=\"sometimes\""),
            "{:?}",
            c.problems
        );
        assert!(c.problems[1].contains("AWS/"), "{:?}", c.problems);

        let c = MetricsConfig::from_lookup(env(&[(NAMESPACE_ENV, "team/logpipe-prod")]));
        assert_eq!(c.namespace, "team/logpipe-prod");
        assert!(c.problems.is_empty());
    }

    #[test]
    fn namespaces_follow_cloudwatch_rules() {
        for good in ["logpipe", "a", "Team/logpipe_1.2#x: y", &"n".repeat(255)] {
            assert_eq!(check_namespace(good), Ok(()), "{good}");
        }
        for bad in ["", "  ", "AWS/Lambda", "log{pipe}", "é", &"n".repeat(256)] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_function_dimension_is_lambdas_name_else_the_routers() {
        let lambda = MetricsConfig::from_lookup(env(&[(LAMBDA_FUNCTION_ENV, "prod-auth-logs")]));
        let local = MetricsConfig::from_lookup(env(&[]));
        let single = Router::single(LogKind::Session, "sessions");
        assert_eq!(function_name(&lambda, &single), "prod-auth-logs");
        assert_eq!(function_name(&local, &single), "session-logs");
        assert_eq!(
            function_name(&local, &Router::all_default("replay")),
            "logpipe"
        );
    }

    fn value(text: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn a_failed_batch_reports_age_and_failure_but_no_counts() {
        let good = value(
            r#"{"event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u1","timestamp":"2026-11-25T14:00:00.123Z","event_type":"login","success":true,"ip_address":"10.0.0.1"}"#,
        );
        let payload = format!(
            r#"{{"eventSource":"SelfManagedKafka","bootstrapServers":"b:9092","records":{{"user_auth_logs-0":[
            {{"topic":"user_auth_logs","partition":0,"offset":5,"timestamp":1000000,"timestampType":"CREATE_TIME","value":"{good}","headers":[]}},
            {{"topic":"user_auth_logs","partition":0,"offset":6,"timestamp":999000,"timestampType":"CREATE_TIME","value":"e30=","headers":[]}}]}}}}"#
        );
        let router = Router::single(LogKind::Auth, "user_auth_logs");
        let batch = process_payload(&router, payload.as_bytes()).unwrap();
        let outcome = BatchOutcome {
            stored: false,
            write_retries: 3,
            latency_ms: 12.5,
        };
        let docs = documents("ns", "f", &batch, &outcome, 1_005_000);
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d["OldestRecordAge"], 6000, "{d}");
        assert_eq!(d["Failed"], 1);
        assert_eq!(d["WriteRetries"], 3);
        assert_eq!(d["BatchLatency"], 12.5);
        for absent in [
            RECORDS,
            WRITTEN,
            DEAD_LETTERED,
            "DeadLettered.missing_field",
        ] {
            assert!(d.get(absent).is_none(), "{absent} in {d}");
        }

        let stored = BatchOutcome {
            stored: true,
            ..outcome
        };
        let d = &documents("ns", "f", &batch, &stored, 1_005_000)[0];
        assert_eq!(
            (d["Records"].as_u64(), d["Written"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(d["DeadLettered"], 1);
        assert_eq!(d["DeadLettered.missing_field"], 1);
        assert_eq!(d["Failed"], 0);
        // The good record's row is 1 s newer than the dead letter: the
        // dead letter is the oldest.
        assert_eq!(d["OldestRecordAge"], 6000);
    }

    #[test]
    fn an_empty_batch_reports_only_the_batch() {
        let outcome = BatchOutcome {
            stored: true,
            write_retries: 0,
            latency_ms: 0.25,
        };
        let docs = documents("ns", "f", &ProcessedBatch::default(), &outcome, 7);
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d["_aws"]["Timestamp"], 7);
        assert_eq!(
            d["_aws"]["CloudWatchMetrics"].as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["Function"]])
        );
        assert!(d.get(TOPIC).is_none());
    }
}
