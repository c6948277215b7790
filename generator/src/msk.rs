//! Finding an Amazon MSK cluster's bootstrap brokers (GetBootstrapBrokers)
//! for the security protocol the producer will use.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_kafka::error::DisplayErrorContext;
use aws_sdk_kafka::operation::get_bootstrap_brokers::GetBootstrapBrokersOutput;

use crate::security::SecurityProtocol;
use crate::GenerateError;

/// The region of an MSK cluster ARN
/// (`arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID`).
pub fn region_of(cluster_arn: &str) -> Result<&str, GenerateError> {
    let parts: Vec<&str> = cluster_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "kafka", region, _, resource]
            if !region.is_empty() && resource.starts_with("cluster/") =>
        {
            Ok(region)
        }
        _ => Err(GenerateError::Msk {
            arn: cluster_arn.to_owned(),
            message: "not an MSK cluster ARN (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/ID)".into(),
        }),
    }
}

/// The broker string of `brokers` that fits `protocol`: plaintext →
/// `BootstrapBrokerString`; ssl → `…Tls`; sasl_ssl → `…SaslScram`
/// (private first, then public). MSK offers SASL only over TLS, and its IAM
/// listener needs an IAM signer librdkafka does not have.
pub fn pick_bootstrap(
    cluster_arn: &str,
    brokers: &GetBootstrapBrokersOutput,
    protocol: SecurityProtocol,
) -> Result<String, GenerateError> {
    let candidates: Vec<(&str, Option<&str>)> = match protocol {
        SecurityProtocol::Plaintext => {
            vec![("BootstrapBrokerString", brokers.bootstrap_broker_string())]
        }
        SecurityProtocol::Ssl => vec![
            (
                "BootstrapBrokerStringTls",
                brokers.bootstrap_broker_string_tls(),
            ),
            (
                "BootstrapBrokerStringPublicTls",
                brokers.bootstrap_broker_string_public_tls(),
            ),
        ],
        SecurityProtocol::SaslSsl => vec![
            (
                "BootstrapBrokerStringSaslScram",
                brokers.bootstrap_broker_string_sasl_scram(),
            ),
            (
                "BootstrapBrokerStringPublicSaslScram",
                brokers.bootstrap_broker_string_public_sasl_scram(),
            ),
        ],
        SecurityProtocol::SaslPlaintext => {
            return Err(GenerateError::Msk {
                arn: cluster_arn.to_owned(),
                message: "MSK offers SASL only over TLS: use --security-protocol sasl_ssl".into(),
            })
        }
    };
    if let Some(found) = candidates
        .iter()
        .find_map(|(_, s)| s.filter(|s| !s.trim().is_empty()))
    {
        return Ok(found.to_owned());
    }
    let offered: Vec<&str> = [
        (
            "BootstrapBrokerString (plaintext)",
            brokers.bootstrap_broker_string(),
        ),
        (
            "BootstrapBrokerStringTls (ssl)",
            brokers.bootstrap_broker_string_tls(),
        ),
        (
            "BootstrapBrokerStringSaslScram (sasl_ssl)",
            brokers.bootstrap_broker_string_sasl_scram(),
        ),
        (
            "BootstrapBrokerStringSaslIam (IAM auth, not supported)",
            brokers.bootstrap_broker_string_sasl_iam(),
        ),
    ]
    .into_iter()
    .filter(|(_, s)| s.is_some_and(|s| !s.is_empty()))
    .map(|(name, _)| name)
    .collect();
    let wanted: Vec<&str> = candidates.iter().map(|(n, _)| *n).collect();
    Err(GenerateError::Msk {
        arn: cluster_arn.to_owned(),
        message: format!(
            "no {} for --security-protocol {}; the cluster offers {}",
            wanted.join(" or "),
            protocol.name(),
            if offered.is_empty() {
                "none".to_owned()
            } else {
                offered.join(", ")
            }
        ),
    })
}

/// Asks MSK (or the API at `endpoint_url`) for the cluster's bootstrap
/// brokers and picks the ones for `protocol`. Credentials come from the
/// usual AWS chain; the region from the ARN.
pub async fn bootstrap_brokers(
    cluster_arn: &str,
    protocol: SecurityProtocol,
    endpoint_url: Option<&str>,
) -> Result<String, GenerateError> {
    let region = region_of(cluster_arn)?;
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_owned()));
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let sdk = loader.load().await;
    let client = aws_sdk_kafka::Client::new(&sdk);
    let brokers = client
        .get_bootstrap_brokers()
        .cluster_arn(cluster_arn)
        .send()
        .await
        .map_err(|e| GenerateError::Msk {
            arn: cluster_arn.to_owned(),
            message: format!("GetBootstrapBrokers failed: {}", DisplayErrorContext(&e)),
        })?;
    pick_bootstrap(cluster_arn, &brokers, protocol)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:kafka:eu-west-1:123456789012:cluster/logpipe/abc-1";

    #[test]
    fn region_comes_from_the_arn() {
        assert_eq!(region_of(ARN).unwrap(), "eu-west-1");
        let err = region_of("arn:aws:s3:::bucket").unwrap_err().to_string();
        assert!(err.contains("arn:aws:s3:::bucket"), "{err}");
    }

    #[test]
    fn picks_the_string_for_the_protocol() {
        let out = GetBootstrapBrokersOutput::builder()
            .bootstrap_broker_string("b-1:9092")
            .bootstrap_broker_string_tls("b-1:9094")
            .bootstrap_broker_string_sasl_iam("b-1:9098")
            .build();
        assert_eq!(
            pick_bootstrap(ARN, &out, SecurityProtocol::Plaintext).unwrap(),
            "b-1:9092"
        );
        assert_eq!(
            pick_bootstrap(ARN, &out, SecurityProtocol::Ssl).unwrap(),
            "b-1:9094"
        );
        let err = pick_bootstrap(ARN, &out, SecurityProtocol::SaslSsl)
            .unwrap_err()
            .to_string();
        assert!(err.contains("BootstrapBrokerStringSaslScram"), "{err}");
        assert!(err.contains("IAM auth, not supported"), "{err}");
        let public = GetBootstrapBrokersOutput::builder()
            .bootstrap_broker_string_public_sasl_scram("b-1.public:9196")
            .build();
        assert_eq!(
            pick_bootstrap(ARN, &public, SecurityProtocol::SaslSsl).unwrap(),
            "b-1.public:9196"
        );
        assert!(pick_bootstrap(ARN, &out, SecurityProtocol::SaslPlaintext).is_err());
    }
}
