//! `logpipe schema`: print the CQL, or apply it to a cluster.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use logpipe_core::sink::connect_session;
use logpipe_core::topics::DEFAULT_KEYSPACE;

use crate::cmd::replay::error_text;
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
            let session = match connect_session(&config).await {
                Ok(s) => s,
                Err(e) => anyhow::bail!("{}", error_text(&e.into())),
            };
            let n = logpipe_core::schema::apply(
                &session,
                &options.keyspace,
                options.replication.as_deref(),
            )
            .await?;
            // The session leaves schema agreement to its caller (the sink
            // issues no DDL): wait here until every reachable node has the
            // new tables, so that what runs next (a replay, a deployment's
            // functions) finds them on whichever node it asks.
            let version = session.await_schema_agreement().await.with_context(|| {
                format!("the schema was applied to {contact}, but the nodes did not agree on it")
            })?;
            println!(
                "applied {n} statements to {contact} (keyspace {}); schema version {version} agreed",
                options.keyspace
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
