//! Invoking a function with an event: in this process, through the same
//! handler code that runs in Lambda, or over the Lambda invoke API
//! (`cargo lambda watch`, LocalStack or AWS).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::kafka::KafkaEvent;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::primitives::Blob;
use logpipe_core::dump::{self, PartitionKey};
use logpipe_core::{BatchSummary, Function};

use super::destination::ResponseContext;
use super::event::to_payload;

/// A successful invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvokeSuccess {
    /// The handler's `{"records","written","dead_lettered"}`, when the
    /// function returned one.
    pub summary: Option<BatchSummary>,
}

/// A failed invocation: the function returned an error, or could not be
/// reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeFailure {
    /// What the invocation record's `responseContext` says.
    pub response: ResponseContext,
    /// What went wrong, for the log.
    pub message: String,
}

/// The function an event source mapping invokes.
pub enum Invoker {
    /// In this process, through `logpipe_core::Function`.
    InProcess(InProcess),
    /// Over the Lambda invoke API.
    Lambda(LambdaInvoker),
}

impl Invoker {
    /// The function's ARN, as invocation records name it.
    pub fn function_arn(&self) -> &str {
        match self {
            Invoker::InProcess(f) => &f.arn,
            Invoker::Lambda(l) => &l.arn,
        }
    }

    /// Whether [`Invoker::invoke`] needs the serialized payload (the
    /// in-process function takes the event as it is).
    pub fn needs_payload(&self) -> bool {
        matches!(self, Invoker::Lambda(_))
    }

    /// Invokes the function with `event`; `payload` is its serialized form
    /// when the caller already has it.
    pub async fn invoke(
        &self,
        event: &KafkaEvent,
        payload: Option<&[u8]>,
    ) -> Result<InvokeSuccess, InvokeFailure> {
        match self {
            Invoker::InProcess(f) => f.invoke(event).await,
            Invoker::Lambda(l) => match payload {
                Some(p) => l.invoke(p.to_vec()).await,
                None => l.invoke(to_payload(event)).await,
            },
        }
    }
}

/// How many partition keys per table [`InProcess`] keeps as a sample.
const SAMPLE_PARTITIONS: usize = 2;

/// A function running in this process.
pub struct InProcess {
    function: Function,
    arn: String,
    samples: Mutex<BTreeMap<&'static str, Vec<PartitionKey>>>,
}

impl InProcess {
    /// Runs `function` in process under the name `name`.
    pub fn new(function: Function, name: &str) -> Self {
        InProcess {
            function,
            arn: format!("arn:aws:lambda:local:000000000000:function:{name}"),
            samples: Mutex::new(BTreeMap::new()),
        }
    }

    async fn invoke(&self, event: &KafkaEvent) -> Result<InvokeSuccess, InvokeFailure> {
        match self.function.handle_detailed(event).await {
            Ok(batch) => {
                let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
                for (table, keys) in dump::partitions_of(&batch) {
                    let kept = samples.entry(table).or_default();
                    for key in keys {
                        if kept.len() >= SAMPLE_PARTITIONS {
                            break;
                        }
                        if !kept.contains(&key) {
                            kept.push(key);
                        }
                    }
                }
                Ok(InvokeSuccess {
                    summary: Some(batch.summary()),
                })
            }
            Err(e) => Err(InvokeFailure {
                response: ResponseContext {
                    status_code: 200,
                    executed_version: "$LATEST".into(),
                    function_error: Some("Unhandled".into()),
                },
                message: e.to_string(),
            }),
        }
    }

    /// A few partition keys of rows this function stored, by table.
    pub fn sample_partitions(&self) -> BTreeMap<&'static str, Vec<PartitionKey>> {
        self.samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A function behind the Lambda invoke API.
pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
    function_name: String,
    arn: String,
}

/// Where and how to reach the Lambda invoke API.
#[derive(Debug, Clone)]
pub struct LambdaEndpoint {
    /// `http://127.0.0.1:9000` (cargo lambda watch), `http://localhost:4566`
    /// (LocalStack); `None` is AWS itself.
    pub endpoint_url: Option<String>,
    /// Region; from the environment (or `us-east-1`) when `None`.
    pub region: Option<String>,
    /// Longest wait for one invocation.
    pub timeout: Duration,
}

