//! A fake exchange hub for integration tests, benchmarks and the demo: real HTTP on
//! loopback, the same verbs, headers and envelopes as [`crate::HubClient`] speaks, each
//! authentication scheme checked for real, pageable lists, acknowledgements recorded, and
//! faults injected on demand: 500s, timeouts, bodies cut mid-transfer, short packages,
//! refusals, duplicate list entries and redelivery of acknowledged packages.
//!
//! Like a real hub, it lists a package until it is acknowledged `done`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::auth::{Auth, RequestParts};

/// A package the hub holds for the system it serves.
#[derive(Debug, Clone)]
pub struct HubPackage {
    pub doc_id: String,
    pub bytes: Vec<u8>,
    pub from: String,
    pub to: String,
    /// `edoc` or `status`.
    pub message_type: String,
    pub created_time: String,
    /// Listed only from this instant (lets a demo drip packages in over time).
    pub visible_at: Option<Instant>,
}

impl HubPackage {
    pub fn new(doc_id: impl Into<String>, bytes: Vec<u8>) -> HubPackage {
        HubPackage {
            doc_id: doc_id.into(),
            bytes,
            from: String::new(),
            to: String::new(),
            message_type: "edoc".into(),
            created_time: chrono::Utc::now()
                .with_timezone(&crate::auth::vietnam())
                .format("%Y/%m/%d %H:%M:%S")
                .to_string(),
            visible_at: None,
        }
    }
}

/// Which verb a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    List,
    GetEdoc,
    UpdateStatus,
    SendEdoc,
    Token,
    Any,
}

