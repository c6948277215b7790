//! TLS to Cassandra, ScyllaDB and Amazon Keyspaces with rustls.
//!
//! The driver connects to nodes by IP address, so certificates would be
//! checked against an IP. Instead every node's certificate is checked
//! against one host name (the configured server name, or the first contact
//! point's host): hostname verification stays on.

use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::TlsSettings;

/// TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read CA file {path}: {source}")]
    CaFile {
        path: String,
        source: std::io::Error,
    },
    #[error("CA file {0} holds no certificate")]
    EmptyCaFile(String),
    #[error("invalid TLS server name {0:?}")]
    ServerName(String),
    #[error("TLS set-up failed: {0}")]
    Rustls(String),
}

/// Builds the client configuration. `default_host` is the host part of the
/// first contact point, used when no server name is configured.
pub fn client_config(
    settings: &TlsSettings,
    default_host: &str,
) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    match &settings.ca_file {
        Some(path) => {
            let shown = path.display().to_string();
            let file = File::open(path).map_err(|source| TlsSetupError::CaFile {
                path: shown.clone(),
                source,
            })?;
            for cert in rustls_pemfile::certs(&mut BufReader::new(file)) {
                let cert = cert.map_err(|source| TlsSetupError::CaFile {
                    path: shown.clone(),
                    source,
                })?;
                roots
                    .add(cert)
                    .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(TlsSetupError::EmptyCaFile(shown));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let name = settings
        .server_name
        .as_deref()
        .unwrap_or(default_host)
        .to_owned();
    let server_name =
        ServerName::try_from(name.clone()).map_err(|_| TlsSetupError::ServerName(name))?;
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(FixedNameVerifier { inner, server_name }))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Verifies the chain and checks it against one fixed host name.
#[derive(Debug)]
struct FixedNameVerifier {
    inner: Arc<WebPkiServerVerifier>,
    server_name: ServerName<'static>,
}

impl ServerCertVerifier for FixedNameVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _connected_to: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner.verify_server_cert(
            end_entity,
            intermediates,
            &self.server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
