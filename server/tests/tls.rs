//! A telemetry backend behind a private CA: with `ca_file` the client trusts it, without it
//! the query fails as "unavailable" (never a panic). The certificate is made for the test by
//! the `openssl` command line; the endpoint is a real TLS server on a free loopback port.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sentinel::telemetry::MetricSource;
use sentinel::telemetry::prometheus::PrometheusMetrics;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn openssl(args: &[&str], dir: &Path) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is on the machine (Debian base)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A private CA and a server certificate for 127.0.0.1 it signed, as PEM files in `dir`:
/// (the CA, the server's certificate, the server's key).
fn make_cert(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-days",
        "2",
        "-subj",
        "/CN=sentinel-test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&ca, dir);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    openssl(&csr, dir);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.pem",
        ],
        dir,
    );
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

/// A TLS server answering every request with an empty Prometheus label list.
async fn tls_server(cert: &Path, key: &Path) -> String {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"status":"success","data":[]}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{}", addr.port())
}

fn source(url: &str, ca: Vec<reqwest::Certificate>) -> PrometheusMetrics {
    let client = sentinel::telemetry::http_client(Duration::from_secs(5), ca).unwrap();
    PrometheusMetrics::new(url, None, client, BTreeMap::new()).unwrap()
}

#[tokio::test]
async fn a_private_ca_is_trusted_only_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_cert(dir.path());
    let url = tls_server(&cert, &key).await;
    let since = chrono::Utc::now() - chrono::Duration::hours(1);
    let trusted = source(&url, sentinel::telemetry::read_ca_file(&ca).unwrap());
    let got = trusted.metrics(Some("checkout"), None, since).await;
    assert!(got.is_ok(), "with the CA the query goes through: {got:?}");
    let untrusted = source(&url, vec![]);
    let err = untrusted
        .metrics(Some("checkout"), None, since)
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.is_empty());
}

#[test]
fn a_bad_ca_file_is_an_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    for (ca, want) in [
        (junk.display().to_string(), "no certificate"),
        (
            dir.path().join("missing.pem").display().to_string(),
            "cannot read",
        ),
    ] {
        let text = format!(
            "[metrics]\nkind = \"prometheus\"\nurl = \"https://prom:9090\"\nca_file = \"{ca}\"\n"
        );
        let e = sentinel::config::FileConfig::parse(Path::new("sentinel.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("metrics.ca_file") && e.contains(want), "{e}");
    }
    let e = sentinel::config::FileConfig::parse(
        Path::new("sentinel.toml"),
        "[logs]\nkind = \"files\"\npaths = [\"/var/log/*.log\"]\ntimezone = \"Mars/Olympus\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("logs.timezone"), "{e}");
}
