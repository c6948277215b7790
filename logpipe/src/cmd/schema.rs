//! `logpipe schema`: print the CQL, or apply it to a cluster.
//!
//! Every statement is `IF NOT EXISTS`, so applying twice is harmless, and
//! an existing keyspace keeps its replication: when `--replication` asks
//! for another, `apply` says so on stderr and prints the `ALTER KEYSPACE`
//! that would change it (it never alters a keyspace itself).

use std::process::ExitCode;

use std::collections::BTreeMap;

use anyhow::Context;
use clap::{Args, Subcommand};
use logpipe_core::sink::connect_session;
use logpipe_core::topics::DEFAULT_KEYSPACE;
use scylla::client::session::Session;

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
    /// "{'class': 'NetworkTopologyStrategy', 'dc1': 3}" (datacenter names as
    /// `SELECT data_center FROM system.local` shows them). Default:
    /// SimpleStrategy, 1 replica. An existing keyspace keeps its own.
    #[arg(long, value_name = "MAP", value_parser = parse_replication)]
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
            if let Some(wanted) = &options.replication {
                warn_on_other_replication(&session, &options.keyspace, wanted).await;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A `--replication` value: a CQL map literal with a `class`.
fn parse_replication(s: &str) -> Result<String, String> {
    let map = replication_map(s).ok_or_else(|| {
        format!(
            "`{s}` is not a CQL replication map such as \
             \"{{'class': 'NetworkTopologyStrategy', 'dc1': 3}}\""
        )
    })?;
    if !map.contains_key("class") {
        return Err(format!("`{s}` names no 'class'"));
    }
    Ok(s.trim().to_owned())
}

/// The entries of a CQL map literal of simple values
/// (`{'class': 'NetworkTopologyStrategy', 'dc1': 3}`), quotes removed and
/// the class named in full as the server stores it; `None` when it is not
/// one.
fn replication_map(s: &str) -> Option<BTreeMap<String, String>> {
    let inner = s.trim().strip_prefix('{')?.strip_suffix('}')?;
    let unquote = |t: &str| t.trim().trim_matches('\'').trim_matches('"').to_owned();
    let mut map = BTreeMap::new();
    for entry in inner.split(',').filter(|e| !e.trim().is_empty()) {
        let (k, v) = entry.split_once(':')?;
        let (k, v) = (unquote(k), unquote(v));
        if k.is_empty() || v.is_empty() {
            return None;
        }
        map.insert(k, v);
    }
    if let Some(class) = map.get_mut("class") {
        if !class.contains('.') {
            *class = format!("org.apache.cassandra.locator.{class}");
        }
    }
    Some(map)
}

/// Says on stderr when `keyspace` exists with a replication other than
/// `wanted` (`CREATE KEYSPACE IF NOT EXISTS` left it as it was), with the
/// statement that changes it. Silent when the server does not say.
async fn warn_on_other_replication(session: &Session, keyspace: &str, wanted: &str) {
    let Some(want) = replication_map(wanted) else {
        return;
    };
    let Ok(result) = session
        .query_unpaged(
            "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
            (keyspace,),
        )
        .await
    else {
        return;
    };
    let Ok(rows) = result.into_rows_result() else {
        return;
    };
    let Ok(Some((have,))) = rows.maybe_first_row::<(BTreeMap<String, String>,)>() else {
        return;
    };
    if have != want {
        eprintln!(
            "warning: keyspace {keyspace} exists with replication {have:?}, not {wanted}: \
             an existing keyspace keeps its replication. To change it run \
             `ALTER KEYSPACE {keyspace} WITH replication = {wanted}`, then a full repair \
             (`nodetool repair -full {keyspace}`) on every node"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_maps_are_read_as_the_server_stores_them() {
        let m =
            replication_map("{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': '2'}").unwrap();
        assert_eq!(
            m.get("class").map(String::as_str),
            Some("org.apache.cassandra.locator.NetworkTopologyStrategy")
        );
        assert_eq!(m.get("dc1").map(String::as_str), Some("3"));
        assert_eq!(m.get("dc2").map(String::as_str), Some("2"));
        assert!(parse_replication("{'class':'SimpleStrategy','replication_factor':1}").is_ok());
        for bad in [
            "NetworkTopologyStrategy",
            "{'dc1': 3}",
            "{'class'}",
            "{'class': }",
        ] {
            assert!(parse_replication(bad).is_err(), "{bad}");
        }
    }
}
