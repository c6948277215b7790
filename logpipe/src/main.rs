//! `logpipe`: the developer CLI of the logpipe pipeline. Argument parsing
//! and dispatch only: each subcommand is `logpipe::cmd::<name>::run`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use logpipe::cmd;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Serverless user-log pipeline: Kafka → Rust Lambda functions → Cassandra.
#[derive(Parser)]
#[command(name = "logpipe", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay AWS Kafka event files through the functions' handler code.
    Replay(cmd::replay::ReplayArgs),
    /// Run an embedded CQL node (schema applied) until Ctrl-C.
    Cassandra(cmd::cassandra::CassandraArgs),
    /// Print or apply the keyspace and tables.
    Schema(cmd::schema::SchemaArgs),
    /// Run the whole pipeline locally: embedded Kafka and CQL, generated
    /// logs, the three functions; print what was stored.
    Demo(cmd::demo::DemoArgs),
    /// Local event source mapping: poll Kafka, invoke the functions with
    /// AWS Lambda Kafka events, commit after success.
    Esm(Box<cmd::esm::EsmArgs>),
    /// Run an embedded Kafka broker with the three topics until Ctrl-C.
    Kafka(cmd::kafka::KafkaArgs),
    /// Create the Kafka topics (idempotent).
    Topics(cmd::topics::TopicsArgs),
    /// After a deploy: send a small known batch through each function and
    /// read its rows back.
    Smoke(Box<cmd::smoke::SmokeArgs>),
    /// Generate user logs to Kafka, stdout or Lambda event files (the
    /// log-generator).
    Generate(Box<cmd::generate::GenerateArgs>),
    /// List, count, show and redrive dead letters.
    DeadLetters(cmd::dead_letters::DeadLettersArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parse_error(&e),
    };
    // The driver logs recoverable metadata quirks of single-node servers at
    // warn; errors still surface through the commands themselves.
    logpipe_core::telemetry::init("warn,scylla=off,kassandra=off");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Replay(args) => cmd::replay::run(args).await,
            Command::Cassandra(args) => cmd::cassandra::run(args).await,
            Command::Schema(args) => cmd::schema::run(args).await,
            Command::Demo(args) => cmd::demo::run(args).await,
            Command::Esm(args) => cmd::esm::run(*args).await,
            Command::Kafka(args) => cmd::kafka::run(args).await,
            Command::Topics(args) => cmd::topics::run(args).await,
            Command::Smoke(args) => cmd::smoke::run(*args).await,
            Command::Generate(args) => cmd::generate::run(*args).await,
            Command::DeadLetters(args) => cmd::dead_letters::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints what clap has to say about the command line and exits: 0 for
/// `--help` and `--version`, 64 (`EX_USAGE`) for a usage error, where clap
/// on its own would exit 2, which `logpipe replay` keeps for storage
/// failures.
fn parse_error(e: &clap::Error) -> ExitCode {
    // Printing to a closed stdout or stderr is not worth a panic.
    let _ = e.print();
    if e.exit_code() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(cmd::replay::EXIT_USAGE)
    }
}
