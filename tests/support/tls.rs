//! An https host for the tests: a TLS front on a loopback port, with a certificate made
//! for the test by its own authority (written as `ca.pem` for `ca_file`), passing each
//! connection on to a host's plain loopback endpoint, as a reverse proxy would.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct TlsFront {
    /// `https://localhost:PORT` (add the path).
    pub origin: String,
    /// The authority's certificate, PEM: what `ca_file` names.
    pub ca_file: PathBuf,
    /// A certificate no one here trusts: the same front, another authority.
    pub stranger_ca_file: PathBuf,
    _dir: tempfile::TempDir,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TlsFront {
    /// A front for `backend` (a host's `http://127.0.0.1:PORT`), its certificate made
    /// for `localhost` and `127.0.0.1`.
    pub fn new(backend: SocketAddr) -> TlsFront {
        let dir = tempfile::tempdir().unwrap();
        let (ca_pem, chain, key) = authority_and_leaf();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca_pem).unwrap();
        let (stranger_pem, _, _) = authority_and_leaf();
        let stranger_ca_file = dir.path().join("stranger.pem");
        std::fs::write(&stranger_ca_file, stranger_pem).unwrap();

        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refused the certificate ends here.
                    let Ok(mut tls) = acceptor.accept(socket).await else { return };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront { origin: format!("https://localhost:{port}"), ca_file, stranger_ca_file, _dir: dir, runtime: Some(runtime) }
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A new authority's certificate (PEM), and a certificate it signed for `localhost`
/// and `127.0.0.1` with its key.
fn authority_and_leaf() -> (String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "codex-async test authority");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_params = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    (ca.pem(), vec![leaf.der().clone(), ca.der().clone()], key)
}
