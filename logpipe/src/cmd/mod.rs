//! One module a subcommand.

pub mod cassandra;
pub mod dead_letters;
pub mod demo;
pub mod esm;
pub mod generate;
pub mod kafka;
pub mod replay;
pub mod schema;
pub mod smoke;
pub mod topics;
