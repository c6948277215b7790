//! A real Apache Cassandra node of this binary's own, secured as
//! production runs it (PasswordAuthenticator, client TLS with a test CA),
//! for what the run's shared node must not be put through: stopping,
//! killing and restarting it, and who may connect.
//!
//! - Storage faults: the node stops before a batch, or is SIGKILLed in the
//!   middle of one. The invocation (or `logpipe replay`) must fail after its
//!   bounded retries, so that the event source mapping retries the batch and
//!   nothing is acknowledged; once the node is back (replaying its commit
//!   log) the retried batch must leave exactly the rows of a clean run.
//! - A long-lived sink keeps working over a restart of the node that
//!   forgot its prepared statements (the driver re-prepares on UNPREPARED).
//! - TLS and credentials: from the environment, from a Secrets Manager
//!   secret (moto on loopback), and the errors of a wrong password, a
//!   certificate the client does not trust and a plaintext client.
//!
//! One node serves every test here (one JVM start, ~10 s); the tests take
//! it in turn ([`node`]), since they stop and kill it.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use logpipe_core::config::{Credentials, TlsSettings};
use logpipe_core::sink::{connect_session, CassandraSink};
use logpipe_core::{Function, HandlerError, Router, SinkConfig};
use logpipe_testkit::{
    free_port, unique_name, wait_output, wait_until, Cassandra, CassandraOptions, KillOnDrop,
};
use scylla::client::session::Session;

use common::real::{
    assert_write_times, auth_log, count, event_json, read_dump, record_timestamps, replay_args,
    rows, run_env, spawn_logpipe_env, uuid_of, write_event, Rec, DAY0_MS,
};
use common::watch::post_with_headers;
use common::{assert_dump_matches_golden, root, TABLES};

// ---------------------------------------------------------------------------
// The node, and how clients reach it.

static NODE: Mutex<Option<Cassandra>> = Mutex::new(None);

/// The binary's node, running (started on first use, restarted if a failed
/// test left it down), held by the caller until its test ends: the tests
/// here stop and kill it, so they run one at a time.
fn node() -> MutexGuard<'static, Option<Cassandra>> {
    let mut guard = NODE.lock().unwrap_or_else(|e| e.into_inner());
    match guard.as_mut() {
        None => {
            let node = Cassandra::start(CassandraOptions {
                auth: true,
                tls: true,
                ..CassandraOptions::default()
            })
            .unwrap_or_else(|e| panic!("cannot start this binary's Cassandra: {e}"));
            eprintln!(
                "dedicated Cassandra (password, TLS) on {} started in {:.1} s",
                node.address(),
                node.started_in.as_secs_f64()
            );
            *guard = Some(node);
        }
        Some(node) if node.pid().is_none() => node
            .restart()
            .unwrap_or_else(|e| panic!("cannot restart this binary's Cassandra: {e}")),
        Some(_) => {}
    }
    guard
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// What the functions are configured with for `node`: TLS with the test CA
/// and the superuser's password; short timeouts and few tries, so a failing
/// batch fails fast.
fn config(node: &Cassandra, keyspace: &str) -> SinkConfig {
    let (username, password) = node.credentials().unwrap();
    SinkConfig {
        keyspace: keyspace.to_owned(),
        credentials: Credentials::Plain {
            username: username.into(),
            password: password.into(),
        },
        tls: Some(TlsSettings {
            ca_file: Some(node.tls().unwrap().ca_pem.clone()),
            server_name: None,
        }),
        max_attempts: 3,
        retry_backoff: Duration::from_millis(50),
        request_timeout: Duration::from_millis(1000),
        ..SinkConfig::local(node.address())
    }
}

/// The `LOGPIPE_*` environment that says the same to `logpipe`.
fn env_of(node: &Cassandra) -> Vec<(String, String)> {
    let (username, password) = node.credentials().unwrap();
    let ca = node.tls().unwrap().ca_pem.display().to_string();
    common::real::env(&[
        ("LOGPIPE_CASSANDRA_TLS", "true"),
        ("LOGPIPE_CASSANDRA_TLS_CA_FILE", &ca),
        ("LOGPIPE_CASSANDRA_USERNAME", username),
        ("LOGPIPE_CASSANDRA_PASSWORD", password),
    ])
}

