//! Local tools over logpipe's library, for the CLI, the benchmarks and the
//! tests; the Lambda binaries never link them.
//!
//! - [`embedded`]: an in-process, single-node CQL server (the `kassandra`
//!   engine) on a loopback address, where no Cassandra or ScyllaDB runs.
//! - [`dump`]: the tables read back through CQL as JSON rows, sorted by
//!   primary key: what `logpipe replay --dump` writes.

#![forbid(unsafe_code)]

pub mod dump;
pub mod embedded;
