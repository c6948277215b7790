//! A single-node Apache Cassandra on loopback: `CassandraDaemon` with a
//! `cassandra.yaml` written here (its own ports and directories, fast
//! single-node start), PasswordAuthenticator and client TLS on request.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::{free_port, port_or_free, write_file, ServerProcess, StartError};
use crate::tls::TestCa;

const SERVER: &str = "cassandra";
const MAKE: &str = "make cassandra-install";

/// How long a start may take before it counts as failed (a cold JVM on a
/// busy 2-core machine takes 10-20 s).
const START_LIMIT: Duration = Duration::from_secs(180);

/// The commit log's periodic sync (production's mode; its default period is
/// 10 s). A SIGKILL loses the writes since the last sync, as it would in
/// production: a test that needs a write to outlive a kill waits this long.
pub const COMMITLOG_SYNC_MS: u64 = 2000;

/// What the node is started with.
#[derive(Debug, Clone)]
pub struct CassandraOptions {
    /// Require a password (`PasswordAuthenticator`; superuser
    /// `cassandra`/`cassandra`).
    pub auth: bool,
    /// Serve CQL over TLS only, with a certificate from a test CA.
    pub tls: bool,
    /// The CQL port; a free one when unset or 0.
    pub port: Option<u16>,
    /// The data directory, kept after a stop; a fresh temporary one (removed
    /// on drop) when unset.
    pub dir: Option<PathBuf>,
    /// Maximum heap in MiB.
    pub heap_mb: u32,
}

impl Default for CassandraOptions {
    fn default() -> Self {
        CassandraOptions {
            auth: false,
            tls: false,
            port: None,
            dir: None,
            heap_mb: 1024,
        }
    }
}

/// A running (or stopped, to be restarted) Cassandra node. Dereferences
/// to its [`ServerProcess`] (`kill`, `stop`, `pid`, `log_tail`, …).
pub struct Cassandra {
    process: ServerProcess,
    address: String,
    tls: Option<TestCa>,
    options: CassandraOptions,
    jvm_options: Vec<String>,
}

impl Cassandra {
    /// Writes the configuration and starts the node; returns once it
    /// serves CQL (and, with `auth`, once the superuser exists).
    pub fn start(options: CassandraOptions) -> Result<Cassandra, StartError> {
        let process = ServerProcess::prepare(SERVER, MAKE, options.dir.as_deref())?;
        let dir = process.dir().to_path_buf();
        let port = port_or_free(SERVER, options.port)?;
        let storage_port = free_port();
        let tls = if options.tls {
            Some(TestCa::create(SERVER, &dir)?)
        } else {
            None
        };
        let yaml = dir.join("cassandra.yaml");
        write_file(
            SERVER,
            &yaml,
            &cassandra_yaml(&dir, port, storage_port, &options, tls.as_ref()),
        )?;
        let logback = dir.join("logback.xml");
        write_file(SERVER, &logback, LOGBACK_XML)?;
        let jvm_options = jvm_options(&dir, &yaml, &logback, options.heap_mb);
        let mut node = Cassandra {
            process,
            address: format!("127.0.0.1:{port}"),
            tls,
            options,
            jvm_options,
        };
        node.launch(true)?;
        Ok(node)
    }

    fn launch(&mut self, first: bool) -> Result<(), StartError> {
        // The superuser is made just after CQL opens, on a first start only.
        let needs_superuser = first && self.options.auth;
        self.process.launch(
            &self.jvm_options,
            "org.apache.cassandra.service.CassandraDaemon",
            &[],
            &self.address,
            START_LIMIT,
            |log| !needs_superuser || log.contains("Created default superuser role"),
        )
    }

    /// `host:port` of the CQL listener.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The test CA and server certificate, when started with `tls`.
    pub fn tls(&self) -> Option<&TestCa> {
        self.tls.as_ref()
    }

    /// The superuser's name and password, when started with `auth`.
    pub fn credentials(&self) -> Option<(&'static str, &'static str)> {
        self.options.auth.then_some(("cassandra", "cassandra"))
    }

    /// Starts the node again on the same ports and data (after `kill` or
    /// `stop`; stops it first if it runs): it replays its commit log.
    pub fn restart(&mut self) -> Result<(), StartError> {
        self.process.stop();
        self.launch(false)
    }
}

impl std::ops::Deref for Cassandra {
    type Target = ServerProcess;
    fn deref(&self) -> &ServerProcess {
        &self.process
    }
}

