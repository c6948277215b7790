//! A single Apache Kafka node in KRaft mode (broker and controller in one
//! process) on loopback, with SASL/SCRAM and TLS listeners on request.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;

use crate::process::{
    free_port, java_command, port_or_free, run_to_end, write_file, ServerProcess, StartError,
};
use crate::tls::TestCa;

const SERVER: &str = "kafka";
const MAKE: &str = "make kafka-install";
const START_LIMIT: Duration = Duration::from_secs(120);

/// A SCRAM user the broker knows (both SCRAM-SHA-256 and SCRAM-SHA-512).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scram {
    pub username: String,
    pub password: String,
}

/// What the broker is started with.
#[derive(Debug, Clone)]
pub struct KafkaOptions {
    /// Add SASL/SCRAM listeners (`SASL_PLAINTEXT`, and `SASL_SSL` with
    /// `tls`) knowing this user.
    pub scram: Option<Scram>,
    /// Add TLS listeners (`SSL`, and `SASL_SSL` with `scram`) with a
    /// certificate from a test CA.
    pub tls: bool,
    /// The plaintext port; a free one when unset or 0.
    pub port: Option<u16>,
    /// The data directory, kept after a stop; a fresh temporary one (removed
    /// on drop) when unset.
    pub dir: Option<PathBuf>,
    /// Partitions of an automatically created topic.
    pub partitions: u32,
    /// Maximum heap in MiB.
    pub heap_mb: u32,
}

impl Default for KafkaOptions {
    fn default() -> Self {
        KafkaOptions {
            scram: None,
            tls: false,
            port: None,
            dir: None,
            partitions: 3,
            heap_mb: 768,
        }
    }
}

/// The addresses of each listener the broker has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listeners {
    pub plaintext: String,
    pub sasl_plaintext: Option<String>,
    pub ssl: Option<String>,
    pub sasl_ssl: Option<String>,
    controller: String,
}

/// A running (or stopped, to be restarted) Kafka node. Dereferences to
/// its [`ServerProcess`] (`kill`, `stop`, `pid`, `log_tail`, …).
pub struct Kafka {
    process: ServerProcess,
    listeners: Listeners,
    tls: Option<TestCa>,
    options: KafkaOptions,
}

impl Kafka {
    /// Writes `server.properties`, formats the log directory (first start)
    /// and starts the broker; returns once it says it started and its
    /// plaintext listener accepts connections.
    pub fn start(options: KafkaOptions) -> Result<Kafka, StartError> {
        let process = ServerProcess::prepare(SERVER, MAKE, options.dir.as_deref())?;
        let addr = |p: u16| format!("127.0.0.1:{p}");
        let listeners = Listeners {
            plaintext: addr(port_or_free(SERVER, options.port)?),
            sasl_plaintext: options.scram.as_ref().map(|_| addr(free_port())),
            ssl: options.tls.then(|| addr(free_port())),
            sasl_ssl: (options.tls && options.scram.is_some()).then(|| addr(free_port())),
            controller: addr(free_port()),
        };
        let tls = if options.tls {
            Some(TestCa::create(SERVER, process.dir())?)
        } else {
            None
        };
        let mut broker = Kafka {
            process,
            listeners,
            tls,
            options,
        };
        let begun = Instant::now();
        write_file(SERVER, &broker.properties_path(), &broker.properties())?;
        write_file(SERVER, &broker.dir().join("log4j2.properties"), LOG4J2)?;
        if !broker.dir().join("logs/meta.properties").exists() {
            broker.format()?;
        }
        broker.launch()?;
        broker.process.started_in = begun.elapsed();
        Ok(broker)
    }

    fn properties_path(&self) -> PathBuf {
        self.dir().join("server.properties")
    }

    fn jvm_options(&self) -> Vec<String> {
        vec![
            format!("-Xms{}m", self.options.heap_mb.min(256)),
            format!("-Xmx{}m", self.options.heap_mb),
            "-XX:+UseG1GC".into(),
            "-Djava.awt.headless=true".into(),
            format!(
                "-Dlog4j2.configurationFile={}",
                self.dir().join("log4j2.properties").display()
            ),
        ]
    }

