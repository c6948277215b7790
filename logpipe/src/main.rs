//! `logpipe`: the developer CLI of the logpipe pipeline.
//!
//! Each subcommand lives in `cmd/`; storage targets (`embedded`, `none`,
//! `HOST:PORT`) are resolved in `storage.rs`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod storage;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
