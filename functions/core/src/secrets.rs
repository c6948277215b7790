//! Cassandra credentials from AWS Secrets Manager, read once per Lambda
//! container (when the sink connects) and never logged.

use serde::Deserialize;

/// The secret could not be read or is not `{"username","password"}`.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read secret {arn}: {message}")]
    Fetch { arn: String, message: String },
    #[error("secret {arn} has no SecretString")]
    NoString { arn: String },
    #[error("secret {arn} is not a JSON object with \"username\" and \"password\" strings")]
    Shape { arn: String },
}

#[derive(Deserialize)]
struct UserPass {
    username: String,
    password: String,
}

/// Parses a secret's text: `{"username": "...", "password": "..."}`.
pub fn parse_secret(arn: &str, text: &str) -> Result<(String, String), SecretError> {
    serde_json::from_str::<UserPass>(text)
        .map(|u| (u.username, u.password))
        .map_err(|_| SecretError::Shape {
            arn: arn.to_owned(),
        })
}

/// Reads username and password from the secret `arn`. The AWS endpoint,
/// region and credentials come from the usual AWS environment
/// (`AWS_REGION`, `AWS_ENDPOINT_URL`, the Lambda role).
pub async fn fetch_credentials(arn: &str) -> Result<(String, String), SecretError> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretError::Fetch {
            arn: arn.to_owned(),
            message: aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string(),
        })?;
    let text = out.secret_string().ok_or_else(|| SecretError::NoString {
        arn: arn.to_owned(),
    })?;
    parse_secret(arn, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_user_and_password_only_from_the_expected_shape() {
        assert_eq!(
            parse_secret(
                "a",
                r#"{"username":"u","password":"p","engine":"cassandra"}"#
            )
            .unwrap(),
            ("u".to_owned(), "p".to_owned())
        );
        let err = parse_secret("arn:x", r#"{"user":"u"}"#).unwrap_err();
        assert!(err.to_string().contains("arn:x"));
        assert!(!err.to_string().contains("\"u\""));
    }
}