impl LambdaEndpoint {
    fn is_local(&self) -> bool {
        self.endpoint_url.as_deref().is_some_and(|u| {
            let host = u
                .split("://")
                .nth(1)
                .unwrap_or(u)
                .split(['/', ':'])
                .next()
                .unwrap_or("");
            host == "localhost" || host == "[::1]" || host.starts_with("127.")
        })
    }

    /// The SDK client for this endpoint. A loopback endpoint without AWS
    /// credentials in the environment gets dummy ones (local servers accept
    /// any), so no credential lookup leaves the machine.
    pub async fn client(&self) -> aws_sdk_lambda::Client {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(self.timeout)
                .connect_timeout(Duration::from_secs(5))
                .build(),
        );
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let region = self
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .unwrap_or_else(|| "us-east-1".to_owned());
        loader = loader.region(Region::new(region));
        if self.is_local() && std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(Credentials::new(
                "test",
                "test",
                None,
                None,
                "logpipe-local",
            ));
        }
        aws_sdk_lambda::Client::new(&loader.load().await)
    }
}

impl LambdaInvoker {
    /// Invokes `function_name` (a name or an ARN) through `client`.
    pub fn new(client: aws_sdk_lambda::Client, function_name: &str) -> Self {
        let arn = if function_name.starts_with("arn:") {
            function_name.to_owned()
        } else {
            let region = client
                .config()
                .region()
                .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());
            format!("arn:aws:lambda:{region}:000000000000:function:{function_name}")
        };
        LambdaInvoker {
            client,
            function_name: function_name.to_owned(),
            arn,
        }
    }

    async fn invoke(&self, payload: Vec<u8>) -> Result<InvokeSuccess, InvokeFailure> {
        let sent = self
            .client
            .invoke()
            .function_name(&self.function_name)
            .payload(Blob::new(payload))
            .send()
            .await;
        match sent {
            Ok(out) => {
                let body = out.payload().map(|b| b.as_ref()).unwrap_or_default();
                if let Some(error) = out.function_error() {
                    return Err(InvokeFailure {
                        response: ResponseContext {
                            status_code: out.status_code(),
                            executed_version: out
                                .executed_version()
                                .unwrap_or("$LATEST")
                                .to_owned(),
                            function_error: Some(error.to_owned()),
                        },
                        message: format!(
                            "{error} function error: {}",
                            String::from_utf8_lossy(&body[..body.len().min(500)])
                        ),
                    });
                }
                Ok(InvokeSuccess {
                    summary: serde_json::from_slice::<BatchSummary>(body).ok(),
                })
            }
            Err(e) => {
                let status = e
                    .raw_response()
                    .map_or(0, |r| i32::from(r.status().as_u16()));
                Err(InvokeFailure {
                    response: ResponseContext {
                        status_code: status,
                        executed_version: "$LATEST".into(),
                        function_error: None,
                    },
                    message: format!(
                        "invoking {}: {}",
                        self.function_name,
                        aws_sdk_lambda::error::DisplayErrorContext(&e)
                    ),
                })
            }
        }
    }
}

/// Shares an in-process invoker's samples after it was handed out.
pub fn samples_of(invoker: &Arc<Invoker>) -> BTreeMap<&'static str, Vec<PartitionKey>> {
    match invoker.as_ref() {
        Invoker::InProcess(f) => f.sample_partitions(),
        Invoker::Lambda(_) => BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_are_local() {
        let e = |u: &str| LambdaEndpoint {
            endpoint_url: Some(u.to_owned()),
            region: None,
            timeout: Duration::from_secs(1),
        };
        assert!(e("http://127.0.0.1:9000").is_local());
        assert!(e("http://localhost:4566/").is_local());
        assert!(!e("https://lambda.eu-west-1.amazonaws.com").is_local());
        assert!(!LambdaEndpoint {
            endpoint_url: None,
            region: None,
            timeout: Duration::from_secs(1)
        }
        .is_local());
    }
}
