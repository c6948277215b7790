//! `logpipe schema`: print the CQL, or apply it to a cluster.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use logpipe_core::sink::connect_session;
use logpipe_core::topics::DEFAULT_KEYSPACE;

use crate::storage::remote_config;

#[derive(Args, Debug)]
pub struct SchemaArgs {
    #[command(subcommand)]
    action: SchemaAction,
}

#[derive(Subcommand, Debug)]
enum SchemaAction {
    /// Print the keyspace and table statements.
    Print(SchemaOptions),
    /// Create the keyspace and tables if they do not exist.
    Apply {
        /// Contact point, HOST:PORT. Credentials and TLS come from the
        /// LOGPIPE_CASSANDRA_* environment, as for the functions.
        #[arg(long, env = "LOGPIPE_CASSANDRA_CONTACT_POINTS")]
        cassandra: String,
        #[command(flatten)]
        options: SchemaOptions,
    },
}

#[derive(Args, Debug)]
struct SchemaOptions {
    /// Keyspace name.
    #[arg(long, default_value = DEFAULT_KEYSPACE, env = "LOGPIPE_CASSANDRA_KEYSPACE")]
    keyspace: String,
    /// Replication map for the keyspace, e.g.
    /// "{'class': 'NetworkTopologyStrategy', 'dc1': 3}". Default: SimpleStrategy, 1 replica.
    #[arg(long)]
    replication: Option<String>,
}

pub async fn run(args: SchemaArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        SchemaAction::Print(o) => {
            for stmt in logpipe_core::schema::statements(&o.keyspace, o.replication.as_deref()) {
                println!("{stmt};");
            }
        }
        SchemaAction::Apply { cassandra, options } => {
            let contact = cassandra
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            let config = remote_config(&contact, &options.keyspace)?;
            let session = connect_session(&config).await?;
            let n = logpipe_core::schema::apply(
                &session,
                &options.keyspace,
                options.replication.as_deref(),
            )
            .await?;
            println!(
                "applied {n} statements to {contact} (keyspace {})",
                options.keyspace
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
