//! The deterministic record generator: a seed, a mix of log kinds and an
//! invalid ratio in; Kafka records (key, value, topic) with the outcome the
//! pipeline must give each of them out.

use std::fmt;
use std::sync::{Arc, LazyLock};

use logpipe_contract::reason::ReasonCode;
use logpipe_contract::topics::LogKind;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::variation::{bad_record, valid_bytes};
use crate::world::World;
use crate::GenerateError;

/// 2026-01-01T00:00:00Z: where the simulated clock starts unless told
/// otherwise, so that a seed alone fixes every byte.
pub const DEFAULT_START_MS: i64 = 1_767_225_600_000;

/// The topic that wrong-topic records are put on in Lambda event files: a
/// topic none of the pipeline's functions owns.
pub const UNOWNED_TOPIC: &str = "user_unowned_logs";

/// Where records will travel, which decides the bad kinds that can occur.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Kafka messages (the producer and `--stdout`): a value is bytes or
    /// null, and a function's event source only ever delivers its own
    /// topic, so `invalid_base64` and `wrong_topic` cannot happen.
    Kafka,
    /// AWS Lambda Kafka event files: the value is base64 text that can be
    /// broken, and an event can carry a record of a topic no function owns.
    LambdaEvent,
}

impl Output {
    /// The reasons bad records cycle through, in the order the pipeline checks them.
    pub fn bad_reasons(self) -> &'static [ReasonCode] {
        // Every reason (`ReasonCode::ALL` is in check order)...
        static OF_A_VALUE: LazyLock<Vec<ReasonCode>> = LazyLock::new(|| {
            ReasonCode::ALL
                .into_iter()
                .filter(|r| !r.is_of_the_event())
                .collect()
        });
        match self {
            Output::LambdaEvent => &ReasonCode::ALL,
            // ...but those of the event around a value: a producer's value
            // is bytes, not base64 text, and goes to the topic it names.
            Output::Kafka => &OF_A_VALUE,
        }
    }
}

/// The topic each log kind is produced to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicNames {
    names: [Arc<str>; 3],
}

impl Default for TopicNames {
    /// The pipeline's default topics.
    fn default() -> Self {
        TopicNames {
            names: LogKind::ALL.map(|k| Arc::from(k.default_topic())),
        }
    }
}

impl TopicNames {
    /// The topic of `kind`.
    pub fn get(&self, kind: LogKind) -> &Arc<str> {
        &self.names[kind as usize]
    }

    /// Produces `kind` to `topic` instead.
    pub fn set(&mut self, kind: LogKind, topic: &str) {
        self.names[kind as usize] = Arc::from(topic);
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    /// Same seed, same records, byte for byte.
    pub seed: u64,
    /// Fraction of records (per topic) that are bad, 0.0..=1.0.
    pub invalid_ratio: f64,
    /// The kinds to generate, taken in turn; at least one.
    pub kinds: Vec<LogKind>,
    /// How many simulated users there are; at least one.
    pub users: usize,
    /// Where the simulated clock starts, epoch milliseconds.
    pub start_ms: i64,
    /// The topic of each kind.
    pub topics: TopicNames,
    /// Where records will travel.
    pub output: Output,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            seed: 1,
            invalid_ratio: 0.0,
            kinds: LogKind::ALL.to_vec(),
            users: 10_000,
            start_ms: DEFAULT_START_MS,
            topics: TopicNames::default(),
            output: Output::Kafka,
        }
    }
}

impl GeneratorConfig {
    /// Checks the ranges, naming the setting that is out of range.
    pub fn validate(&self) -> Result<(), GenerateError> {
        if !(0.0..=1.0).contains(&self.invalid_ratio) {
            return Err(GenerateError::Config(format!(
                "invalid ratio {} is outside 0.0..=1.0",
                self.invalid_ratio
            )));
        }
        if self.kinds.is_empty() {
            return Err(GenerateError::Config("no log kinds to generate".into()));
        }
        if self.users == 0 {
            return Err(GenerateError::Config(
                "the number of users must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// A record's value as it will be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordValue {
    /// No value (a Kafka tombstone; `null` in an event).
    Null,
    /// The value's bytes (possibly empty, possibly not UTF-8).
    Bytes(Vec<u8>),
    /// Text to put where base64 belongs in an event, that is not base64.
    /// Only with [`Output::LambdaEvent`].
    NotBase64(String),
}

impl RecordValue {
    /// The bytes, if the value has any form Kafka can carry.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            RecordValue::Bytes(b) => Some(b),
            RecordValue::Null | RecordValue::NotBase64(_) => None,
        }
    }
}

/// What the pipeline must do with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Expected {
    /// Store it as a log row.
    Valid,
    /// Dead-letter it with this reason.
    Invalid(ReasonCode),
}

impl Expected {
    /// The reason code, for a bad record.
    pub fn reason(self) -> Option<ReasonCode> {
        match self {
            Expected::Valid => None,
            Expected::Invalid(r) => Some(r),
        }
    }

