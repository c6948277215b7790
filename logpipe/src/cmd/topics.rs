//! `logpipe topics create`: creates the pipeline's topics on a Kafka
//! cluster with the admin API. Idempotent: a topic that already exists
//! counts as created (its partitions are left as they are).
//!
//! The embedded broker (`logpipe kafka`) answers CreateTopics itself: its
//! topics exist already, and any other topic is refused at once with a
//! policy violation (see `cmd/kafka.rs`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;

use crate::esm::connection::{KafkaConnection, RefusalWatch, TopicSelection};

#[derive(Args, Debug)]
pub struct TopicsArgs {
    #[command(subcommand)]
    action: TopicsAction,
}

#[derive(Subcommand, Debug)]
enum TopicsAction {
    /// Create the topics (idempotent)
    Create(CreateArgs),
}

#[derive(Args, Debug)]
struct CreateArgs {
    #[command(flatten)]
    kafka: KafkaConnection,

    #[command(flatten, next_help_heading = "Topics")]
    selection: TopicSelection,

    /// Partitions of each topic
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=100_000))]
    partitions: i32,

    /// Replicas of each partition
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=100))]
    replication: i32,
}

/// What happened to one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The topic is new.
    New,
    /// It was there already.
    Existed,
}

/// Creates `topics`, treating "already exists" as success. Fails at once
/// when the broker refuses the credentials or its certificate cannot be
/// verified.
pub async fn create_topics(
    config: &ClientConfig,
    topics: &[String],
    partitions: i32,
    replication: i32,
) -> anyhow::Result<Vec<(String, Created)>> {
    let admin: AdminClient<DefaultClientContext> =
        config.create().context("creating the Kafka admin client")?;
    // The admin client serves no error events: a client of its own
    // notices refused credentials and certificates, which librdkafka
    // would otherwise retry until the request times out.
    let watch = RefusalWatch::start(config)?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(replication)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let create = admin.create_topics(&new, &options);
    tokio::pin!(create);
    let results = loop {
        tokio::select! {
            r = &mut create => break r,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                if let Some(refusal) = watch.refused() {
                    anyhow::bail!("{refusal}");
                }
            }
        }
    };
    let results = results.map_err(|e| {
        anyhow::anyhow!(
            "{e}{}",
            if matches!(
                e.rdkafka_error_code(),
                Some(RDKafkaErrorCode::UnsupportedFeature)
            ) {
                " (the broker has no CreateTopics API: create the topics with its own tools)"
            } else {
                ""
            }
        )
    })?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(topic) => out.push((topic, Created::New)),
            Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                out.push((topic, Created::Existed))
            }
            Err((topic, RDKafkaErrorCode::PolicyViolation)) => errors.push(format!(
                "{topic}: {} (the broker's topic policy refused it; an embedded \
                 `logpipe kafka` has only the topics it was started with: start it \
                 with this topic, e.g. --topic-name KIND={topic})",
                RDKafkaErrorCode::PolicyViolation
            )),
            Err((topic, code)) => errors.push(format!("{topic}: {code}")),
        }
    }
    if !errors.is_empty() {
        anyhow::bail!("cannot create topics: {}", errors.join("; "));
    }
    // In the order asked for, whatever order the broker answered in.
    out.sort_by_key(|(t, _)| topics.iter().position(|x| x == t));
    Ok(out)
}

pub async fn run(args: TopicsArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        TopicsAction::Create(a) => {
            let config = a.kafka.client_config(|c| {
                c.set("client.id", "logpipe-topics");
            })?;
            let topics: Vec<String> = a.selection.resolve().into_iter().map(|(_, t)| t).collect();
            let created = create_topics(&config, &topics, a.partitions, a.replication)
                .await
                .with_context(|| format!("at {}", a.kafka.bootstrap.servers))?;
            for (topic, how) in created {
                match how {
                    Created::New => println!(
                        "created {topic} ({} partitions, replication {})",
                        a.partitions, a.replication
                    ),
                    Created::Existed => println!("{topic} exists already"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
