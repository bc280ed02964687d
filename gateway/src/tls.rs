//! TLS for `wss://`: rustls with TLS 1.2 and 1.3 only, certificate and key from PEM.

use std::io::{BufReader, Error, ErrorKind};
use std::sync::Arc;

use rustls::ServerConfig;

use crate::config::TlsFiles;

/// The rustls server configuration for the given files.
pub fn server_config(files: &TlsFiles) -> std::io::Result<Arc<ServerConfig>> {
    let certs = rustls_pemfile::certs(&mut BufReader::new(std::fs::File::open(&files.cert)?))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidData,
            "TLS_CERT holds no certificate",
        ));
    }
    let key = rustls_pemfile::private_key(&mut BufReader::new(std::fs::File::open(&files.key)?))?
        .ok_or_else(|| Error::new(ErrorKind::InvalidData, "TLS_KEY holds no private key"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::new(ErrorKind::InvalidInput, e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::new(ErrorKind::InvalidData, e))?;
    Ok(Arc::new(config))
}