    fn format(&self) -> Result<(), StartError> {
        let cluster_id = cluster_id();
        let mut args: Vec<String> = vec![
            "format".into(),
            "-t".into(),
            cluster_id,
            "-c".into(),
            self.properties_path().display().to_string(),
        ];
        if let Some(s) = &self.options.scram {
            for mech in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
                args.push("--add-scram".into());
                args.push(format!(
                    "{mech}=[name={},password={}]",
                    s.username, s.password
                ));
            }
        }
        let cmd = java_command(
            SERVER,
            self.process.lib(),
            &self.jvm_options(),
            "kafka.tools.StorageTool",
            &args,
            &self.dir().join("format.log"),
        )?;
        run_to_end(SERVER, cmd)
    }

    fn launch(&mut self) -> Result<(), StartError> {
        let jvm_options = self.jvm_options();
        let properties = self.properties_path().display().to_string();
        self.process.launch(
            &jvm_options,
            "kafka.Kafka",
            &[properties],
            &self.listeners.plaintext,
            START_LIMIT,
            |log| log.contains("Kafka Server started"),
        )
    }

    fn properties(&self) -> String {
        let l = &self.listeners;
        let mut listeners = vec![format!("PLAINTEXT://{}", l.plaintext)];
        for (name, a) in [
            ("SASL_PLAINTEXT", &l.sasl_plaintext),
            ("SSL", &l.ssl),
            ("SASL_SSL", &l.sasl_ssl),
        ] {
            if let Some(a) = a {
                listeners.push(format!("{name}://{a}"));
            }
        }
        let advertised = listeners.join(",");
        let controller_id = l.controller.clone();
        let mut p = format!(
            "\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{controller_id}
listeners={advertised},CONTROLLER://{controller_id}
advertised.listeners={advertised}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
log.dirs={}
num.partitions={}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
",
            self.dir().join("logs").display(),
            self.options.partitions,
        );
        if self.options.scram.is_some() {
            p.push_str("sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512\n");
            for listener in ["sasl_plaintext", "sasl_ssl"] {
                for mech in ["scram-sha-256", "scram-sha-512"] {
                    p.push_str(&format!(
                        "listener.name.{listener}.{mech}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;\n"
                    ));
                }
            }
        }
        if let Some(ca) = &self.tls {
            p.push_str(&format!(
                "ssl.keystore.type=PEM\nssl.keystore.location={}\nssl.client.auth=none\n",
                ca.server_keystore_pem.display()
            ));
        }
        p
    }

    /// The plaintext bootstrap address.
    pub fn bootstrap(&self) -> &str {
        &self.listeners.plaintext
    }

    /// Every listener's address.
    pub fn listeners(&self) -> &Listeners {
        &self.listeners
    }

    /// The test CA and server certificate, when started with `tls`.
    pub fn tls(&self) -> Option<&TestCa> {
        self.tls.as_ref()
    }

    /// Starts the broker again on the same ports and log directory.
    pub fn restart(&mut self) -> Result<(), StartError> {
        self.process.stop();
        self.launch()
    }
}

impl std::ops::Deref for Kafka {
    type Target = ServerProcess;
    fn deref(&self) -> &ServerProcess {
        &self.process
    }
}

impl std::ops::DerefMut for Kafka {
    fn deref_mut(&mut self) -> &mut ServerProcess {
        &mut self.process
    }
}

/// A random KRaft cluster id: 16 bytes in URL-safe base64, as Kafka's
/// `random-uuid` makes them. One that starts with `-` is drawn again: the
/// storage tool would read it as an option (1 start in 64).
fn cluster_id() -> String {
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

/// INFO to standard output (the server log file), quieter for the
/// request-level loggers.
const LOG4J2: &str = "\
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
";

#[cfg(test)]
mod tests {
    #[test]
    fn cluster_ids_never_look_like_an_option() {
        for _ in 0..10_000 {
            let id = super::cluster_id();
            assert_eq!(id.len(), 22, "{id}");
            assert!(!id.starts_with('-'), "{id}");
        }
    }
}
