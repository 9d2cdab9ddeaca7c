//! Sync sources as configured (`[sync.sources.NAME]`), resolved into what the engine and
//! the connectors need. Every mistake names the source and the key.

use std::path::PathBuf;
use std::time::Duration;

use eoffice::{
    Auth, HubConfig, OAuth2ClientCredentials, RetryPolicy, SignatureEncoding, TimestampFormat,
    VxpSigning,
};

use crate::config::SourceSettings;

#[derive(Debug, Clone)]
pub enum SourceKind {
    Hub(Box<HubConfig>),
    Folder(PathBuf),
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    pub kind: SourceKind,
    pub enabled: bool,
    pub trusted: bool,
    /// When not empty, only documents from these organs count as trusted.
    pub trusted_organs: Vec<String>,
    /// Unit of packages that name no sending organ.
    pub unit: Option<String>,
    /// Send senders a status package once their document is stored (hubs only).
    pub send_status: bool,
}

impl SourceConfig {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            SourceKind::Hub(_) => "vxp",
            SourceKind::Folder(_) => "folder",
        }
    }

    /// Why a document from `organ` is not published at once, if it is not.
    pub fn distrust(&self, organ: Option<&str>) -> Option<String> {
        if !self.trusted {
            return Some(format!(
                "Nguồn \"{}\" chưa được cấu hình là nguồn tin cậy: văn thư duyệt trước khi công khai",
                self.name
            ));
        }
        if !self.trusted_organs.is_empty()
            && !organ.is_some_and(|o| self.trusted_organs.iter().any(|t| t == o))
        {
            return Some(format!(
                "Cơ quan gửi {} không thuộc danh sách tin cậy của nguồn \"{}\": văn thư duyệt trước khi công khai",
                organ.unwrap_or("(không rõ)"),
                self.name
            ));
        }
        None
    }
}

fn secret(
    name: &str,
    direct: &Option<String>,
    env_key: &Option<String>,
    key: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    if let Some(var) = env_key {
        return env(var).filter(|v| !v.is_empty()).ok_or_else(|| {
            format!("sync.sources.{name}: environment variable {var} (from {key}_env) is not set")
        });
    }
    direct.clone().filter(|v| !v.is_empty()).ok_or_else(|| {
        format!("sync.sources.{name}: set {key}_env (an environment variable) or {key}")
    })
}

