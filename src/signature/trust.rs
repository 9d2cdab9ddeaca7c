//! Trust anchors (root certificates as PEM files in configured folders) and building a
//! chain from a signer's certificate to one of them, each link's signature checked.
//! Offline: revocation (CRL, OCSP) is not checked, and results say so.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use der::Encode;
use serde::{Deserialize, Serialize};

use super::cms::{DigestAlg, RawCertificate, display_name, verify_signature};

#[derive(Debug, Default)]
pub struct TrustStore {
    anchors: Vec<RawCertificate>,
    /// Folders read, and files that could not be read (reported by `vanban doctor`).
    pub sources: Vec<PathBuf>,
    pub problems: Vec<String>,
}

/// How far a signer's certificate chains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChainStatus {
    /// Every link verified up to a configured anchor.
    Trusted { anchor: String },
    /// The chain ends at a self-signed root that is not a configured anchor.
    UntrustedRoot { root: String },
    /// No certificate of the issuer is in the signature or among the anchors.
    IssuerUnknown { issuer: String },
    /// A link's signature does not verify.
    Broken { detail: String },
    /// No trust anchors are configured: nothing can be trusted.
    NoTrustAnchors,
}

impl ChainStatus {
    /// For people (Vietnamese).
    pub fn label(&self) -> String {
        match self {
            ChainStatus::Trusted { anchor } => format!("Tin cậy (gốc: {anchor})"),
            ChainStatus::UntrustedRoot { root } => format!("Chứng thư gốc không tin cậy ({root})"),
            ChainStatus::IssuerUnknown { issuer } => {
                format!("Không xác định tổ chức cấp ({issuer})")
            }
            ChainStatus::Broken { .. } => "Chuỗi chứng thư không hợp lệ".into(),
            ChainStatus::NoTrustAnchors => "Chưa đối chiếu (chưa cấu hình chứng thư gốc)".into(),
        }
    }
}

impl TrustStore {
    pub fn empty() -> TrustStore {
        TrustStore::default()
    }

    /// Reads every `*.pem`, `*.crt` and `*.cer` (PEM or DER) directly in each folder.
    pub fn load(dirs: &[PathBuf]) -> TrustStore {
        let mut store = TrustStore::default();
        for dir in dirs {
            store.sources.push(dir.clone());
            let entries = match std::fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) => {
                    store.problems.push(format!("{}: {e}", dir.display()));
                    continue;
                }
            };
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for path in paths {
                let ext = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .map(str::to_ascii_lowercase);
                if !matches!(ext.as_deref(), Some("pem" | "crt" | "cer")) || !path.is_file() {
                    continue;
                }
                match store.add_file(&path) {
                    Ok(0) => store
                        .problems
                        .push(format!("{}: no certificate", path.display())),
                    Ok(_) => {}
                    Err(e) => store.problems.push(format!("{}: {e}", path.display())),
                }
            }
        }
        store
    }

    fn add_file(&mut self, path: &Path) -> Result<usize, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let ders: Vec<Vec<u8>> = if bytes.windows(10).any(|w| w == b"-----BEGIN") {
            x509_cert::Certificate::load_pem_chain(&bytes)
                .map_err(|e| format!("PEM unreadable: {e}"))?
                .iter()
                .map(|c| c.to_der().map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?
        } else {
            vec![bytes]
        };
        let n = ders.len();
        for der in ders {
            self.anchors.push(RawCertificate::from_der(&der)?);
        }
        Ok(n)
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Anchor names, for `vanban doctor`.
    pub fn names(&self) -> Vec<String> {
        self.anchors
            .iter()
            .map(|a| display_name(a.cert.tbs_certificate().subject()))
            .collect()
    }

    /// Builds and checks the chain from `leaf`, using `intermediates` (the certificates
    /// the signature carries) and the anchors.
    pub fn chain(&self, leaf: &RawCertificate, intermediates: &[RawCertificate]) -> ChainStatus {
        let is_anchor = |c: &RawCertificate| self.anchors.iter().any(|a| a.der == c.der);
        let mut current = leaf.clone();
        for _ in 0..10 {
            if is_anchor(&current) {
                return ChainStatus::Trusted {
                    anchor: display_name(current.cert.tbs_certificate().subject()),
                };
            }
            let tbs = current.cert.tbs_certificate();
            let issuer_name = tbs.issuer();
            let candidates: Vec<&RawCertificate> = self
                .anchors
                .iter()
                .chain(intermediates.iter())
                .filter(|c| {
                    c.cert.tbs_certificate().subject() == issuer_name && c.der != current.der
                })
                .collect();
            let self_signed = tbs.subject() == issuer_name;
            let mut next = None;
            let mut failure = None;
            for candidate in candidates {
                match check_link(&current, candidate) {
                    Ok(()) => {
                        next = Some(candidate.clone());
                        break;
                    }
                    Err(e) => failure = Some(e),
                }
            }
            match next {
                Some(issuer) if is_anchor(&issuer) => {
                    return ChainStatus::Trusted {
                        anchor: display_name(issuer.cert.tbs_certificate().subject()),
                    };
                }
                Some(issuer) => current = issuer,
                None if self_signed => {
                    if self.anchors.is_empty() {
                        return ChainStatus::NoTrustAnchors;
                    }
                    return match check_link(&current, &current) {
                        Ok(()) => ChainStatus::UntrustedRoot {
                            root: display_name(tbs.subject()),
                        },
                        Err(detail) => ChainStatus::Broken { detail },
                    };
                }
                None => {
                    if let Some(detail) = failure {
                        return ChainStatus::Broken { detail };
                    }
                    if self.anchors.is_empty() {
                        return ChainStatus::NoTrustAnchors;
                    }
                    return ChainStatus::IssuerUnknown {
                        issuer: display_name(issuer_name),
                    };
                }
            }
        }
        ChainStatus::Broken {
            detail: "certificate chain longer than 10 links".into(),
        }
    }
}

/// Whether `issuer`'s key signed `cert`.
fn check_link(cert: &RawCertificate, issuer: &RawCertificate) -> Result<(), String> {
    let tbs = cert
        .tbs_der()
        .ok_or_else(|| "certificate encoding unreadable".to_string())?;
    let algorithm = cert.cert.signature_algorithm();
    let signature = cert
        .cert
        .signature()
        .as_bytes()
        .ok_or_else(|| "certificate signature is not whole bytes".to_string())?;
    verify_signature(
        issuer.cert.tbs_certificate().subject_public_key_info(),
        algorithm,
        DigestAlg::Sha256,
        tbs,
        signature,
    )
    .map(|_| ())
    .map_err(|e| {
        format!(
            "the signature of {} by {} does not verify ({e:?})",
            display_name(cert.cert.tbs_certificate().subject()),
            display_name(issuer.cert.tbs_certificate().subject())
        )
    })
}

static GLOBAL: OnceLock<TrustStore> = OnceLock::new();

/// Sets the process's trust anchors (once, at start-up); later calls are ignored.
pub fn install(store: TrustStore) {
    let _ = GLOBAL.set(store);
}

/// The process's trust anchors (none until [`install`] is called).
pub fn global() -> &'static TrustStore {
    GLOBAL.get_or_init(TrustStore::empty)
}
