//! `logpipe-servers`: the real Apache Cassandra and Apache Kafka of the
//! test suite, by hand or around a command.
//!
//! ```text
//! logpipe-servers up cassandra [--port 9042|0] [--dir DIR] [--auth] [--tls]
//! logpipe-servers up kafka [--port 9092|0] [--dir DIR] [--scram USER:PASSWORD] [--tls]
//! logpipe-servers run [--only cassandra|kafka] -- COMMAND [ARGS...]
//! ```
//!
//! `up` runs one server in the foreground until Ctrl-C, after a line that
//! names its address (`--port 0`: a free port, named there). `run` starts both
//! (once), runs COMMAND with `LOGPIPE_TEST_CASSANDRA` and
//! `LOGPIPE_TEST_KAFKA` set to their addresses, stops them and exits with
//! COMMAND's status: `make test` runs `cargo test` this way.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use logpipe_testkit::{
    Cassandra, CassandraOptions, Kafka, KafkaOptions, Scram, ServerProcess, CASSANDRA_ENV,
    KAFKA_ENV,
};

#[derive(Parser)]
#[command(
    name = "logpipe-servers",
    about = "Run the real Apache Cassandra and Apache Kafka of the test suite on loopback"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one server in the foreground until Ctrl-C.
    Up {
        /// Which server.
        server: Server,
        /// Listening port (CQL for Cassandra, the plaintext listener for
        /// Kafka); 0 takes a free one.
        #[arg(long)]
        port: Option<u16>,
        /// Data directory, kept between runs.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Cassandra: require a password (user cassandra, password cassandra).
        #[arg(long)]
        auth: bool,
        /// Serve TLS with a certificate from a fresh test CA (its ca.pem is in DIR).
        #[arg(long)]
        tls: bool,
        /// Kafka: add SASL/SCRAM listeners knowing USER:PASSWORD.
        #[arg(long, value_name = "USER:PASSWORD")]
        scram: Option<String>,
    },
    /// Start both servers, run COMMAND with their addresses in
    /// LOGPIPE_TEST_CASSANDRA and LOGPIPE_TEST_KAFKA, then stop them.
    Run {
        /// Start only this server.
        #[arg(long)]
        only: Option<Server>,
        /// The command and its arguments.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Server {
    Cassandra,
    Kafka,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("logpipe-servers: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Says that the server serves on `addr` (`what` names it), how long its
/// start took and where its log is, then waits for it to exit.
fn serve_until_stopped(
    what: &str,
    addr: &str,
    server: &mut ServerProcess,
) -> Result<std::process::ExitStatus> {
    println!(
        "{what} on {addr} (started in {:.1} s; log {}); Ctrl-C stops it",
        server.started_in.as_secs_f64(),
        server.log_path().display()
    );
    Ok(server.wait()?)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Cmd::Up {
            server,
            port,
            dir,
            auth,
            tls,
            scram,
        } => {
            let status = match server {
                Server::Cassandra => {
                    if scram.is_some() {
                        bail!("--scram is for kafka");
                    }
                    let mut node = Cassandra::start(CassandraOptions {
                        auth,
                        tls,
                        port: Some(port.unwrap_or(9042)),
                        dir: Some(dir.unwrap_or_else(|| PathBuf::from("target/servers/cassandra"))),
                        ..CassandraOptions::default()
                    })?;
                    let addr = node.address().to_owned();
                    serve_until_stopped("cassandra serving CQL", &addr, &mut node)?
                }
                Server::Kafka => {
                    if auth {
                        bail!("--auth is for cassandra; use --scram USER:PASSWORD for kafka");
                    }
                    let scram = scram
                        .map(|s| {
                            s.split_once(':')
                                .map(|(u, p)| Scram {
                                    username: u.into(),
                                    password: p.into(),
                                })
                                .context("--scram takes USER:PASSWORD")
                        })
                        .transpose()?;
                    let mut broker = Kafka::start(KafkaOptions {
                        scram,
                        tls,
                        port: Some(port.unwrap_or(9092)),
                        dir: Some(dir.unwrap_or_else(|| PathBuf::from("target/servers/kafka"))),
                        ..KafkaOptions::default()
                    })?;
                    if broker.listeners().sasl_plaintext.is_some() || tls {
                        println!("kafka listeners: {:?}", broker.listeners());
                    }
                    let addr = broker.bootstrap().to_owned();
                    serve_until_stopped("kafka serving", &addr, &mut broker)?
                }
            };
            Ok(ExitCode::from(status.code().unwrap_or(1) as u8))
        }
        Cmd::Run { only, command } => {
            let want = |s: Server| only.is_none_or(|o| o == s);
            // Both JVMs start at once: the start is mostly waiting.
            let cassandra = want(Server::Cassandra)
                .then(|| std::thread::spawn(|| Cassandra::start(CassandraOptions::default())));
            let kafka = want(Server::Kafka)
                .then(|| std::thread::spawn(|| Kafka::start(KafkaOptions::default())));
            let cassandra = cassandra
                .map(|h| h.join().expect("the start thread ends"))
                .transpose()?;
            let kafka = kafka
                .map(|h| h.join().expect("the start thread ends"))
                .transpose()?;
            let mut cmd = Command::new(&command[0]);
            cmd.args(&command[1..]);
            if let Some(node) = &cassandra {
                eprintln!(
                    "logpipe-servers: cassandra on {} ready in {:.1} s",
                    node.address(),
                    node.started_in.as_secs_f64()
                );
                cmd.env(CASSANDRA_ENV, node.address());
            }
            if let Some(broker) = &kafka {
                eprintln!(
                    "logpipe-servers: kafka on {} ready in {:.1} s",
                    broker.bootstrap(),
                    broker.started_in.as_secs_f64()
                );
                cmd.env(KAFKA_ENV, broker.bootstrap());
            }
            let status = cmd
                .status()
                .with_context(|| format!("cannot run {:?}", command[0]))?;
            for (name, alive, tail) in [
                (
                    "cassandra",
                    cassandra.as_ref().map(|n| n.pid().is_some()),
                    cassandra.as_ref().map(|n| n.log_tail(20)),
                ),
                (
                    "kafka",
                    kafka.as_ref().map(|b| b.pid().is_some()),
                    kafka.as_ref().map(|b| b.log_tail(20)),
                ),
            ] {
                if alive == Some(true) && !status.success() {
                    eprintln!(
                        "logpipe-servers: last lines of the {name} log:\n{}",
                        tail.unwrap_or_default()
                    );
                }
            }
            drop(cassandra);
            drop(kafka);
            Ok(ExitCode::from(status.code().unwrap_or(1) as u8))
        }
    }
}