impl Verb {
    fn of(name: &str) -> Option<Verb> {
        Some(match name {
            "getReceivedEdocList" | "getSentEdocList" => Verb::List,
            "getEdoc" => Verb::GetEdoc,
            "updateStatus" => Verb::UpdateStatus,
            "sendEdoc" => Verb::SendEdoc,
            "getAgenciesList" => Verb::Any,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 with an error page.
    ServerError,
    /// No answer for [`FakeHubOptions::stall`] (clients time out). An `updateStatus`
    /// is recorded before the stall, as a real hub may commit and then hang.
    Timeout,
    /// The answer starts, then the connection breaks mid-body.
    CutConnection,
    /// A complete, well-formed HTTP answer holding only the first half of the package
    /// (a hub-side truncation the client cannot see at the transport level).
    ShortPackage,
    /// `{"status":"FAIL"}` with an error code.
    Refuse,
}

/// Faults drawn at random on every request (probabilities in 0..=1).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomFaults {
    pub server_error: f64,
    pub timeout: f64,
    pub cut_connection: f64,
    /// Each list entry appears twice.
    pub duplicate_entry: f64,
    /// Each acknowledged package is listed again (lost acknowledgement, redelivery).
    pub redeliver: f64,
}

#[derive(Debug, Clone)]
pub struct FakeHubOptions {
    /// What the hub demands of callers (the same type clients are configured with).
    pub auth: Auth,
    pub max_clock_skew: Duration,
    /// How long a stalled answer takes.
    pub stall: Duration,
    /// Bearer tokens' lifetime (OAuth2).
    pub token_ttl: Duration,
    /// Largest page the hub returns when asked to page.
    pub max_page_size: usize,
    /// Organisations `getAgenciesList` returns: (organ code, name).
    pub agencies: Vec<(String, String)>,
    pub seed: u64,
}

impl FakeHubOptions {
    pub fn new(auth: Auth) -> FakeHubOptions {
        FakeHubOptions {
            auth,
            max_clock_skew: Duration::from_secs(300),
            stall: Duration::from_secs(5),
            token_ttl: Duration::from_secs(3600),
            max_page_size: 500,
            agencies: Vec::new(),
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub doc_id: String,
    pub status: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
struct Inner {
    packages: BTreeMap<u64, HubPackage>,
    by_id: HashMap<String, u64>,
    next_seq: u64,
    done: HashSet<String>,
    failed: HashSet<String>,
    acks: Vec<Ack>,
    sent: Vec<(HeaderMap, Vec<u8>)>,
    scripted: Vec<(Verb, Fault, usize)>,
    per_doc: HashMap<String, Fault>,
    random: RandomFaults,
    requests: HashMap<String, u64>,
    auth_failures: u64,
    tokens: HashMap<String, Instant>,
    next_token: u64,
}

struct Shared {
    options: FakeHubOptions,
    inner: Mutex<Inner>,
    rng: Mutex<fastrand::Rng>,
}

pub struct FakeHub {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeHub {
    /// Starts the hub on 127.0.0.1 (a free port).
    pub async fn start(options: FakeHubOptions) -> std::io::Result<FakeHub> {
        FakeHub::start_on("127.0.0.1:0", options).await
    }

    pub async fn start_on(listen: &str, options: FakeHubOptions) -> std::io::Result<FakeHub> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            rng: Mutex::new(fastrand::Rng::with_seed(options.seed)),
            options,
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new()
            .route("/oauth/token", post(token))
            .route("/v1/oauth/token", post(token))
            .route("/{verb}", post(verb))
            .route("/v1/{verb}", post(verb))
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(FakeHub {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (append `/v1` for the LGSP-style paths).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().expect("hub lock")
    }

    /// Adds packages (a package with a known id replaces the earlier one).
    pub fn add(&self, packages: impl IntoIterator<Item = HubPackage>) {
        let mut inner = self.inner();
        for p in packages {
            let seq = inner.next_seq;
            inner.next_seq += 1;
            if let Some(old) = inner.by_id.insert(p.doc_id.clone(), seq) {
                inner.packages.remove(&old);
            }
            inner.done.remove(&p.doc_id);
            inner.packages.insert(seq, p);
        }
    }

    /// Every acknowledgement received, in order (repeats included).
    pub fn acks(&self) -> Vec<Ack> {
        self.inner().acks.clone()
    }

    /// Packages acknowledged `done`.
    pub fn done(&self) -> HashSet<String> {
        self.inner().done.clone()
    }

    /// Packages still listed (not acknowledged), visible or not yet.
    pub fn pending(&self) -> Vec<String> {
        let inner = self.inner();
        inner
            .packages
            .values()
            .filter(|p| !inner.done.contains(&p.doc_id))
            .map(|p| p.doc_id.clone())
            .collect()
    }

    /// Bodies `sendEdoc` received.
    pub fn sent(&self) -> Vec<Vec<u8>> {
        self.inner().sent.iter().map(|(_, b)| b.clone()).collect()
    }

    /// Status packages `sendEdoc` received (`messagetype: status`): (from, body).
    pub fn sent_status(&self) -> Vec<(String, Vec<u8>)> {
        self.inner()
            .sent
            .iter()
            .filter(|(h, _)| {
                header(h, "messagetype").is_some_and(|t| t.eq_ignore_ascii_case("status"))
            })
            .map(|(h, b)| (header(h, "from").unwrap_or("").to_string(), b.clone()))
            .collect()
    }

    /// Requests per verb name.
    pub fn requests(&self, verb: &str) -> u64 {
        self.inner().requests.get(verb).copied().unwrap_or(0)
    }

    /// Requests refused for bad credentials.
    pub fn auth_failures(&self) -> u64 {
        self.inner().auth_failures
    }

    /// The next `times` requests of `verb` meet `fault`.
    pub fn fail_next(&self, verb: Verb, fault: Fault, times: usize) {
        self.inner().scripted.push((verb, fault, times));
    }

    /// Every `getEdoc` of this package meets `fault` (until [`FakeHub::heal`]).
    pub fn always_fail(&self, doc_id: &str, fault: Fault) {
        self.inner().per_doc.insert(doc_id.to_string(), fault);
    }

    pub fn heal(&self, doc_id: &str) {
        self.inner().per_doc.remove(doc_id);
    }

    pub fn set_random_faults(&self, faults: RandomFaults) {
        self.inner().random = faults;
    }

    /// Clears scripted, per-package and random faults.
    pub fn clear_faults(&self) {
        let mut inner = self.inner();
        inner.scripted.clear();
        inner.per_doc.clear();
        inner.random = RandomFaults::default();
    }

    /// Expires every bearer token now (the next API call gets a 401).
    pub fn expire_tokens(&self) {
        self.inner().tokens.clear();
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn envelope_ok(data: Value) -> Response {
    axum::Json(json!({"status": "OK", "ErrorCode": 0, "ErrorDesc": "", "data": data}))
        .into_response()
}

fn envelope_fail(status: StatusCode, code: &str, desc: &str) -> Response {
    (
        status,
        axum::Json(json!({"status": "FAIL", "ErrorCode": code, "ErrorDesc": desc, "data": null})),
    )
        .into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Both `/{verb}` and the provincial `/v1/{verb}` paths; the path is what gets signed.
async fn verb(
    State(shared): State<Arc<Shared>>,
    Path(verb): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, &verb, uri.path(), headers, body).await
}

/// Checks the caller's credentials the way the configured scheme demands; the error says
/// why they were refused.
fn authenticate(
    shared: &Shared,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), &'static str> {
    let refuse = |why: &'static str| why;
    match &shared.options.auth {
        Auth::None => Ok(()),
        Auth::Vxp(signing) => {
            let system = header(headers, &signing.system_id_header).unwrap_or("");
            let timestamp = header(headers, &signing.timestamp_header).unwrap_or("");
            let signature = header(headers, &signing.signature_header).unwrap_or("");
            if system != signing.system_id {
                return Err(refuse("unknown systemid"));
            }
            let Some(at) = signing.timestamp_format.parse(timestamp) else {
                return Err(refuse("timestamp unreadable"));
            };
            let skew = (chrono::Utc::now() - at).num_seconds().unsigned_abs();
            if skew > shared.options.max_clock_skew.as_secs() {
                return Err(refuse("timestamp outside the allowed clock skew"));
            }
            let parts = RequestParts {
                method: "POST",
                path,
                content_type: header(headers, "content-type").unwrap_or(""),
                body,
                doc_id: header(headers, "docId").unwrap_or(""),
            };
            if signing.verify(timestamp, signature, &parts) {
                Ok(())
            } else {
                Err(refuse("signature mismatch"))
            }
        }
        Auth::StaticKey {
            system_id,
            secret_key,
        } => {
            if header(headers, "X-SystemId") == Some(system_id.as_str())
                && header(headers, "X-SecretKey") == Some(secret_key.as_str())
            {
                Ok(())
            } else {
                Err(refuse("X-SystemId/X-SecretKey refused"))
            }
        }
        Auth::OAuth2(_) => {
            let token = header(headers, "authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            let inner = shared.inner.lock().expect("hub lock");
            match inner.tokens.get(token) {
                Some(expiry) if *expiry > Instant::now() => Ok(()),
                Some(_) => Err(refuse("token expired")),
                None => Err(refuse("unknown token")),
            }
        }
    }
}

/// The fault this request meets, if any.
fn draw_fault(shared: &Shared, verb: Verb, doc_id: Option<&str>) -> Option<Fault> {
    let mut inner = shared.inner.lock().expect("hub lock");
    if let Some(i) = inner
        .scripted
        .iter()
        .position(|(v, _, n)| (*v == verb || *v == Verb::Any) && *n > 0)
    {
        let fault = inner.scripted[i].1;
        inner.scripted[i].2 -= 1;
        if inner.scripted[i].2 == 0 {
            inner.scripted.remove(i);
        }
        return Some(fault);
    }
    if verb == Verb::GetEdoc
        && let Some(fault) = doc_id.and_then(|d| inner.per_doc.get(d))
    {
        return Some(*fault);
    }
    let random = inner.random;
    drop(inner);
    let mut rng = shared.rng.lock().expect("rng lock");
    let roll = rng.f64();
    if roll < random.server_error {
        Some(Fault::ServerError)
    } else if roll < random.server_error + random.timeout {
        Some(Fault::Timeout)
    } else if roll < random.server_error + random.timeout + random.cut_connection {
        Some(Fault::CutConnection)
    } else {
        None
    }
}

/// A body that breaks after `half`.
fn cut_body(bytes: Vec<u8>, content_type: &str) -> Response {
    let half = Bytes::from(bytes[..bytes.len() / 2].to_vec());
    let stream = futures_util::stream::iter(vec![
        Ok::<Bytes, std::io::Error>(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fake hub cut the connection",
        )),
    ]);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from_stream(stream))
        .expect("response")
}

async fn handle(
    shared: Arc<Shared>,
    verb_name: &str,
    path: &str,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    *shared
        .inner
        .lock()
        .expect("hub lock")
        .requests
        .entry(verb_name.to_string())
        .or_default() += 1;
    let Some(verb) = Verb::of(verb_name) else {
        return envelope_fail(StatusCode::NOT_FOUND, "NOT_FOUND", "unknown verb");
    };
    if let Err(why) = authenticate(&shared, path, &headers, &body) {
        shared.inner.lock().expect("hub lock").auth_failures += 1;
        return envelope_fail(StatusCode::UNAUTHORIZED, "AUTH_FAILED", why);
    }
    let doc_id = header(&headers, "docId").map(str::to_string);
    let fault = draw_fault(&shared, verb, doc_id.as_deref());
    match fault {
        Some(Fault::ServerError) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<html>500 Internal Server Error</html>",
            )
                .into_response();
        }
        Some(Fault::Refuse) => {
            return envelope_fail(StatusCode::OK, "E_BUSY", "Hệ thống đang bận, thử lại sau");
        }
        Some(Fault::Timeout) if verb != Verb::UpdateStatus => {
            tokio::time::sleep(shared.options.stall).await;
            return envelope_fail(StatusCode::GATEWAY_TIMEOUT, "TIMEOUT", "stalled");
        }
        _ => {}
    }
    match verb_name {
        "getReceivedEdocList" => list_received(&shared, &headers, fault),
        "getSentEdocList" => {
            let inner = shared.inner.lock().expect("hub lock");
            let entries: Vec<Value> = inner
                .sent
                .iter()
                .enumerate()
                .map(|(i, (h, _))| {
                    json!({"docId": format!("sent-{}", i + 1), "from": header(h, "from"),
                           "messageType": header(h, "messagetype"), "status": "sent"})
                })
                .collect();
            envelope_ok(Value::Array(entries))
        }
        "getEdoc" => get_edoc(&shared, doc_id.as_deref().unwrap_or(""), fault),
        "updateStatus" => update_status(&shared, &headers, fault).await,
        "sendEdoc" => {
            if body.is_empty() {
                return envelope_fail(StatusCode::OK, "EMPTY", "no package");
            }
            let mut inner = shared.inner.lock().expect("hub lock");
            inner.sent.push((headers.clone(), body.to_vec()));
            let id = format!("sent-{}", inner.sent.len());
            axum::Json(json!({"status": "OK", "ErrorCode": 0, "ErrorDesc": "", "docId": id}))
                .into_response()
        }
        "getAgenciesList" => envelope_ok(Value::Array(
            shared
                .options
                .agencies
                .iter()
                .map(|(code, name)| json!({"code": code, "name": name}))
                .collect(),
        )),
        _ => envelope_fail(StatusCode::NOT_FOUND, "NOT_FOUND", "unknown verb"),
    }
}

fn list_received(shared: &Shared, headers: &HeaderMap, fault: Option<Fault>) -> Response {
    let inner = shared.inner.lock().expect("hub lock");
    let now = Instant::now();
    let message_type = header(headers, "messagetype").unwrap_or("edoc");
    let mut rng = shared.rng.lock().expect("rng lock");
    let mut entries: Vec<Value> = Vec::new();
    for p in inner.packages.values() {
        if p.visible_at.is_some_and(|t| t > now)
            || !p.message_type.eq_ignore_ascii_case(message_type)
        {
            continue;
        }
        if inner.failed.contains(&p.doc_id) {
            continue;
        }
        let acked = inner.done.contains(&p.doc_id);
        if acked && rng.f64() >= inner.random.redeliver {
            continue;
        }
        let entry = json!({
            "docId": p.doc_id, "serviceType": "eDoc", "messageType": p.message_type,
            "from": p.from, "to": p.to, "status": "pending", "created_time": p.created_time,
        });
        if rng.f64() < inner.random.duplicate_entry {
            entries.push(entry.clone());
        }
        entries.push(entry);
    }
    drop(rng);
    drop(inner);
    let total = entries.len();
    let page: usize = header(headers, "page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let size: usize = header(headers, "pagesize")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(shared.options.max_page_size);
    let shown: Vec<Value> = if page >= 1 && size > 0 {
        entries
            .into_iter()
            .skip((page - 1) * size)
            .take(size)
            .collect()
    } else {
        entries
    };
    let body =
        json!({"status": "OK", "ErrorCode": 0, "ErrorDesc": "", "total": total, "data": shown});
    let bytes = serde_json::to_vec(&body).expect("json");
    if fault == Some(Fault::CutConnection) {
        return cut_body(bytes, "application/json");
    }
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

fn get_edoc(shared: &Shared, doc_id: &str, fault: Option<Fault>) -> Response {
    let bytes = {
        let inner = shared.inner.lock().expect("hub lock");
        inner
            .by_id
            .get(doc_id)
            .and_then(|seq| inner.packages.get(seq))
            .map(|p| p.bytes.clone())
    };
    let Some(bytes) = bytes else {
        return envelope_fail(StatusCode::OK, "NOT_FOUND", "docId không tồn tại");
    };
    match fault {
        Some(Fault::CutConnection) => cut_body(bytes, "application/xml"),
        Some(Fault::ShortPackage) => {
            let half = bytes[..bytes.len() / 2].to_vec();
            ([(header::CONTENT_TYPE, "application/xml")], half).into_response()
        }
        _ => ([(header::CONTENT_TYPE, "application/xml")], bytes).into_response(),
    }
}

async fn update_status(shared: &Shared, headers: &HeaderMap, fault: Option<Fault>) -> Response {
    let doc_id = header(headers, "docId").unwrap_or("").to_string();
    let status = header(headers, "status").unwrap_or("").to_ascii_lowercase();
    if !matches!(status.as_str(), "done" | "fail" | "processing") {
        return envelope_fail(
            StatusCode::OK,
            "BAD_STATUS",
            "status must be done, fail or processing",
        );
    }
    {
        let mut inner = shared.inner.lock().expect("hub lock");
        if !inner.by_id.contains_key(&doc_id) {
            return envelope_fail(StatusCode::OK, "NOT_FOUND", "docId không tồn tại");
        }
        inner.acks.push(Ack {
            doc_id: doc_id.clone(),
            status: status.clone(),
            at: chrono::Utc::now(),
        });
        match status.as_str() {
            "done" => {
                inner.done.insert(doc_id);
            }
            "fail" => {
                inner.failed.insert(doc_id);
            }
            _ => {}
        }
    }
    // The acknowledgement is recorded; the answer may still be lost on the way back.
    match fault {
        Some(Fault::Timeout) => {
            tokio::time::sleep(shared.options.stall).await;
            envelope_fail(StatusCode::GATEWAY_TIMEOUT, "TIMEOUT", "stalled")
        }
        Some(Fault::CutConnection) => cut_body(
            serde_json::to_vec(&json!({"status": "OK", "ErrorCode": 0, "ErrorDesc": ""}))
                .expect("json"),
            "application/json",
        ),
        _ => envelope_ok(Value::Null),
    }
}

/// `POST /oauth/token`: client credentials by HTTP Basic or in the form.
async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    *shared
        .inner
        .lock()
        .expect("hub lock")
        .requests
        .entry("token".into())
        .or_default() += 1;
    let Auth::OAuth2(expected) = &shared.options.auth else {
        return envelope_fail(StatusCode::NOT_FOUND, "NOT_FOUND", "no OAuth2 here");
    };
    if draw_fault(&shared, Verb::Token, None) == Some(Fault::ServerError) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "token service down").into_response();
    }
    let form: HashMap<String, String> = String::from_utf8_lossy(&body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace('+', " ")))
        .collect();
    let basic = header(&headers, "authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(b).ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        });
    let (id, secret) = basic.unwrap_or_else(|| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    });
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    if id != expected.client_id || secret != expected.client_secret {
        shared.inner.lock().expect("hub lock").auth_failures += 1;
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let mut inner = shared.inner.lock().expect("hub lock");
    inner.next_token += 1;
    let value = format!("tok-{}-{}", inner.next_token, fastrand::u64(..));
    let ttl = shared.options.token_ttl;
    inner.tokens.insert(value.clone(), Instant::now() + ttl);
    axum::Json(json!({"access_token": value, "token_type": "Bearer", "expires_in": ttl.as_secs()}))
        .into_response()
}
