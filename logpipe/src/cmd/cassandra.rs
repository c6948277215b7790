//! `logpipe cassandra`: an embedded CQL node as a long-running local
//! server, schema applied, for `cargo lambda watch` and local tools.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use logpipe_core::sink::connect_session;
use logpipe_core::topics::DEFAULT_KEYSPACE;
use logpipe_core::SinkConfig;
use logpipe_local::embedded::EmbeddedCassandra;

#[derive(Args, Debug)]
pub struct CassandraArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:9042")]
    listen: SocketAddr,

    /// Keyspace to create the tables in.
    #[arg(long, default_value = DEFAULT_KEYSPACE)]
    keyspace: String,

    /// Start empty, without the keyspace and tables.
    #[arg(long)]
    no_schema: bool,
}

pub async fn run(args: CassandraArgs) -> anyhow::Result<ExitCode> {
    let node = EmbeddedCassandra::start(args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    if !args.no_schema {
        let session = Arc::new(connect_session(&SinkConfig::local(node.addr().to_string())).await?);
        let n = logpipe_core::schema::apply(&session, &args.keyspace, None).await?;
        eprintln!(
            "schema applied: keyspace {} ({n} statements)",
            args.keyspace
        );
    }
    // A line scripts can wait for.
    println!("CQL node listening on {}", node.addr());
    eprintln!("press Ctrl-C to stop (data lives in memory and is lost on exit)");
    crate::shutdown::until_ctrl_c().await?;
    drop(node);
    Ok(ExitCode::SUCCESS)
}
