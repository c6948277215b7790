//! How the Kafka commands (`esm`, `topics`) reach the brokers and which
//! topics they work on: the same flags as `log-generator` (its
//! [`KafkaSecurity`] and [`TopicSelection`]), the same TLS and SASL/SCRAM
//! settings.

use log_generator::flags::parse_key_value;
pub use log_generator::flags::TopicSelection;
use log_generator::KafkaSecurity;
use rdkafka::ClientConfig;

/// Bootstrap servers, TLS, SASL and raw librdkafka settings.
#[derive(Debug, Clone, clap::Args)]
pub struct KafkaConnection {
    /// Kafka bootstrap servers, host:port[,host:port...]
    #[arg(
        help_heading = "Kafka",
        long,
        value_name = "SERVERS",
        default_value = "127.0.0.1:9092"
    )]
    pub bootstrap: String,

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
        config.set("bootstrap.servers", &self.bootstrap);
        self.security()?.apply(&mut config);
        specific(&mut config);
        for (k, v) in &self.kafka_config {
            config.set(k, v);
        }
        Ok(config)
    }
}
