//! Layered configuration: `config/default.toml` (compiled in) → optional `--config FILE` →
//! environment variables `VANBAN__SECTION__KEY`. Keys the defaults do not know are reported.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Table, Value};

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub web: WebSettings,
    pub storage: StorageSettings,
    pub extraction: ExtractionSettings,
    pub ingest: IngestSettings,
    pub publication: PublicationSettings,
    pub sync: SyncSettings,
    pub admin: AdminSettings,
    pub signatures: SignatureSettings,
    pub jobs: JobSettings,
    pub desk: DeskSettings,
}

/// Durable background jobs (`crate::jobs`).
#[derive(Debug, Clone, Deserialize)]
pub struct JobSettings {
    /// Workers; 0 = one per CPU core.
    pub workers: usize,
    pub max_attempts: u32,
    pub retry_base_seconds: u64,
    pub lease_seconds: u64,
    pub poll_seconds: u64,
}

impl JobSettings {
    /// The number of workers to run.
    pub fn worker_count(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub listen: String,
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// A client must send a whole request head within this many seconds of connecting or
    /// of its previous answer (so it also bounds idle keep-alive connections).
    pub header_timeout_seconds: u64,
    /// A request must be answered within this many seconds (503 otherwise).
    pub request_timeout_seconds: u64,
    /// The same for desk uploads (`POST /desk/upload`), which may carry many files over a
    /// slow office link.
    pub upload_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebSettings {
    pub public_base_url: String,
    /// Peer addresses (reverse proxies) whose `X-Forwarded-Host`/`-Proto` are believed.
    pub trusted_proxies: Vec<String>,
    /// `host[:port]` values absolute links may name when taken from a request.
    pub allowed_hosts: Vec<String>,
    pub cors_allowed_origins: Vec<String>,
    pub site_name: String,
    pub cache_max_age: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExtractionSettings {
    pub max_file_bytes: u64,
    pub max_seconds: u64,
    pub max_pages: u64,
    pub max_glyphs: u64,
    pub max_decoded_bytes: u64,
    /// Desk uploads: all files of one request together.
    pub max_upload_request_bytes: u64,
    /// Desk uploads: pixels on one image page.
    pub max_image_pixels: u64,
}

impl ExtractionSettings {
    /// The per-document extraction budget these settings describe.
    pub fn budget(&self) -> crate::pdf::Budget {
        crate::pdf::Budget {
            max_time: std::time::Duration::from_secs(self.max_seconds),
            max_pages: self.max_pages,
            max_glyphs: self.max_glyphs,
            max_decoded_bytes: self.max_decoded_bytes,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct IngestSettings {
    pub default_unit: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PublicationSettings {
    pub public_types: Vec<String>,
    pub require_trusted_signature: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SignatureSettings {
    pub trust_anchors: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SyncSettings {
    pub scheduler: bool,
    pub nightly: String,
    pub incremental: String,
    pub timezone: String,
    pub concurrency: usize,
    pub max_attempts: u32,
    pub retry_base_seconds: u64,
    pub lease_seconds: u64,
    pub folder_settle_seconds: u64,
    pub sources: std::collections::BTreeMap<String, SourceSettings>,
}

impl SyncSettings {
    /// The schedules' time zone as a UTC offset. Vietnam has no daylight saving, so the
    /// zone name maps to a fixed +07:00 and no time-zone database is needed.
    pub fn offset(&self) -> Result<chrono::FixedOffset, String> {
        let tz = self.timezone.trim();
        if tz.eq_ignore_ascii_case("Asia/Ho_Chi_Minh") || tz.eq_ignore_ascii_case("Asia/Saigon") {
            return Ok(chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset"));
        }
        if tz.eq_ignore_ascii_case("UTC") || tz == "Z" {
            return Ok(chrono::FixedOffset::east_opt(0).expect("valid offset"));
        }
        let (sign, rest) = match tz.as_bytes().first() {
            Some(b'+') => (1, &tz[1..]),
            Some(b'-') => (-1, &tz[1..]),
            _ => {
                return Err(format!(
                    "sync.timezone {tz:?}: expected Asia/Ho_Chi_Minh, UTC or ±HH:MM"
                ));
            }
        };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let (Ok(h), Ok(m)) = (h.parse::<i32>(), m.parse::<i32>()) else {
            return Err(format!("sync.timezone {tz:?}: expected ±HH:MM"));
        };
        chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60))
            .ok_or_else(|| format!("sync.timezone {tz:?} is out of range"))
    }
}

/// One sync source (`[sync.sources.NAME]`); see config/default.toml for the keys.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SourceSettings {
    pub kind: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub trusted: bool,
    #[serde(default)]
    pub trusted_organs: Vec<String>,
    #[serde(default)]
    pub unit: Option<String>,
    /// Send the sender a status package (`sendEdoc`, StatusCode 01) once a document from
    /// it is stored; failed sends are retried by later runs.
    #[serde(default)]
    pub send_status: bool,
    // vxp
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub auth: Option<String>,
    #[serde(default)]
    pub system_id: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default)]
    pub canonical: Option<String>,
    #[serde(default)]
    pub timestamp_format: Option<String>,
    #[serde(default)]
    pub signature_encoding: Option<String>,
    #[serde(default)]
    pub system_id_header: Option<String>,
    #[serde(default)]
    pub timestamp_header: Option<String>,
    #[serde(default)]
    pub signature_header: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub client_secret_env: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub page_size: Option<u32>,
    // folder
    #[serde(default)]
    pub path: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

/// The clerk desk (`/desk/`): sessions, sign-in throttling, and the units seeded at start.
#[derive(Debug, Clone, Deserialize)]
pub struct DeskSettings {
    /// A session unused for this long ends.
    pub session_idle_minutes: u64,
    /// A session ends this long after sign-in, however active.
    pub session_max_hours: u64,
    /// Failed sign-ins in a row that lock an account for `lockout_minutes`.
    pub login_max_failures: u32,
    /// Failed sign-ins from one client address (any account) within `lockout_minutes`
    /// that lock the address out for `lockout_minutes`.
    pub login_max_failures_per_client: u32,
    pub lockout_minutes: u64,
    /// Units created at start when missing (`[[desk.units]]`); existing ones are left as
    /// an administrator changed them.
    pub units: Vec<UnitSetting>,
}

/// One configured unit: organ code, name, and the organ code of its parent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSetting {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub parent: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AdminSettings {
    pub tokens: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("environment variable {name}: {reason}")]
    Env { name: String, reason: String },
    #[error("invalid configuration: {0}")]
    Invalid(#[from] toml::de::Error),
}

/// Settings plus the warnings produced while loading them (unknown keys).
pub struct Loaded {
    pub settings: Settings,
    pub warnings: Vec<String>,
}

impl Settings {
    /// Loads defaults, then `file`, then variables from `env` (pass `std::env::vars()`).
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Loaded, ConfigError> {
        let defaults: Table = DEFAULT_TOML
            .parse()
            .expect("config/default.toml is valid TOML");
        let mut merged = defaults.clone();
        let mut warnings = Vec::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let overlay: Table = text.parse().map_err(|source| ConfigError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
            merge(
                &mut merged,
                overlay,
                &defaults,
                &path.display().to_string(),
                "",
                &mut warnings,
            );
        }
        let mut env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("VANBAN__"))
            .collect();
        env.sort();
        for (name, raw) in env {
            let path: Vec<String> = name["VANBAN__".len()..]
                .split("__")
                .map(|s| s.to_ascii_lowercase())
                .collect();
            let [section, key] = path.as_slice() else {
                warnings.push(format!("ignoring {name}: expected VANBAN__SECTION__KEY"));
                continue;
            };
            let Some(default) = defaults
                .get(section)
                .and_then(Value::as_table)
                .and_then(|t| t.get(key))
            else {
                warnings.push(format!(
                    "unknown setting {section}.{key} (from {name}) ignored"
                ));
                continue;
            };
            let value = env_value(default, &raw).map_err(|reason| ConfigError::Env {
                name: name.clone(),
                reason,
            })?;
            if let Some(table) = merged.get_mut(section).and_then(Value::as_table_mut) {
                table.insert(key.clone(), value);
            }
        }
        let settings: Settings = Value::Table(merged).try_into()?;
        Ok(Loaded { settings, warnings })
    }

    pub fn database_url(&self) -> String {
        if self.storage.database_url.trim().is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.storage.data_dir.join("vanban.db").display()
            )
        } else {
            self.storage.database_url.clone()
        }
    }

    pub fn blob_dir(&self) -> PathBuf {
        self.storage.data_dir.join("blobs")
    }

    pub fn index_dir(&self) -> PathBuf {
        self.storage.data_dir.join("index")
    }
}

/// An environment value typed like the default it replaces.
fn env_value(default: &Value, raw: &str) -> Result<Value, String> {
    Ok(match default {
        Value::Integer(_) => Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| format!("expected an integer, got {raw:?}"))?,
        ),
        Value::Boolean(_) => Value::Boolean(
            raw.trim()
                .parse()
                .map_err(|_| format!("expected true or false, got {raw:?}"))?,
        ),
        Value::Float(_) => Value::Float(
            raw.trim()
                .parse()
                .map_err(|_| format!("expected a number, got {raw:?}"))?,
        ),
        Value::Array(_) => Value::Array(
            raw.split(',')
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.into()))
                .collect(),
        ),
        _ => Value::String(raw.to_string()),
    })
}

