//! Invoking a function with an event: in this process, through the same
//! handler code that runs in Lambda, or over the Lambda invoke API
//! (`cargo lambda watch`, LocalStack or AWS) with aws-sdk-lambda.
//!
//! Over the API, a function error is what AWS answers: status 200 with an
//! `X-Amz-Function-Error` header and the error document as the payload.
//! `cargo lambda watch` answers a function error with status 500 and the
//! same error document (`{"errorType": …, "errorMessage": …}`) instead;
//! that is read as the same function error (`Unhandled`, as AWS records
//! it). An endpoint that does not know the function (404) or refuses the
//! credentials (401, 403) is not retried: the mapping stops with the
//! endpoint's answer. The SDK's own retries are off: the mapping's retry
//! policy decides, and counts every invocation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::primitives::Blob;
use logpipe_core::{BatchSummary, Function};
use logpipe_local::dump::{self, PartitionKey};

use super::destination::ResponseContext;
use crate::lock;

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
    /// Whether invoking again can succeed. False when the endpoint has no
    /// such function or refuses the credentials: the mapping stops.
    pub retryable: bool,
}

impl InvokeFailure {
    /// Whether the function itself failed (rather than the call to it).
    pub fn is_function_error(&self) -> bool {
        self.response.function_error.is_some()
    }
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

    /// Invokes the function with `payload`, the event's bytes.
    pub async fn invoke(&self, payload: &[u8]) -> Result<InvokeSuccess, InvokeFailure> {
        match self {
            Invoker::InProcess(f) => f.invoke(payload).await,
            Invoker::Lambda(l) => l.invoke(payload.to_vec()).await,
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

    async fn invoke(&self, payload: &[u8]) -> Result<InvokeSuccess, InvokeFailure> {
        match self.function.handle_payload_detailed(payload).await {
            Ok(batch) => {
                let mut samples = lock(&self.samples);
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
                retryable: true,
            }),
        }
    }

    /// A few partition keys of rows this function stored, by table.
    pub fn sample_partitions(&self) -> BTreeMap<&'static str, Vec<PartitionKey>> {
        lock(&self.samples).clone()
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

    /// The SDK client for this endpoint, configured as any aws-sdk client
    /// is (`aws_config::defaults`): the endpoint URL for every service,
    /// the region from `--region`, else the environment or the profile
    /// (`AWS_REGION`, `~/.aws/config`), else `us-east-1`; credentials from
    /// the default chain. A loopback endpoint resolves the region from the
    /// flag and the environment only, and without `AWS_ACCESS_KEY_ID` gets
    /// dummy credentials (local servers accept any), so no lookup leaves
    /// the machine. SDK retries are off: the mapping's policy retries.
    pub async fn client(&self) -> aws_sdk_lambda::Client {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(self.timeout)
                    .connect_timeout(Duration::from_secs(5))
                    .build(),
            )
            .retry_config(RetryConfig::disabled());
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let flag = self.region.clone().map(Region::new);
        if self.is_local() {
            let region = flag
                .or_else(|| std::env::var("AWS_REGION").ok().map(Region::new))
                .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok().map(Region::new))
                .unwrap_or_else(|| Region::new("us-east-1"));
            loader = loader.region(region);
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                loader = loader.credentials_provider(Credentials::new(
                    "test",
                    "test",
                    None,
                    None,
                    "logpipe-local",
                ));
            }
        } else {
            loader = loader.region(
                RegionProviderChain::first_try(flag)
                    .or_default_provider()
                    .or_else(Region::new("us-east-1")),
            );
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
                        message: format!("{error} function error: {}", excerpt(body)),
                        retryable: true,
                    });
                }
                Ok(InvokeSuccess {
                    summary: serde_json::from_slice::<BatchSummary>(body).ok(),
                })
            }
            Err(e) => {
                let raw = e.raw_response();
                let status = raw.map_or(0, |r| r.status().as_u16());
                let body = raw.and_then(|r| r.body().bytes()).unwrap_or_default();
                if let Some(document) = function_error_document(status, body) {
                    // cargo lambda watch: a function error, as AWS reports it.
                    return Err(InvokeFailure {
                        response: ResponseContext {
                            status_code: 200,
                            executed_version: "$LATEST".into(),
                            function_error: Some("Unhandled".into()),
                        },
                        message: format!(
                            "Unhandled function error (HTTP {status} from the endpoint): {document}"
                        ),
                        retryable: true,
                    });
                }
                let not_found = status == 404
                    || e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception());
                let refused = matches!(status, 401 | 403);
                let answer = if body.is_empty() {
                    aws_sdk_lambda::error::DisplayErrorContext(&e).to_string()
                } else {
                    format!("HTTP {status}: {}", excerpt(body))
                };
                let message = if not_found {
                    format!(
                        "the endpoint has no function {:?} (name it with --function-name KIND=NAME): {answer}",
                        self.function_name
                    )
                } else {
                    format!("invoking {}: {answer}", self.function_name)
                };
                Err(InvokeFailure {
                    response: ResponseContext {
                        status_code: i32::from(status),
                        executed_version: "$LATEST".into(),
                        function_error: None,
                    },
                    message,
                    retryable: !(not_found || refused),
                })
            }
        }
    }
}

/// The Lambda error document (`{"errorType": …, "errorMessage": …}`) in a
/// server-error answer, as `cargo lambda watch` sends a function's error;
/// `None` for anything else (AWS's own service errors have another shape).
fn function_error_document(status: u16, body: &[u8]) -> Option<String> {
    if status < 500 {
        return None;
    }
    let doc: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).ok()?;
    if !doc.contains_key("errorMessage") && !doc.contains_key("errorType") {
        return None;
    }
    Some(excerpt(body))
}

/// The first 500 bytes of a response body, as text.
fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned()
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

    #[test]
    fn an_emulators_error_document_is_a_function_error() {
        let doc = br#"{"errorType":"HandlerError","errorMessage":"storage failure"}"#;
        assert!(function_error_document(500, doc)
            .unwrap()
            .contains("storage failure"));
        // AWS's own service errors and client errors are not.
        assert!(function_error_document(500, br#"{"Type":"Service","message":"x"}"#).is_none());
        assert!(function_error_document(404, doc).is_none());
        assert!(function_error_document(502, b"<html>bad gateway</html>").is_none());
        assert!(function_error_document(500, b"").is_none());
    }
}
