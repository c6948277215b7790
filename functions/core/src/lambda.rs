//! The Lambda entry point the three function binaries share.
//!
//! The Cassandra session and its prepared statements are built once per
//! container, on the first invocation (so a cold start does no network
//! I/O before the runtime is ready), and reused by every invocation after.

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::value::RawValue;
use tokio::sync::OnceCell;

use crate::batch::{BatchSummary, Router};
use crate::config::{topic_from_env, SinkConfig};
use crate::handler::{Function, HandlerError};
use crate::sink::CassandraSink;
use crate::telemetry;
use crate::topics::LogKind;

/// Runs the function for `kind` under the Lambda runtime until it stops.
pub async fn run(kind: LogKind) -> Result<(), lambda_runtime::Error> {
    telemetry::init("info");
    let topic = topic_from_env(kind.default_topic());
    let config = SinkConfig::from_env()?;
    tracing::info!(
        function = kind.function_name(),
        topic,
        contact_points = ?config.contact_points,
        keyspace = config.keyspace,
        "function starting"
    );
    let router = Router::single(kind, topic);
    let sink: OnceCell<Arc<CassandraSink>> = OnceCell::new();
    let (router, sink, config) = (&router, &sink, &config);
    lambda_runtime::run(service_fn(
        // The payload is taken as raw JSON and decoded by the handler's
        // borrowed decoder: letting the runtime build an
        // `aws_lambda_events::KafkaEvent` would copy every record's strings
        // (and panic on a fractional record timestamp).
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let sink = sink
                // Boxed: the connect future (driver + Secrets Manager client) is
                // deep enough to exceed the compiler's layout depth when inlined.
                .get_or_try_init(|| async {
                    Box::pin(CassandraSink::connect(config)).await.map(Arc::new)
                })
                .await
                .map_err(HandlerError::from)?;
            let function = Function::new(router.clone(), Some(sink.clone()));
            function
                .handle_payload(event.payload.get().as_bytes())
                .await
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}

/// The summary type the function returns, re-exported for tests.
pub type Response = BatchSummary;