fn merge(
    into: &mut Table,
    overlay: Table,
    defaults: &Table,
    origin: &str,
    prefix: &str,
    warnings: &mut Vec<String>,
) {
    for (key, value) in overlay {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (defaults.get(&key), value) {
            // An empty table in the defaults is a map the user fills (`sync.sources`):
            // its keys are names, not settings, and are checked when deserialised.
            (Some(Value::Table(default_table)), Value::Table(overlay_table))
                if default_table.is_empty() =>
            {
                into.insert(key, Value::Table(overlay_table));
            }
            (Some(Value::Table(default_table)), Value::Table(overlay_table)) => {
                let entry = into
                    .entry(key.clone())
                    .or_insert_with(|| Value::Table(Table::new()));
                if let Value::Table(target) = entry {
                    merge(
                        target,
                        overlay_table,
                        default_table,
                        origin,
                        &full,
                        warnings,
                    );
                }
            }
            (Some(_), value) => {
                into.insert(key, value);
            }
            (None, _) => warnings.push(format!("unknown setting {full} in {origin} ignored")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_and_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.toml");
        std::fs::write(
            &file,
            "[server]\nlisten = \"0.0.0.0:9000\"\ncolour = \"blue\"\n[extra]\nx = 1\n",
        )
        .unwrap();
        let env = vec![
            (
                "VANBAN__STORAGE__MAX_CONNECTIONS".to_string(),
                "3".to_string(),
            ),
            ("VANBAN__STORAGE__NOPE".to_string(), "1".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let loaded = Settings::load(Some(&file), env).unwrap();
        assert_eq!(loaded.settings.server.listen, "0.0.0.0:9000");
        assert_eq!(loaded.settings.storage.max_connections, 3);
        assert_eq!(loaded.warnings.len(), 3, "{:?}", loaded.warnings);
        assert!(loaded.warnings.iter().any(|w| w.contains("server.colour")));
    }

    #[test]
    fn the_default_budget_is_the_configured_default() {
        let loaded = Settings::load(None, Vec::new()).unwrap();
        assert_eq!(
            loaded.settings.extraction.budget(),
            crate::pdf::Budget::default()
        );
    }

    #[test]
    fn env_type_errors_are_reported() {
        let env = vec![(
            "VANBAN__STORAGE__MAX_CONNECTIONS".to_string(),
            "many".to_string(),
        )];
        let err = Settings::load(None, env).err().expect("error");
        assert!(err.to_string().contains("VANBAN__STORAGE__MAX_CONNECTIONS"));
    }
}
