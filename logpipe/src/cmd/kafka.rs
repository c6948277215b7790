//! `logpipe kafka`: runs the embedded broker ([`crate::broker`]) with the
//! pipeline's topics until Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

use crate::broker::EmbeddedKafka;
use crate::esm::connection::TopicSelection;

#[derive(Args, Debug)]
pub struct KafkaArgs {
    /// Address clients connect to; further brokers take the next ports
    /// (port 0 picks free ports)
    #[arg(long, default_value = "127.0.0.1:9092")]
    listen: SocketAddr,

    /// Brokers in the cluster
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=9))]
    brokers: i32,

    /// Partitions of each topic
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=1000))]
    partitions: i32,

    #[command(flatten)]
    selection: TopicSelection,
}

pub async fn run(args: KafkaArgs) -> anyhow::Result<ExitCode> {
    let kafka = EmbeddedKafka::listen(args.listen, args.brokers).await?;
    let topics = args.selection.resolve();
    for (_, topic) in &topics {
        kafka.create_topic(topic, args.partitions)?;
    }
    let names: Vec<&str> = topics.iter().map(|(_, t)| t.as_str()).collect();
    eprintln!(
        "topics: {} ({} partitions each); data lives in memory and is lost on exit",
        names.join(", "),
        args.partitions
    );
    eprintln!("press Ctrl-C to stop");
    // A line scripts can wait for.
    println!("Kafka broker listening on {}", kafka.bootstrap_servers());
    crate::shutdown::until_ctrl_c().await?;
    drop(kafka);
    Ok(ExitCode::SUCCESS)
}
