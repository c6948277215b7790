//! Where a command stores rows: an in-process CQL node, nowhere, or a
//! running Cassandra / ScyllaDB / Keyspaces endpoint.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use logpipe_core::sink::{connect_session, CassandraSink};
use logpipe_core::SinkConfig;
use logpipe_local::embedded::EmbeddedCassandra;

/// The value of `--cassandra`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Start a CQL node in this process, with the schema applied.
    Embedded,
    /// Validate and transform without storing.
    None,
    /// A running server.
    Remote(String),
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "embedded" => Ok(Target::Embedded),
            "none" => Ok(Target::None),
            hp if hp
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()) =>
            {
                Ok(Target::Remote(hp.to_owned()))
            }
            other => Err(format!(
                "expected embedded, none or HOST:PORT, got {other:?}"
            )),
        }
    }
}

/// An open storage target. Keeps the embedded node alive while it lives.
pub struct Storage {
    pub sink: Option<Arc<CassandraSink>>,
    /// The embedded node, if one was started: it serves while this lives.
    pub _node: Option<EmbeddedCassandra>,
}

/// The sink configuration for a remote contact point: the `LOGPIPE_*`
/// environment (credentials, TLS, consistency), with the contact point and
/// keyspace given.
pub fn remote_config(contact_point: &str, keyspace: &str) -> anyhow::Result<SinkConfig> {
    let mut config = SinkConfig::from_env().context("reading LOGPIPE_* configuration")?;
    config.contact_points = vec![contact_point.to_owned()];
    config.keyspace = keyspace.to_owned();
    Ok(config)
}

/// Opens `target`; applies the schema on an embedded node, and on a remote
/// one when `apply_schema` is set.
pub async fn open(target: &Target, keyspace: &str, apply_schema: bool) -> anyhow::Result<Storage> {
    let (config, node) = match target {
        Target::None => {
            return Ok(Storage {
                sink: None,
                _node: None,
            })
        }
        Target::Embedded => {
            let node = EmbeddedCassandra::start(SocketAddr::from(([127, 0, 0, 1], 0)))
                .context("starting the embedded CQL node")?;
            let mut config = SinkConfig::local(node.addr().to_string());
            config.keyspace = keyspace.to_owned();
            (config, Some(node))
        }
        Target::Remote(hp) => (remote_config(hp, keyspace)?, None),
    };
    let session = Arc::new(connect_session(&config).await?);
    if apply_schema || node.is_some() {
        logpipe_core::schema::apply(&session, keyspace, None).await?;
    }
    let sink = CassandraSink::with_session(session, &config).await?;
    Ok(Storage {
        sink: Some(Arc::new(sink)),
        _node: node,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        assert_eq!("embedded".parse::<Target>().unwrap(), Target::Embedded);
        assert_eq!("none".parse::<Target>().unwrap(), Target::None);
        assert_eq!(
            "127.0.0.1:9042".parse::<Target>().unwrap(),
            Target::Remote("127.0.0.1:9042".into())
        );
        assert!("localhost".parse::<Target>().is_err());
        assert!(":9042".parse::<Target>().is_err());
    }
}