/// Resolves one source; `env` reads environment variables (secrets live there).
pub fn resolve(
    name: &str,
    s: &SourceSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SourceConfig, String> {
    let need = |value: &Option<String>, key: &str| -> Result<String, String> {
        value
            .clone()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                format!(
                    "sync.sources.{name}: {key} is required for kind = \"{}\"",
                    s.kind
                )
            })
    };
    let kind = match s.kind.as_str() {
        "vxp" => {
            let endpoint = need(&s.endpoint, "endpoint")?;
            let auth = match s.auth.as_deref().unwrap_or("hmac") {
                "none" => Auth::None,
                "hmac" => {
                    let mut signing = VxpSigning::new(
                        need(&s.system_id, "system_id")?,
                        secret(name, &s.secret, &s.secret_env, "secret", env)?,
                    );
                    if let Some(c) = &s.canonical {
                        signing.canonical = c.clone();
                    }
                    if let Some(f) = &s.timestamp_format {
                        signing.timestamp_format = TimestampFormat::parse_name(f).ok_or_else(|| {
                            format!("sync.sources.{name}: timestamp_format {f:?} is not vxp, unix, unix_ms or rfc3339")
                        })?;
                    }
                    if let Some(e) = &s.signature_encoding {
                        signing.encoding = match e.as_str() {
                            "hex" => SignatureEncoding::HexLower,
                            "base64" => SignatureEncoding::Base64,
                            other => {
                                return Err(format!(
                                    "sync.sources.{name}: signature_encoding {other:?} is not hex or base64"
                                ));
                            }
                        };
                    }
                    for (value, slot) in [
                        (&s.system_id_header, &mut signing.system_id_header),
                        (&s.timestamp_header, &mut signing.timestamp_header),
                        (&s.signature_header, &mut signing.signature_header),
                    ] {
                        if let Some(v) = value {
                            *slot = v.clone();
                        }
                    }
                    Auth::Vxp(signing)
                }
                "static" => Auth::StaticKey {
                    system_id: need(&s.system_id, "system_id")?,
                    secret_key: secret(name, &s.secret, &s.secret_env, "secret", env)?,
                },
                "oauth2" => Auth::OAuth2(OAuth2ClientCredentials {
                    token_url: need(&s.token_url, "token_url")?,
                    client_id: need(&s.client_id, "client_id")?,
                    client_secret: secret(
                        name,
                        &s.client_secret,
                        &s.client_secret_env,
                        "client_secret",
                        env,
                    )?,
                    scope: s.scope.clone(),
                }),
                other => {
                    return Err(format!(
                        "sync.sources.{name}: auth {other:?} is not none, hmac, static or oauth2"
                    ));
                }
            };
            let mut config = HubConfig::new(endpoint, auth);
            if let Some(t) = s.timeout_seconds {
                config.timeout = Duration::from_secs(t.max(1));
            }
            if let Some(r) = s.retries {
                config.retry = RetryPolicy {
                    attempts: r.max(1),
                    ..RetryPolicy::default()
                };
            }
            config.page_size = s.page_size.unwrap_or(0);
            SourceKind::Hub(Box::new(config))
        }
        "folder" => SourceKind::Folder(s.path.clone().ok_or_else(|| {
            format!("sync.sources.{name}: path is required for kind = \"folder\"")
        })?),
        other => {
            return Err(format!(
                "sync.sources.{name}: kind {other:?} is not \"vxp\" or \"folder\""
            ));
        }
    };
    Ok(SourceConfig {
        name: name.to_string(),
        kind,
        enabled: s.enabled,
        trusted: s.trusted,
        trusted_organs: s.trusted_organs.clone(),
        unit: s.unit.clone(),
        send_status: s.send_status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(kind: &str) -> SourceSettings {
        SourceSettings {
            kind: kind.into(),
            enabled: true,
            ..SourceSettings::default()
        }
    }

    #[test]
    fn mistakes_name_the_source_and_key() {
        let no_env = |_: &str| None;
        let err = resolve("tinh", &settings("vxp"), &no_env).unwrap_err();
        assert!(err.contains("sync.sources.tinh: endpoint"), "{err}");
        let mut s = settings("vxp");
        s.endpoint = Some("https://hub".into());
        s.system_id = Some("sys".into());
        s.secret_env = Some("HUB_SECRET".into());
        let err = resolve("tinh", &s, &no_env).unwrap_err();
        assert!(err.contains("HUB_SECRET"), "{err}");
        let env = |k: &str| (k == "HUB_SECRET").then(|| "s3".to_string());
        let ok = resolve("tinh", &s, &env).unwrap();
        assert!(matches!(ok.kind, SourceKind::Hub(_)));
        assert!(
            ok.distrust(Some("000.46.24.H44")).is_some(),
            "untrusted by default"
        );
        s.auth = Some("kerberos".into());
        assert!(resolve("tinh", &s, &env).unwrap_err().contains("kerberos"));
        assert!(
            resolve("x", &settings("ftp"), &no_env)
                .unwrap_err()
                .contains("ftp")
        );
        assert!(
            resolve("x", &settings("folder"), &no_env)
                .unwrap_err()
                .contains("path")
        );
    }

    #[test]
    fn trust_by_organ() {
        let mut s = settings("folder");
        s.path = Some("/tmp/x".into());
        s.trusted = true;
        s.trusted_organs = vec!["000.46.24.H44".into()];
        let source = resolve("drop", &s, &|_| None).unwrap();
        assert_eq!(source.distrust(Some("000.46.24.H44")), None);
        assert!(source.distrust(Some("000.47.24.H44")).is_some());
        assert!(source.distrust(None).is_some());
    }
}
