//! `--msk-cluster-arn`: bootstrap brokers found through the real AWS SDK
//! call (GetBootstrapBrokers) against moto's server on loopback, with
//! clusters made through the Kafka API (CreateCluster).
//!
//! moto comes from the project venv (`make venv`, or `$LOGPIPE_VENV`).
//! moto has no GetBootstrapBrokers of its own; `moto_msk_server.py` runs
//! moto's server with it added, answered as MSK answers it.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_kafka::types::{
    BrokerNodeGroupInfo, ClientAuthentication, ClientBroker, EncryptionInTransit, EncryptionInfo,
    Iam, Sasl, Scram, Unauthenticated,
};
use log_generator::msk::bootstrap_brokers;
use log_generator::SecurityProtocol;

fn venv() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = std::env::var_os("LOGPIPE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv"));
    let moto = venv.join("bin/moto_server");
    assert!(
        moto.is_file(),
        "{} not found: run `make venv` (it installs moto[server] from requirements-dev.txt), \
         or point LOGPIPE_VENV at a venv that has it",
        moto.display()
    );
    venv
}

/// The server process, killed when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> (Server, String) {
    let venv = venv();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/moto_msk_server.py");
    let child = Command::new(venv.join("bin/python"))
        .arg(&script)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto did not listen on port {port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, format!("http://127.0.0.1:{port}"))
}

async fn create_cluster(
    client: &aws_sdk_kafka::Client,
    name: &str,
    auth: ClientAuthentication,
    in_transit: ClientBroker,
) -> String {
    client
        .create_cluster()
        .cluster_name(name)
        .kafka_version("3.6.0")
        .number_of_broker_nodes(3)
        .broker_node_group_info(
            BrokerNodeGroupInfo::builder()
                .instance_type("kafka.m5.large")
                .client_subnets("subnet-0a")
                .client_subnets("subnet-0b")
                .client_subnets("subnet-0c")
                .build(),
        )
        .client_authentication(auth)
        .encryption_info(
            EncryptionInfo::builder()
                .encryption_in_transit(
                    EncryptionInTransit::builder()
                        .client_broker(in_transit)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .cluster_arn()
        .unwrap()
        .to_owned()
}

/// The brokers MSK (and the server) list for a cluster and port.
fn brokers(arn: &str, name: &str, port: u16) -> String {
    let id = arn.rsplit('/').next().unwrap();
    let short: String = id.split('-').next().unwrap().chars().take(6).collect();
    (1..=3)
        .map(|n| format!("b-{n}.{name}.{short}.c1.kafka.us-east-1.amazonaws.com:{port}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[tokio::test]
async fn bootstrap_brokers_come_from_get_bootstrap_brokers() {
    // Fixed test credentials; no profile or instance metadata lookups.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/aws-config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/aws-credentials",
    );
    std::env::remove_var("AWS_PROFILE");

    let (_server, endpoint) = start_moto();
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&endpoint)
        .load()
        .await;
    let client = aws_sdk_kafka::Client::new(&sdk);

    // SCRAM and IAM over TLS: sasl_ssl gets the SCRAM listener.
    let scram = create_cluster(
        &client,
        "logpipe-scram",
        ClientAuthentication::builder()
            .sasl(
                Sasl::builder()
                    .scram(Scram::builder().enabled(true).build())
                    .iam(Iam::builder().enabled(true).build())
                    .build(),
            )
            .build(),
        ClientBroker::Tls,
    )
    .await;
    let found = bootstrap_brokers(&scram, SecurityProtocol::SaslSsl, Some(&endpoint))
        .await
        .unwrap();
    assert_eq!(found, brokers(&scram, "logpipe-scram", 9096));
    let err = bootstrap_brokers(&scram, SecurityProtocol::Plaintext, Some(&endpoint))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("BootstrapBrokerString") && err.contains("SaslScram"),
        "{err}"
    );
    assert!(err.contains(&scram), "{err}");

    // Unauthenticated, TLS and plaintext: ssl and plaintext each get theirs.
    let open = create_cluster(
        &client,
        "logpipe-open",
        ClientAuthentication::builder()
            .unauthenticated(Unauthenticated::builder().enabled(true).build())
            .build(),
        ClientBroker::TlsPlaintext,
    )
    .await;
    let found = bootstrap_brokers(&open, SecurityProtocol::Plaintext, Some(&endpoint))
        .await
        .unwrap();
    assert_eq!(found, brokers(&open, "logpipe-open", 9092));
    let found = bootstrap_brokers(&open, SecurityProtocol::Ssl, Some(&endpoint))
        .await
        .unwrap();
    assert_eq!(found, brokers(&open, "logpipe-open", 9094));
    let err = bootstrap_brokers(&open, SecurityProtocol::SaslSsl, Some(&endpoint))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("SaslScram"), "{err}");

    // A cluster that does not exist: the API's error, naming the ARN.
    let missing =
        "arn:aws:kafka:us-east-1:123456789012:cluster/nope/00000000-0000-0000-0000-000000000000-1";
    let err = bootstrap_brokers(missing, SecurityProtocol::SaslSsl, Some(&endpoint))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(missing) && err.contains("GetBootstrapBrokers"),
        "{err}"
    );
}
