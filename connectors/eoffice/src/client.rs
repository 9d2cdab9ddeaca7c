//! The hub client: the VXP verbs (`getReceivedEdocList`, `getSentEdocList`, `getEdoc`,
//! `updateStatus`, `sendEdoc`, `getAgenciesList`) as POSTs whose parameters travel as
//! headers, answered with JSON envelopes (or the edXML bytes for `getEdoc`).
//!
//! Failure handling, because hubs are slow, flaky and sometimes down for hours:
//! every request has a timeout; 5xx answers, 429, timeouts, refused connections and cut
//! bodies are retried with exponential backoff and full jitter (idempotent verbs only:
//! `sendEdoc` is retried only when the request never left); 4xx answers and `FAIL`
//! envelopes are not retried; and a circuit breaker stops calling a hub that failed
//! several operations in a row until a cool-down has passed, then lets one trial through.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::Value;

use crate::auth::{Auth, OAuth2ClientCredentials, RequestParts};
use crate::model::{AckStatus, EdocSummary, Envelope};

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum HubError {
    #[error("hub unreachable or answer cut short: {0}")]
    Transport(String),
    #[error("hub answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("hub refused the request (code {code:?}): {description}")]
    Refused { code: String, description: String },
    #[error("hub answer is malformed: {0}")]
    Malformed(String),
    #[error("authentication with the hub failed: {0}")]
    Auth(String),
    #[error(
        "hub circuit open after {failures} failed operations in a row; next try in {retry_in_secs} s"
    )]
    CircuitOpen { failures: u32, retry_in_secs: u64 },
    #[error("invalid hub configuration: {0}")]
    Config(String),
}

