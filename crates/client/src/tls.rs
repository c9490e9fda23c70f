//! TLS client configuration for `rtmps://`: the system's roots, a CA file, or (for test
//! servers) no certificate check. rustls with the ring provider.

use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::ClientError;
use crate::options::TlsOptions;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(options: &TlsOptions) -> Result<RootCertStore, ClientError> {
    let mut store = RootCertStore::empty();
    if let Some(path) = &options.ca_file {
        let file = File::open(path).map_err(|e| {
            ClientError::TlsConfig(format!("cannot open CA file {}: {e}", path.display()))
        })?;
        let mut count = 0;
        for cert in rustls_pemfile::certs(&mut BufReader::new(file)) {
            let cert = cert
                .map_err(|e| ClientError::TlsConfig(format!("CA file {}: {e}", path.display())))?;
            store
                .add(cert)
                .map_err(|e| ClientError::TlsConfig(format!("CA file {}: {e}", path.display())))?;
            count += 1;
        }
        if count == 0 {
            return Err(ClientError::TlsConfig(format!(
                "CA file {} holds no PEM certificate",
                path.display()
            )));
        }
        return Ok(store);
    }
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(ClientError::TlsConfig(format!(
            "no usable system root certificates{why} (use --ca FILE)"
        )));
    }
    Ok(store)
}

/// The rustls client configuration for `options`.
pub fn client_config(options: &TlsOptions) -> Result<Arc<ClientConfig>, ClientError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::TlsConfig(e.to_string()))?;
    let config = if options.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(roots(options)?)
            .with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// The name the certificate must carry (an IP address or a DNS name).
pub fn server_name(host: &str, options: &TlsOptions) -> Result<ServerName<'static>, ClientError> {
    let name = options.server_name.as_deref().unwrap_or(host);
    ServerName::try_from(name.to_owned())
        .map_err(|e| ClientError::TlsConfig(format!("'{name}' is not a valid server name: {e}")))
}

/// `--insecure`: accepts whatever certificate the server shows, still checking that the
/// handshake is signed by its key.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