impl std::ops::DerefMut for Cassandra {
    fn deref_mut(&mut self) -> &mut ServerProcess {
        &mut self.process
    }
}

fn cassandra_yaml(
    dir: &Path,
    port: u16,
    storage_port: u16,
    options: &CassandraOptions,
    tls: Option<&TestCa>,
) -> String {
    let d = dir.display();
    let authenticator = if options.auth {
        "PasswordAuthenticator"
    } else {
        "AllowAllAuthenticator"
    };
    let mut yaml = format!(
        "\
cluster_name: logpipe-test
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
authenticator: {authenticator}
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
commitlog_sync: periodic
commitlog_sync_period: {COMMITLOG_SYNC_MS}ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: \"127.0.0.1:{storage_port}\"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: {storage_port}
native_transport_port: {port}
start_native_transport: true
endpoint_snitch: SimpleSnitch
data_file_directories: [{d}/data]
local_system_data_file_directory: {d}/system
commitlog_directory: {d}/commitlog
saved_caches_directory: {d}/saved_caches
hints_directory: {d}/hints
cdc_raw_directory: {d}/cdc_raw
hinted_handoff_enabled: false
auto_snapshot: false
disk_failure_policy: stop
commit_failure_policy: stop
concurrent_reads: 16
concurrent_writes: 32
concurrent_counter_writes: 8
concurrent_compactors: 1
read_request_timeout: 5000ms
range_request_timeout: 10000ms
write_request_timeout: 5000ms
request_timeout: 10000ms
"
    );
    if let Some(ca) = tls {
        yaml.push_str(&format!(
            "\
client_encryption_options:
  enabled: true
  optional: false
  require_client_auth: false
  keystore: {}
  ssl_context_factory:
    class_name: org.apache.cassandra.security.PEMBasedSslContextFactory
",
            ca.server_keystore_pem.display()
        ));
    }
    yaml
}

fn jvm_options(dir: &Path, yaml: &Path, logback: &Path, heap_mb: u32) -> Vec<String> {
    let mut o: Vec<String> = vec![
        format!("-Xms{}m", heap_mb.min(256)),
        format!("-Xmx{heap_mb}m"),
        "-XX:+UseG1GC".into(),
        "-Djava.net.preferIPv4Stack=true".into(),
        format!("-Dcassandra.config=file://{}", yaml.display()),
        format!("-Dcassandra.storagedir={}", dir.display()),
        format!("-Dlogback.configurationFile={}", logback.display()),
        "-Dcassandra-foreground=yes".into(),
        // A single node has nobody to gossip with or wait for.
        "-Dcassandra.skip_wait_for_gossip_to_settle=0".into(),
        "-Dcassandra.ring_delay_ms=0".into(),
        "-Dcassandra.superuser_setup_delay_ms=0".into(),
        "-Dio.netty.tryReflectionSetAccessible=true".into(),
        "-Djdk.attach.allowAttachSelf=true".into(),
    ];
    // Java 17 module access Cassandra needs (its conf/jvm17-server.options).
    for (flag, pairs) in [
        (
            "--add-exports",
            &[
                "java.base/jdk.internal.misc",
                "java.management.rmi/com.sun.jmx.remote.internal.rmi",
                "java.rmi/sun.rmi.registry",
                "java.rmi/sun.rmi.server",
                "java.sql/java.sql",
                "java.base/java.lang.ref",
                "jdk.unsupported/sun.misc",
                "jdk.compiler/com.sun.tools.javac.file",
                "jdk.attach/sun.tools.attach",
            ][..],
        ),
        (
            "--add-opens",
            &[
                "java.base/java.lang.module",
                "java.base/jdk.internal.loader",
                "java.base/jdk.internal.ref",
                "java.base/jdk.internal.reflect",
                "java.base/jdk.internal.math",
                "java.base/jdk.internal.module",
                "java.base/jdk.internal.util.jar",
                "jdk.management/com.sun.management.internal",
                "java.base/sun.nio.ch",
                "java.base/java.io",
                "java.base/java.lang.reflect",
                "jdk.compiler/com.sun.tools.javac",
                "java.base/java.lang",
                "java.base/java.util",
            ][..],
        ),
    ] {
        for p in pairs {
            o.push(flag.into());
            o.push(format!("{p}=ALL-UNNAMED"));
        }
    }
    o
}

/// INFO to standard output (the server log file); the jars' default
/// would log at DEBUG.
const LOGBACK_XML: &str = r#"<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
"#;
