//! The Lambda entry point the three function binaries share.
//!
//! The Cassandra session and its prepared statements are built once per
//! container, on the first invocation (so a cold start does no network
//! I/O before the runtime is ready), and reused by every invocation after.
//!
//! The invocation body reaches the handler as the runtime received it.
//! `lambda_runtime` deserializes every body into the handler's event type
//! with `serde_json`; even as a `Box<RawValue>` that is a full parse, a
//! UTF-8 check and a copy of the whole batch (6 MB on a full MSK batch),
//! and the handler's own decoder then reads it all again. `RawPayload`, a
//! layer in front of the runtime's, takes the body out of the invocation
//! and leaves `null` for the runtime to deserialize as `()`; the handler
//! picks the body up by request id. (Nor does the handler take an
//! `aws_lambda_events` `KafkaEvent`: building one copies every record's
//! strings, and its timestamp decoder panics on a fraction of a
//! millisecond, refuses Kafka's -1 for a record without a timestamp and
//! reads about half of all timestamps 1 ms early; the borrowed decoder in
//! [`crate::event`] refuses the first and reads the others exactly.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::{layers::TracingLayer, service_fn, LambdaEvent, LambdaInvocation, Runtime};
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
    let payloads = Payloads::default();
    let (router, sink, config, bodies) = (&router, &sink, &config, &payloads);
    let handler = service_fn(move |event: LambdaEvent<()>| async move {
        let payload = bodies
            .take(&event.context.request_id)
            .ok_or("the invocation body was not handed to the handler")?;
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
            .handle_payload(&payload)
            .await
            .map_err(lambda_runtime::Error::from)
    });
    Runtime::new(handler)
        .layer(RawPayloadLayer(payloads.clone()))
        .layer(TracingLayer::new())
        .run()
        .await
}

/// The summary type the function returns, re-exported for tests.
pub type Response = BatchSummary;

/// Invocation bodies on their way from [`RawPayload`] to the handler, by
/// request id (so concurrent invocations cannot swap bodies).
#[derive(Clone, Default)]
struct Payloads(Arc<Mutex<HashMap<String, Bytes>>>);

impl Payloads {
    fn put(&self, request_id: String, body: Bytes) {
        let mut bodies = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bodies.insert(request_id, body);
    }

    fn take(&self, request_id: &str) -> Option<Bytes> {
        let mut bodies = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bodies.remove(request_id)
    }
}

/// The body the runtime deserializes in place of the real one: `()`.
const UNIT_BODY: &[u8] = b"null";

/// A layer over the runtime's services that moves each invocation's body
/// into [`Payloads`] and hands the runtime `null` to deserialize instead.
struct RawPayload<S> {
    inner: S,
    payloads: Payloads,
}

/// Puts [`RawPayload`] in front of a service.
struct RawPayloadLayer(Payloads);

impl<S> Layer<S> for RawPayloadLayer {
    type Service = RawPayload<S>;

    fn layer(&self, inner: S) -> RawPayload<S> {
        RawPayload {
            inner,
            payloads: self.0.clone(),
        }
    }
}

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for RawPayload<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        let body = std::mem::replace(&mut invocation.body, Bytes::from_static(UNIT_BODY));
        self.payloads
            .put(invocation.context.request_id.clone(), body);
        self.inner.call(invocation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation(request_id: &str, body: &'static [u8]) -> LambdaInvocation {
        let mut context = lambda_runtime::Context::default();
        context.request_id = request_id.into();
        LambdaInvocation {
            parts: http::Response::new(()).into_parts().0,
            body: Bytes::from_static(body),
            context,
        }
    }

    #[tokio::test]
    async fn the_layer_hands_the_body_over_by_request_id_and_the_runtime_null() {
        let payloads = Payloads::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let inner = {
            let seen = seen.clone();
            service_fn(move |inv: LambdaInvocation| {
                seen.lock().unwrap().push(inv.body.clone());
                async { Ok::<_, std::convert::Infallible>(()) }
            })
        };
        let mut service = RawPayloadLayer(payloads.clone()).layer(inner);
        service
            .call(invocation("a", b"{\"records\":1}"))
            .await
            .unwrap();
        service.call(invocation("b", b"[2]")).await.unwrap();

        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            [Bytes::from_static(b"null"), Bytes::from_static(b"null")]
        );
        assert_eq!(payloads.take("b").as_deref(), Some(&b"[2]"[..]));
        assert_eq!(payloads.take("a").as_deref(), Some(&b"{\"records\":1}"[..]));
        assert_eq!(payloads.take("a"), None, "a body is handed over once");
    }
}