    /// `valid`, or the reason code.
    pub fn as_str(self) -> &'static str {
        match self {
            Expected::Valid => "valid",
            Expected::Invalid(r) => r.as_str(),
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One generated Kafka record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedRecord {
    /// The kind it was generated for: the function whose input it is.
    pub kind: LogKind,
    /// The topic to send it to (the kind's topic, or [`UNOWNED_TOPIC`] for
    /// a wrong-topic record).
    pub topic: Arc<str>,
    /// The message key: the user id of the log.
    pub key: Vec<u8>,
    /// The message value.
    pub value: RecordValue,
    /// The log's simulated time, epoch milliseconds (the record timestamp
    /// in event files).
    pub timestamp_ms: i64,
    /// What the pipeline must do with it.
    pub expected: Expected,
}

struct KindState {
    generated: u64,
    bad: u64,
}

/// Generates records forever: as an [`Iterator`] it takes the configured
/// kinds in turn; [`Generator::next_record`] asks for one kind.
pub struct Generator {
    config: GeneratorConfig,
    world: World,
    /// Draws for variations and faults, apart from the world's own so that
    /// the valid story stays readable in the code.
    rng: ChaCha8Rng,
    state: [KindState; 3],
    turn: usize,
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Generator {
    /// A generator for `config`, or an error naming the setting that is out
    /// of range.
    pub fn new(config: GeneratorConfig) -> Result<Generator, GenerateError> {
        config.validate()?;
        Ok(Generator {
            world: World::new(config.seed, config.users, config.start_ms),
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x9e37_79b9_7f4a_7c15),
            state: std::array::from_fn(|_| KindState {
                generated: 0,
                bad: 0,
            }),
            turn: 0,
            config,
        })
    }

    /// The configuration this generator runs with.
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// The next record of `kind`. Exactly `floor(n * invalid_ratio)` of the
    /// first `n` records of a kind are bad, spread evenly, their reasons
    /// cycling through [`Output::bad_reasons`] and, within a reason, through
    /// every shape of bad record the generator knows for it.
    pub fn next_record(&mut self, kind: LogKind) -> GeneratedRecord {
        let state = &mut self.state[kind as usize];
        let n = state.generated;
        state.generated += 1;
        let ratio = self.config.invalid_ratio;
        let is_bad = ((n + 1) as f64 * ratio).floor() > (n as f64 * ratio).floor();
        let topic = self.config.topics.get(kind).clone();
        if !is_bad {
            let log = self.world.next_log(kind);
            return GeneratedRecord {
                kind,
                topic,
                key: log.user_id().as_bytes().to_vec(),
                timestamp_ms: log.timestamp().ms,
                value: RecordValue::Bytes(valid_bytes(&log, &mut self.rng)),
                expected: Expected::Valid,
            };
        }
        let reasons = self.config.output.bad_reasons();
        let reason = reasons[(state.bad % reasons.len() as u64) as usize];
        let variant = (state.bad / reasons.len() as u64) as usize;
        state.bad += 1;
        let bad = bad_record(&mut self.world, &mut self.rng, kind, reason, variant);
        GeneratedRecord {
            kind,
            topic: if bad.unowned_topic {
                Arc::from(UNOWNED_TOPIC)
            } else {
                topic
            },
            key: bad.key,
            value: bad.value,
            timestamp_ms: bad.timestamp_ms,
            expected: Expected::Invalid(reason),
        }
    }

    /// The simulated time of the latest record, epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.world.now_ms()
    }
}

impl Iterator for Generator {
    type Item = GeneratedRecord;

    fn next(&mut self) -> Option<GeneratedRecord> {
        let kind = self.config.kinds[self.turn % self.config.kinds.len()];
        self.turn = self.turn.wrapping_add(1);
        Some(self.next_record(kind))
    }
}
