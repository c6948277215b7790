//! One module a subcommand.

pub mod cassandra;
pub mod replay;
pub mod schema;