impl HubError {
    /// Whether a later attempt may succeed (the sync engine retries these on later runs).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HubError::Transport(_)
                | HubError::CircuitOpen { .. }
                | HubError::Http { status: 500.., .. }
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries per operation, the first included.
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct CircuitPolicy {
    /// Operations failing in a row (after their retries) that open the circuit.
    pub failures_to_open: u32,
    /// How long an open circuit refuses calls before letting one trial through.
    pub open_for: Duration,
}

impl Default for CircuitPolicy {
    fn default() -> Self {
        CircuitPolicy {
            failures_to_open: 5,
            open_for: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Base URL the verbs are appended to: `https://hub.example/` or `…/v1` for LGSP.
    pub endpoint: String,
    pub auth: Auth,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    pub circuit: CircuitPolicy,
    /// Entries per list page (`page`/`pagesize` headers); 0 when the hub does not page.
    pub page_size: u32,
    /// `servicetype` header of list requests.
    pub service_type: String,
    /// `messagetype` header of list requests (`edoc`; `status` for status packages).
    pub message_type: String,
}

impl HubConfig {
    pub fn new(endpoint: impl Into<String>, auth: Auth) -> HubConfig {
        HubConfig {
            endpoint: endpoint.into(),
            auth,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            circuit: CircuitPolicy::default(),
            page_size: 0,
            service_type: "eDoc".into(),
            message_type: "edoc".into(),
        }
    }
}

#[derive(Debug)]
enum Circuit {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
        failures: u32,
    },
    /// One trial call is in flight; others are refused until it ends.
    HalfOpen {
        failures: u32,
    },
}

struct CachedToken {
    value: String,
    expires_at: Instant,
}

pub struct HubClient {
    http: reqwest::Client,
    config: HubConfig,
    circuit: Mutex<Circuit>,
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

/// A verb and its parameter headers.
struct Call<'a> {
    verb: &'a str,
    headers: Vec<(&'a str, String)>,
    body: Vec<u8>,
    content_type: &'a str,
    doc_id: &'a str,
    idempotent: bool,
}

/// A successful answer.
struct Answer {
    content_type: String,
    body: Vec<u8>,
}

enum Attempt {
    Done(Answer),
    /// Worth another try (after `after`, when the hub said how long).
    Retry(HubError, Option<Duration>),
    Fail(HubError),
}

/// Installs the process-wide rustls provider (ring) once; reqwest takes it from there.
fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl HubClient {
    pub fn new(config: HubConfig) -> Result<HubClient, HubError> {
        install_tls_provider();
        if !(config.endpoint.starts_with("http://") || config.endpoint.starts_with("https://")) {
            return Err(HubError::Config(format!(
                "endpoint {:?} is not an http(s) URL",
                config.endpoint
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("vanban-eoffice/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HubError::Config(format!("HTTP client: {e}")))?;
        Ok(HubClient {
            http,
            config,
            circuit: Mutex::new(Circuit::Closed { failures: 0 }),
            token: tokio::sync::Mutex::new(None),
        })
    }

    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    fn url(&self, verb: &str) -> String {
        format!("{}/{verb}", self.config.endpoint.trim_end_matches('/'))
    }

    /// Pending documents addressed to this system (every page).
    pub async fn received_list(&self) -> Result<Vec<EdocSummary>, HubError> {
        self.list("getReceivedEdocList").await
    }

    /// Documents this system sent, with their delivery status.
    pub async fn sent_list(&self) -> Result<Vec<EdocSummary>, HubError> {
        self.list("getSentEdocList").await
    }

    async fn list(&self, verb: &str) -> Result<Vec<EdocSummary>, HubError> {
        let mut out: Vec<EdocSummary> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut page = 1u32;
        loop {
            let mut headers = vec![
                ("servicetype", self.config.service_type.clone()),
                ("messagetype", self.config.message_type.clone()),
            ];
            if self.config.page_size > 0 {
                headers.push(("page", page.to_string()));
                headers.push(("pagesize", self.config.page_size.to_string()));
            }
            let answer = self
                .call(Call {
                    verb,
                    headers,
                    body: Vec::new(),
                    content_type: "application/json",
                    doc_id: "",
                    idempotent: true,
                })
                .await?;
            let envelope = envelope_of(&answer)?;
            let entries = match &envelope.data {
                Some(Value::Array(items)) => items.clone(),
                Some(Value::Null) | None => Vec::new(),
                // Some gateways double-encode the list as a JSON string.
                Some(Value::String(s)) => serde_json::from_str::<Vec<Value>>(s)
                    .map_err(|e| HubError::Malformed(format!("data is not a list: {e}")))?,
                Some(other) => {
                    return Err(HubError::Malformed(format!(
                        "data is not a list but {}",
                        kind_of(other)
                    )));
                }
            };
            let count = entries.len();
            let mut fresh = 0;
            for entry in &entries {
                match EdocSummary::from_json(entry) {
                    Some(summary) => {
                        if seen.insert(summary.doc_id.clone()) {
                            fresh += 1;
                        }
                        // Duplicates are kept: the caller decides (a hub may redeliver).
                        out.push(summary);
                    }
                    None => tracing::warn!(entry = %entry, "list entry without a docId ignored"),
                }
            }
            let size = self.config.page_size as usize;
            let exhausted = size == 0
                || count < size
                || fresh == 0
                || envelope.total.is_some_and(|t| seen.len() as u64 >= t)
                || page >= 100_000;
            if exhausted {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// The edXML bytes of one package.
    pub async fn get_edoc(&self, doc_id: &str) -> Result<Vec<u8>, HubError> {
        let answer = self
            .call(Call {
                verb: "getEdoc",
                headers: vec![("docId", doc_id.to_string()), ("filePath", "xml".into())],
                body: Vec::new(),
                content_type: "application/json",
                doc_id,
                idempotent: true,
            })
            .await?;
        let looks_json = answer.content_type.contains("json")
            || answer.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !looks_json {
            if answer.body.is_empty() {
                return Err(HubError::Malformed(format!("package {doc_id} is empty")));
            }
            return Ok(answer.body);
        }
        // A JSON envelope: FAIL, or the package inside `data` (XML text or base64).
        let envelope = envelope_of(&answer)?;
        match envelope.data {
            Some(Value::String(s)) if s.trim_start().starts_with('<') => Ok(s.into_bytes()),
            Some(Value::String(s)) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(s.split_whitespace().collect::<String>())
                    .map_err(|e| {
                        HubError::Malformed(format!(
                            "package {doc_id}: data is neither XML nor base64: {e}"
                        ))
                    })
            }
            _ => Err(HubError::Malformed(format!(
                "package {doc_id}: the envelope carries no package"
            ))),
        }
    }

    /// Tells the hub what became of a received package (`done` only once it is stored).
    pub async fn update_status(&self, doc_id: &str, status: AckStatus) -> Result<(), HubError> {
        let answer = self
            .call(Call {
                verb: "updateStatus",
                headers: vec![
                    ("docId", doc_id.to_string()),
                    ("status", status.as_str().to_string()),
                ],
                body: Vec::new(),
                content_type: "application/json",
                doc_id,
                // Telling the hub "done" twice is harmless.
                idempotent: true,
            })
            .await?;
        envelope_of(&answer).map(|_| ())
    }

    /// Sends a package (a status package answering a received document, say); returns
    /// the hub's id for it.
    pub async fn send_edoc(
        &self,
        package: Vec<u8>,
        from: &str,
        message_type: &str,
    ) -> Result<String, HubError> {
        let answer = self
            .call(Call {
                verb: "sendEdoc",
                headers: vec![
                    ("from", from.to_string()),
                    ("servicetype", self.config.service_type.clone()),
                    ("messagetype", message_type.to_string()),
                ],
                body: package,
                content_type: "application/xml",
                doc_id: "",
                idempotent: false,
            })
            .await?;
        let envelope = envelope_of(&answer)?;
        let id = envelope
            .doc_id
            .or(envelope.data)
            .and_then(|v| match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                Value::Object(o) => {
                    o.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("docId"))
                        .map(|(_, v)| {
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string())
                        })
                }
                _ => None,
            })
            .ok_or_else(|| HubError::Malformed("sendEdoc answer names no docId".into()))?;
        Ok(id)
    }

    /// The organisations connected to the hub (raw entries: the shape varies by hub).
    pub async fn agencies(&self) -> Result<Vec<Value>, HubError> {
        let answer = self
            .call(Call {
                verb: "getAgenciesList",
                headers: Vec::new(),
                body: Vec::new(),
                content_type: "application/json",
                doc_id: "",
                idempotent: true,
            })
            .await?;
        match envelope_of(&answer)?.data {
            Some(Value::Array(items)) => Ok(items),
            _ => Ok(Vec::new()),
        }
    }

    /// One verb, with the circuit, authentication, retries and backoff around it.
    async fn call(&self, call: Call<'_>) -> Result<Answer, HubError> {
        self.circuit_admit()?;
        let mut refreshed_token = false;
        let mut attempt = 0u32;
        let result = loop {
            attempt += 1;
            match self.attempt(&call).await {
                Attempt::Done(answer) => break Ok(answer),
                Attempt::Fail(HubError::Auth(reason))
                    if matches!(self.config.auth, Auth::OAuth2(_)) && !refreshed_token =>
                {
                    // A token the hub no longer accepts: fetch a new one, once.
                    tracing::info!(%reason, "hub refused the bearer token; refreshing");
                    *self.token.lock().await = None;
                    refreshed_token = true;
                    attempt -= 1;
                }
                Attempt::Fail(e) => break Err(e),
                Attempt::Retry(e, after) => {
                    if attempt >= self.config.retry.attempts {
                        break Err(e);
                    }
                    let delay = after.unwrap_or_else(|| self.backoff(attempt));
                    tracing::debug!(verb = call.verb, attempt, error = %e, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        };
        match &result {
            // A hub that answers, even with a refusal, is up.
            Ok(_) | Err(HubError::Http { status: ..500, .. } | HubError::Refused { .. }) => {
                self.circuit_success()
            }
            Err(HubError::Auth(_) | HubError::Config(_) | HubError::Malformed(_)) => {
                self.circuit_success()
            }
            Err(_) => self.circuit_failure(),
        }
        result
    }

    /// Exponential backoff with full jitter: uniformly within [0, min(max, base·2^n)].
    fn backoff(&self, attempt: u32) -> Duration {
        let p = &self.config.retry;
        let ceiling = p
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(p.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }

    async fn attempt(&self, call: &Call<'_>) -> Attempt {
        let url = self.url(call.verb);
        let path = reqwest::Url::parse(&url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        let mut request = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, call.content_type)
            .body(call.body.clone());
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        match &self.config.auth {
            Auth::None => {}
            Auth::Vxp(signing) => {
                let parts = RequestParts {
                    method: "POST",
                    path: &path,
                    content_type: call.content_type,
                    body: &call.body,
                    doc_id: call.doc_id,
                };
                for (name, value) in signing.headers(&parts, Utc::now()) {
                    request = request.header(name, value);
                }
            }
            Auth::StaticKey {
                system_id,
                secret_key,
            } => {
                request = request
                    .header("X-SystemId", system_id)
                    .header("X-SecretKey", secret_key);
            }
            Auth::OAuth2(credentials) => match self.bearer(credentials).await {
                Ok(token) => request = request.bearer_auth(token),
                Err(e @ HubError::Transport(_)) => return Attempt::Retry(e, None),
                Err(e) => return Attempt::Fail(e),
            },
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let reason = describe(&e);
                // A request that never left may always be retried; one that may have
                // reached the hub only when repeating it is harmless.
                return if e.is_connect() || call.idempotent {
                    Attempt::Retry(HubError::Transport(reason), None)
                } else {
                    Attempt::Fail(HubError::Transport(reason))
                };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(60)));
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                let error = HubError::Transport(format!("answer cut short: {}", describe(&e)));
                return if call.idempotent {
                    Attempt::Retry(error, None)
                } else {
                    Attempt::Fail(error)
                };
            }
        };
        let snippet = || {
            String::from_utf8_lossy(&body[..body.len().min(300)])
                .trim()
                .to_string()
        };
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Attempt::Fail(HubError::Auth(format!(
                "HTTP {}: {}",
                status.as_u16(),
                snippet()
            )));
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            let error = HubError::Http {
                status: status.as_u16(),
                body: snippet(),
            };
            return if call.idempotent {
                Attempt::Retry(error, retry_after)
            } else {
                Attempt::Fail(error)
            };
        }
        if !status.is_success() {
            return Attempt::Fail(HubError::Http {
                status: status.as_u16(),
                body: snippet(),
            });
        }
        Attempt::Done(Answer { content_type, body })
    }

    /// A bearer token from the cache, or a fresh one from the token endpoint.
    async fn bearer(&self, credentials: &OAuth2ClientCredentials) -> Result<String, HubError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && token.expires_at > Instant::now()
        {
            return Ok(token.value.clone());
        }
        let url = if credentials.token_url.starts_with("http") {
            credentials.token_url.clone()
        } else {
            self.url(credentials.token_url.trim_start_matches('/'))
        };
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &credentials.scope {
            form.push(("scope", scope));
        }
        let response = self
            .http
            .post(&url)
            .basic_auth(&credentials.client_id, Some(&credentials.client_secret))
            .form(&form)
            .send()
            .await
            .map_err(|e| HubError::Transport(format!("token endpoint: {}", describe(&e))))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| HubError::Transport(format!("token endpoint: {}", describe(&e))))?;
        if status.is_server_error() {
            return Err(HubError::Transport(format!(
                "token endpoint answered HTTP {}",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(HubError::Auth(format!(
                "token endpoint answered HTTP {}: {}",
                status.as_u16(),
                String::from_utf8_lossy(&body[..body.len().min(200)])
            )));
        }
        let json: Value = serde_json::from_slice(&body)
            .map_err(|e| HubError::Auth(format!("token answer is not JSON: {e}")))?;
        let value = json
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| HubError::Auth("token answer has no access_token".into()))?
            .to_string();
        let lifetime = json
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(300);
        // Renew a little early so a token never expires in flight.
        let margin = (lifetime / 10).clamp(1, 30);
        *cached = Some(CachedToken {
            value: value.clone(),
            expires_at: Instant::now() + Duration::from_secs(lifetime.saturating_sub(margin)),
        });
        Ok(value)
    }

    fn circuit_admit(&self) -> Result<(), HubError> {
        let mut circuit = self.circuit.lock().expect("circuit lock");
        match *circuit {
            Circuit::Closed { .. } => Ok(()),
            Circuit::Open { until, failures } => {
                let now = Instant::now();
                if now >= until {
                    *circuit = Circuit::HalfOpen { failures };
                    Ok(())
                } else {
                    Err(HubError::CircuitOpen {
                        failures,
                        retry_in_secs: (until - now).as_secs().max(1),
                    })
                }
            }
            Circuit::HalfOpen { failures } => Err(HubError::CircuitOpen {
                failures,
                retry_in_secs: 1,
            }),
        }
    }

    fn circuit_success(&self) {
        *self.circuit.lock().expect("circuit lock") = Circuit::Closed { failures: 0 };
    }

    fn circuit_failure(&self) {
        let mut circuit = self.circuit.lock().expect("circuit lock");
        let failures = match *circuit {
            Circuit::Closed { failures }
            | Circuit::Open { failures, .. }
            | Circuit::HalfOpen { failures } => failures + 1,
        };
        let half_open = matches!(*circuit, Circuit::HalfOpen { .. });
        *circuit = if half_open || failures >= self.config.circuit.failures_to_open {
            tracing::warn!(failures, "hub circuit opened");
            Circuit::Open {
                until: Instant::now() + self.config.circuit.open_for,
                failures,
            }
        } else {
            Circuit::Closed { failures }
        };
    }

    /// Whether the circuit currently refuses calls.
    pub fn circuit_open(&self) -> bool {
        matches!(
            *self.circuit.lock().expect("circuit lock"),
            Circuit::Open { until, .. } if until > Instant::now()
        )
    }
}

fn envelope_of(answer: &Answer) -> Result<Envelope, HubError> {
    let envelope: Envelope = serde_json::from_slice(&answer.body).map_err(|e| {
        HubError::Malformed(format!(
            "expected a JSON envelope: {e}; got {:?}",
            String::from_utf8_lossy(&answer.body[..answer.body.len().min(120)])
        ))
    })?;
    if envelope.is_ok() {
        Ok(envelope)
    } else {
        Err(HubError::Refused {
            code: envelope.code(),
            description: envelope.error_desc.clone().unwrap_or_default(),
        })
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// reqwest's error with its causes (the outer message alone says little).
fn describe(e: &reqwest::Error) -> String {
    let mut out = if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
