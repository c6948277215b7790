//! A throw-away certificate authority and a server certificate for
//! `127.0.0.1` and `localhost`, as PEM files both JVMs read
//! (Cassandra's `PEMBasedSslContextFactory`, Kafka's `ssl.keystore.type=PEM`)
//! and clients trust through the CA file.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

use crate::process::{write_file, StartError};

/// A test CA and the server certificate it signed, written to a directory.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The CA certificate (what a client trusts).
    pub ca_pem: PathBuf,
    /// The server's certificate chain.
    pub server_cert_pem: PathBuf,
    /// The server's private key (PKCS#8, unencrypted).
    pub server_key_pem: PathBuf,
    /// Key then certificate in one file (a PEM keystore).
    pub server_keystore_pem: PathBuf,
}

impl TestCa {
    /// Makes a CA and a server certificate for `127.0.0.1` and `localhost`
    /// and writes them into `dir`.
    pub fn create(server: &'static str, dir: &Path) -> Result<TestCa, StartError> {
        let fail = |e: rcgen::Error| StartError::Setup {
            server,
            what: format!("cannot make the test certificates: {e}"),
        };
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "logpipe test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(fail)?)
            .map_err(fail)?;

        let key = KeyPair::generate().map_err(fail)?;
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .map_err(fail)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = params.signed_by(&key, &ca).map_err(fail)?;

        let out = TestCa {
            ca_pem: dir.join("ca.pem"),
            server_cert_pem: dir.join("server.crt.pem"),
            server_key_pem: dir.join("server.key.pem"),
            server_keystore_pem: dir.join("server.keystore.pem"),
        };
        let chain = format!("{}{}", cert.pem(), ca.pem());
        write_file(server, &out.ca_pem, &ca.pem())?;
        write_file(server, &out.server_cert_pem, &chain)?;
        write_file(server, &out.server_key_pem, &key.serialize_pem())?;
        write_file(
            server,
            &out.server_keystore_pem,
            &format!("{}{chain}", key.serialize_pem()),
        )?;
        Ok(out)
    }
}
