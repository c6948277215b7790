//! How the Kafka commands (`esm`, `topics`) reach the brokers and which
//! topics they work on: the same flags as `log-generator` (its
//! [`KafkaSecurity`] and [`TopicSelection`]), the same TLS and SASL/SCRAM
//! settings.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use log_generator::flags::parse_key_value;
pub use log_generator::flags::TopicSelection;
use log_generator::{Bootstrap, KafkaSecurity, Refused};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, DeliveryResult, ProducerContext};
use rdkafka::{ClientConfig, ClientContext};

/// Bootstrap servers, TLS, SASL and raw librdkafka settings.
#[derive(Debug, Clone, clap::Args)]
pub struct KafkaConnection {
    #[command(flatten)]
    pub bootstrap: Bootstrap,

    /// TLS and SASL: the generator's flags.
    #[command(flatten)]
    pub security: KafkaSecurity,

    /// Extra librdkafka property, e.g. session.timeout.ms=6000 (repeatable,
    /// applied last)
    #[arg(help_heading = "Kafka", long = "kafka-config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub kafka_config: Vec<(String, String)>,
}

impl KafkaConnection {
    /// The TLS and SASL settings, checked.
    pub fn security(&self) -> anyhow::Result<&KafkaSecurity> {
        self.security.validate()?;
        Ok(&self.security)
    }

    /// A librdkafka configuration with the bootstrap servers and security
    /// set; `specific` adds the client's own settings, and `--kafka-config`
    /// comes last.
    pub fn client_config(
        &self,
        specific: impl FnOnce(&mut ClientConfig),
    ) -> anyhow::Result<ClientConfig> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap.servers);
        self.security()?.apply(&mut config);
        specific(&mut config);
        for (k, v) in &self.kafka_config {
            config.set(k, v);
        }
        Ok(config)
    }
}

/// A client context that notes refused credentials and certificates
/// ([`log_generator::refusal`]) and logs every other error as librdkafka's
/// default context does.
pub struct RefusalContext(pub Refused);

impl ClientContext for RefusalContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if !self.0.note(&error, reason) {
            DefaultClientContext.error(error, reason);
        }
    }
}

impl ProducerContext for RefusalContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

/// Watches the brokers of a configuration for a refusal of the
/// credentials or of their certificate, with a client of its own polled
/// on its own thread: for clients that serve no error events themselves
/// (the admin client), which would otherwise retry until they time out.
pub struct RefusalWatch {
    refused: Refused,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RefusalWatch {
    /// Connects a client with `config` and starts watching.
    pub fn start(config: &ClientConfig) -> anyhow::Result<RefusalWatch> {
        let refused = Refused::default();
        let producer: BaseProducer<RefusalContext> = config
            .create_with_context(RefusalContext(refused.clone()))
            .context("creating a Kafka client")?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("kafka-refusal-watch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        producer.poll(Duration::from_millis(100));
                    }
                })
                .context("starting a thread")?
        };
        Ok(RefusalWatch {
            refused,
            stop,
            thread: Some(thread),
        })
    }

    /// The refusal, once the brokers refused.
    pub fn refused(&self) -> Option<String> {
        self.refused.get()
    }
}

impl Drop for RefusalWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