/// `env` with `changes` set (replacing or adding) and `removed` taken out.
fn with(
    env: &[(String, String)],
    changes: &[(&str, &str)],
    removed: &[&str],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| !removed.contains(&k.as_str()) && !changes.iter().any(|(c, _)| c == k))
        .cloned()
        .collect();
    out.extend(common::real::env(changes));
    out
}

fn fixture(name: &str) -> PathBuf {
    root().join(format!("fixtures/events/{name}.json"))
}

/// `logpipe schema apply` of `keyspace` on `node`.
async fn apply_schema(node: &Cassandra, keyspace: &str) {
    common::real::schema_apply(node.address(), keyspace, env_of(node)).await;
}

/// Dumps the four tables of `keyspace` on `node` into `dir` (a replay of
/// an empty event with `--dump`).
async fn dump(node: &Cassandra, keyspace: &str, dir: &Path) {
    let empty = dir.join("empty-event.json");
    std::fs::write(&empty, r#"{"eventSource":"aws:kafka","records":{}}"#).unwrap();
    run_env(
        replay_args(node.address(), keyspace, &[&empty], Some(dir)),
        env_of(node),
    )
    .await
    .assert_success();
}

/// A function (the three kinds) with its own sink on `config`.
async fn function_on(config: &SinkConfig) -> Function {
    let sink = CassandraSink::connect(config)
        .await
        .unwrap_or_else(|e| panic!("the sink connects: {e}"));
    Function::new(Router::all_default("logpipe-replay"), Some(Arc::new(sink)))
}

/// Retries a batch the way an event source mapping does, until it succeeds.
async fn retry_until_stored(function: &Function, event: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match function.handle_payload(event).await {
            Ok(_) => return,
            Err(e) if Instant::now() < deadline => {
                assert!(e.is_retryable(), "{e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => panic!("batch never stored after the node came back: {e}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Storage faults.

#[test]
fn a_stopped_node_fails_the_batch_within_its_retry_budget_and_the_retry_matches_golden() {
    let mut guard = node();
    let node = guard.as_mut().unwrap();
    let ks = unique_name("stopped");
    runtime().block_on(async {
        apply_schema(node, &ks).await;
        let config = config(node, &ks);
        let function = function_on(&config).await;
        let event = std::fs::read(fixture("msk_auth_mixed")).unwrap();

        node.stop();
        let started = Instant::now();
        let err = function
            .handle_payload(&event)
            .await
            .expect_err("no node: the batch must fail");
        let took = started.elapsed();
        assert!(matches!(err, HandlerError::Storage(_)), "{err}");
        assert!(err.is_retryable());
        // Bounded: the configured worst case plus scheduling slack, far
        // below any Lambda timeout.
        assert!(
            took <= config.worst_case_write_time() + Duration::from_secs(2),
            "failing took {took:?}"
        );

        node.restart().unwrap();
        eprintln!(
            "restart after a clean stop: {:.1} s",
            node.started_in.as_secs_f64()
        );
        retry_until_stored(&function, &event).await;
        let dir = tempfile::tempdir().unwrap();
        dump(node, &ks, dir.path()).await;
        assert_dump_matches_golden(dir.path(), "msk_auth_mixed");
    });
}

/// `n` valid auth logs over 500 users and three partitions (10 to 12, which
/// no fixture uses), one time each.
fn bulk_auth(n: i64) -> Vec<Rec> {
    (0..n)
        .map(|i| {
            let log = auth_log(
                &uuid_of(i as u64),
                &format!("bulk-{:03}", i % 500),
                DAY0_MS + i,
                "login",
            );
            Rec::new(
                "user_auth_logs",
                10 + (i % 3) as i32,
                i,
                Some(DAY0_MS + i),
                &log,
            )
        })
        .collect()
}

/// The `auth_logs` row the dump must hold for a record of [`bulk_auth`].
fn bulk_row(rec: &Rec) -> serde_json::Value {
    let log: serde_json::Value = serde_json::from_str(&rec.value).unwrap();
    serde_json::json!({
        "auth_method": null,
        "city": null,
        "country": null,
        "day": "2026-11-25",
        "event_id": log["event_id"],
        "event_time": chrono::DateTime::from_timestamp_millis(log["timestamp"].as_i64().unwrap())
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string(),
        "event_type": "login",
        "failure_reason": null,
        "ip_address": "10.1.2.3",
        "source_offset": rec.offset,
        "source_partition": rec.partition,
        "success": true,
        "user_agent": null,
        "user_id": log["user_id"],
    })
}

/// The primary key order of a dumped log row (user, day, time, id).
fn log_key(row: &serde_json::Value) -> (String, String, String, String) {
    let s = |c: &str| row[c].as_str().unwrap_or_default().to_owned();
    (s("user_id"), s("day"), s("event_time"), s("event_id"))
}

#[test]
fn a_node_killed_mid_replay_fails_it_with_exit_2_and_the_retry_leaves_the_expected_rows() {
    const N: i64 = 30_000;
    let mut guard = node();
    let node = guard.as_mut().unwrap();
    let ks = unique_name("killed");
    let dir = tempfile::tempdir().unwrap();
    let bulk = bulk_auth(N);
    let big = write_event(dir.path(), "bulk", &bulk);
    let golden = fixture("msk_all_topics");
    let files: [&Path; 2] = [&golden, &big];
    let fast_fail = with(
        &env_of(node),
        &[
            ("LOGPIPE_REQUEST_TIMEOUT_MS", "1000"),
            ("LOGPIPE_WRITE_MAX_ATTEMPTS", "2"),
        ],
        &[],
    );
    runtime().block_on(async {
        apply_schema(node, &ks).await;
        let session = connect_session(&config(node, &ks)).await.unwrap();
        let args = replay_args(node.address(), &ks, &files, None);
        let env: Vec<(&str, &str)> = fast_fail
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut replay = spawn_logpipe_env(&args, &env);

        // SIGKILL once a few thousand rows are in: mid-batch.
        let deadline = Instant::now() + Duration::from_secs(120);
        let seen = loop {
            // A count may time out under the load: then ask again.
            let n = session
                .query_unpaged(format!("SELECT count(*) FROM {ks}.auth_logs"), ())
                .await
                .ok()
                .and_then(|r| r.into_rows_result().ok())
                .and_then(|r| r.single_row::<(i64,)>().ok())
                .map_or(0, |r| r.0);
            if n >= 2000 {
                break n;
            }
            if let Some(status) = replay.child.try_wait().unwrap() {
                panic!("the replay ended ({status}) before the kill, with {n} rows in");
            }
            assert!(Instant::now() < deadline, "only {n} rows in after 120 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        node.kill();
        drop(session);
        let out =
            tokio::task::spawn_blocking(move || wait_output(replay, Duration::from_secs(120)))
                .await
                .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "a storage failure exits 2; stderr: {stderr}"
        );
        assert!(
            stderr.contains("auth_logs") && stderr.contains("failed after"),
            "the error names the table and the failed write: {stderr}"
        );

        node.restart().unwrap();
        eprintln!(
            "killed with {seen} auth rows in; restart on the commit log: {:.1} s",
            node.started_in.as_secs_f64()
        );
        let retry_dir = dir.path().join("dump");
        let summary = run_env(
            replay_args(node.address(), &ks, &files, Some(&retry_dir)),
            env_of(node),
        )
        .await
        .assert_success()
        .json();
        assert_eq!(summary["written"], N + 18, "{summary}");

        // Exactly the fixture's golden rows and the bulk rows, once each,
        // in primary key order.
        let tables = read_dump(&retry_dir);
        let golden_dir = root().join("fixtures/golden/msk_all_topics");
        let golden_tables = read_dump(&golden_dir);
        let mut want_auth: Vec<serde_json::Value> = golden_tables["auth_logs"].clone();
        want_auth.extend(bulk.iter().map(bulk_row));
        want_auth.sort_by_key(log_key);
        assert_eq!(tables["auth_logs"].len(), want_auth.len(), "auth_logs rows");
        if let Some(i) = (0..want_auth.len()).find(|&i| tables["auth_logs"][i] != want_auth[i]) {
            panic!(
                "auth_logs row {i}: got {} want {}",
                tables["auth_logs"][i], want_auth[i]
            );
        }
        for table in ["session_logs", "activity_logs", "dead_letters"] {
            assert_eq!(tables[table], golden_tables[table], "{table}");
        }
        // With the write times of their records.
        let session = connect_session(&config(node, &ks)).await.unwrap();
        let mut times = record_timestamps(&golden);
        times.extend(record_timestamps(&big));
        assert_eq!(
            assert_write_times(&session, &ks, &times).await as i64,
            N + 18
        );
    });
}

/// The sink's inserts as the node knows them (system.prepared_statements).
async fn prepared_inserts(session: &Session, keyspace: &str) -> usize {
    rows::<(Option<String>,)>(
        session,
        "SELECT query_string FROM system.prepared_statements",
        (),
    )
    .await
    .into_iter()
    .filter(|(q,)| {
        q.as_deref()
            .is_some_and(|q| q.starts_with(&format!("INSERT INTO {keyspace}.")))
    })
    .count()
}

/// Removes the node's saved prepared statements (the sstables of
/// `system.prepared_statements`; a stopped node flushed them there): it
/// starts knowing none.
fn forget_prepared_statements(node: &Cassandra) {
    let system = node.dir().join("data/system");
    let mut removed = 0;
    for table in std::fs::read_dir(&system).unwrap().filter_map(Result::ok) {
        if table
            .file_name()
            .to_string_lossy()
            .starts_with("prepared_statements-")
        {
            for file in std::fs::read_dir(table.path())
                .unwrap()
                .filter_map(Result::ok)
            {
                if file.path().is_file() {
                    std::fs::remove_file(file.path()).unwrap();
                    removed += 1;
                }
            }
        }
    }
    assert!(
        removed > 0,
        "no sstable of system.prepared_statements under {}",
        system.display()
    );
}

/// One record of each kind and a dead letter, at offsets from `base`.
fn small_event(user: &str, base: i64) -> Vec<u8> {
    let recs = [
        Rec::new(
            "user_auth_logs",
            0,
            base,
            Some(DAY0_MS),
            &auth_log(&uuid_of(base as u64), user, DAY0_MS + base, "login"),
        ),
        Rec::new(
            "user_session_logs",
            0,
            base,
            Some(DAY0_MS),
            &common::real::session_log(&uuid_of(base as u64), user, DAY0_MS + base),
        ),
        Rec::new(
            "user_activity_logs",
            0,
            base,
            Some(DAY0_MS),
            &common::real::activity_log(&uuid_of(base as u64), user, DAY0_MS + base, "/r"),
        ),
        Rec {
            topic: "user_auth_logs".into(),
            partition: 1,
            offset: base,
            timestamp_ms: Some(DAY0_MS),
            value: "not json".into(),
        },
    ];
    event_json(&recs).to_string().into_bytes()
}

#[test]
fn a_long_lived_sink_writes_again_after_the_node_restarts_without_its_prepared_statements() {
    let mut guard = node();
    let node = guard.as_mut().unwrap();
    let ks = unique_name("restart");
    runtime().block_on(async {
        apply_schema(node, &ks).await;
        let config = config(node, &ks);
        // One sink for the whole test, as a Lambda container keeps it.
        let function = function_on(&config).await;
        function
            .handle_payload(&small_event("before", 1))
            .await
            .expect("writes before the restart");
        let probe = connect_session(&config).await.unwrap();
        assert_eq!(prepared_inserts(&probe, &ks).await, 4, "the four inserts");
        drop(probe);

        node.stop();
        forget_prepared_statements(node);
        node.restart().unwrap();
        let probe = connect_session(&config).await.unwrap();
        assert_eq!(
            prepared_inserts(&probe, &ks).await,
            0,
            "the restarted node still knows the inserts: the test would prove nothing"
        );

        // The sink's pool reconnects in the background; then the same sink
        // (same prepared statements, now unknown to the node) writes.
        let reconnect = Instant::now();
        loop {
            let summary = function.handle_payload(&small_event("after", 2)).await;
            match summary {
                Ok(s) => {
                    assert_eq!((s.written, s.dead_lettered), (3, 1));
                    break;
                }
                Err(e) => {
                    assert!(
                        reconnect.elapsed() < Duration::from_secs(60),
                        "the sink never wrote again after the restart: {e}"
                    );
                    assert!(
                        !e.to_string().to_ascii_lowercase().contains("unprepared"),
                        "the driver did not re-prepare: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        eprintln!(
            "the sink wrote {:.1} s after the restart ({:.1} s)",
            reconnect.elapsed().as_secs_f64(),
            node.started_in.as_secs_f64()
        );
        assert_eq!(
            prepared_inserts(&probe, &ks).await,
            4,
            "the driver prepared the inserts again"
        );
        for table in TABLES {
            assert_eq!(count(&probe, &ks, table).await, 2, "{table}: both writes");
        }
    });
}

// ---------------------------------------------------------------------------
// TLS and credentials.

/// moto's server on a free loopback port, killed on drop; its endpoint URL.
fn start_moto() -> (KillOnDrop, String) {
    let venv = std::env::var_os("LOGPIPE_VENV").map_or_else(|| root().join(".venv"), PathBuf::from);
    let moto = venv.join("bin/moto_server");
    assert!(
        moto.is_file(),
        "{} not found: run `make venv` (it installs moto[server])",
        moto.display()
    );
    let port = free_port();
    let child = std::process::Command::new(&moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", moto.display()));
    let server = KillOnDrop::new(child);
    let addr = format!("127.0.0.1:{port}");
    wait_until("moto listening", Duration::from_secs(60), || {
        std::net::TcpStream::connect(&addr).is_ok()
    });
    (server, addr)
}

/// Creates a Secrets Manager secret `name` holding `text` through moto's
/// API; returns its ARN.
fn create_secret(moto: &str, name: &str, text: &str) -> String {
    let body = serde_json::json!({"Name": name, "SecretString": text}).to_string();
    let answer = post_with_headers(
        moto,
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "secretsmanager.CreateSecret"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/secretsmanager/aws4_request, \
                 SignedHeaders=host, Signature=0",
            ),
        ],
        body.as_bytes(),
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let v: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    v["ARN"].as_str().unwrap().to_owned()
}

/// The environment that sends the AWS SDK to moto.
fn aws_env(moto: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", format!("http://{moto}")),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
    ]
}

#[test]
fn replay_over_tls_with_credentials_from_the_environment_or_secrets_manager() {
    let mut guard = node();
    let node = guard.as_mut().unwrap();
    let (_moto, moto) = start_moto();
    let arn = create_secret(
        &moto,
        "logpipe/cassandra",
        r#"{"username":"cassandra","password":"cassandra"}"#,
    );
    let file = fixture("msk_auth_mixed");
    runtime().block_on(async {
        // Username and password from the environment.
        let ks = unique_name("tls_env");
        let dir = tempfile::tempdir().unwrap();
        run_env(
            replay_args(node.address(), &ks, &[&file], Some(dir.path())),
            env_of(node),
        )
        .await
        .assert_success();
        assert_dump_matches_golden(dir.path(), "msk_auth_mixed");

        // From the secret, read through the AWS SDK from moto.
        let ks = unique_name("tls_secret");
        let dir = tempfile::tempdir().unwrap();
        let aws = aws_env(&moto);
        let mut changes: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (*k, v.as_str())).collect();
        changes.push(("LOGPIPE_CASSANDRA_CREDENTIALS_SECRET_ARN", &arn));
        let env = with(
            &env_of(node),
            &changes,
            &["LOGPIPE_CASSANDRA_USERNAME", "LOGPIPE_CASSANDRA_PASSWORD"],
        );
        run_env(
            replay_args(node.address(), &ks, &[&file], Some(dir.path())),
            env,
        )
        .await
        .assert_success();
        assert_dump_matches_golden(dir.path(), "msk_auth_mixed");
    });
}

/// A case that must be refused: what it is, the environment, and the words
/// the error must hold.
type Refusal<'a> = (&'a str, Vec<(String, String)>, Vec<&'a str>);

#[test]
fn wrong_credentials_or_an_untrusted_certificate_fail_naming_the_problem() {
    let mut guard = node();
    let node = guard.as_mut().unwrap();
    let (_moto, moto) = start_moto();
    let wrong_arn = create_secret(
        &moto,
        "logpipe/wrong",
        r#"{"username":"cassandra","password":"not-the-password"}"#,
    );
    let missing_arn = wrong_arn.replace("logpipe/wrong", "logpipe/missing");
    let file = fixture("msk_all_topics");
    let addr = node.address().to_owned();
    let base = env_of(node);
    let aws = aws_env(&moto);
    let aws: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let no_user = ["LOGPIPE_CASSANDRA_USERNAME", "LOGPIPE_CASSANDRA_PASSWORD"];
    let cases: Vec<Refusal> = vec![
        (
            "a wrong password",
            with(
                &base,
                &[("LOGPIPE_CASSANDRA_PASSWORD", "not-the-password")],
                &[],
            ),
            vec![&addr, "Authentication", "password"],
        ),
        (
            "a wrong password from the secret",
            with(
                &base,
                &[
                    aws.clone(),
                    vec![(
                        "LOGPIPE_CASSANDRA_CREDENTIALS_SECRET_ARN",
                        wrong_arn.as_str(),
                    )],
                ]
                .concat(),
                &no_user,
            ),
            vec![&addr, "Authentication", "password"],
        ),
        (
            "a secret that does not exist",
            with(
                &base,
                &[
                    aws.clone(),
                    vec![(
                        "LOGPIPE_CASSANDRA_CREDENTIALS_SECRET_ARN",
                        missing_arn.as_str(),
                    )],
                ]
                .concat(),
                &no_user,
            ),
            vec!["cannot read secret", &missing_arn, "ResourceNotFound"],
        ),
        (
            "no password",
            with(&base, &[], &no_user),
            vec![&addr, "Authentication"],
        ),
        (
            "the default roots, which do not hold the test CA",
            with(&base, &[], &["LOGPIPE_CASSANDRA_TLS_CA_FILE"]),
            vec![&addr, "certificate"],
        ),
        (
            "a server name the certificate does not carry",
            with(
                &base,
                &[("LOGPIPE_CASSANDRA_TLS_SERVER_NAME", "cassandra.example.com")],
                &[],
            ),
            vec![&addr, "certificate"],
        ),
        (
            "plaintext",
            with(
                &base,
                &[],
                &["LOGPIPE_CASSANDRA_TLS", "LOGPIPE_CASSANDRA_TLS_CA_FILE"],
            ),
            vec![&addr],
        ),
    ];
    let mut keyspaces = Vec::new();
    runtime().block_on(async {
        for (case, env, words) in cases {
            let ks = unique_name("refused");
            keyspaces.push(ks.clone());
            let started = Instant::now();
            let out = run_env(replay_args(&addr, &ks, &[&file], None), env).await;
            let took = started.elapsed();
            assert_eq!(
                out.status.code(),
                Some(2),
                "{case}: a storage failure exits 2; stderr: {}",
                out.stderr
            );
            for word in words {
                assert!(
                    out.stderr.contains(word),
                    "{case}: the error does not say {word:?}: {}",
                    out.stderr
                );
            }
            assert!(
                !out.stderr.contains("not-the-password")
                    && !out.stdout.contains("not-the-password"),
                "{case}: the password was printed: {}",
                out.stderr
            );
            assert!(
                out.stderr.matches("The pool is broken").count() <= 1,
                "{case}: the error repeats itself: {}",
                out.stderr
            );
            assert!(took < Duration::from_secs(60), "{case}: took {took:?}");
            eprintln!("{case}: {}", out.stderr.trim());
        }
        // None was let in: none made its keyspace.
        let session = connect_session(&config(node, "system")).await.unwrap();
        let made: Vec<(String,)> = rows(
            &session,
            "SELECT keyspace_name FROM system_schema.keyspaces",
            (),
        )
        .await;
        for ks in &keyspaces {
            assert!(!made.iter().any(|(k,)| k == ks), "{ks} was created");
        }
    });
}
