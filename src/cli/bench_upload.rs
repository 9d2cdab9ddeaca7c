//! `vanban bench upload --files N`: the desk upload path measured end to end against the
//! real binary. A fresh data directory, `vanban user add`, `vanban serve` on a free port,
//! sign-in over HTTP, N generated decisions uploaded (ten per request, as the page's form
//! would), then polled until every job is final: the time until all are processed and
//! the server's peak memory (VmHWM). As a named baseline in the same run: the same N files
//! through `vanban ingest` (the CLI) in another fresh data directory, its time and peak
//! memory.
//!
//! Also the client the upload kill test (`tests/it/upload_crash.rs`) drives the server
//! with: a minimal HTTP/1.1 client over a TCP stream (one request per connection), so
//! that no HTTP client crate enters the binary for a benchmark.
//!
//! Architecture invariant: nothing here is on a production path; only `bench upload` and
//! the tests call it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};

use crate::pdf::writer::{Decree30Page, decree30_pdf};

/// The unit and account the benchmark and the kill test work as.
pub const UNIT: &str = "000.46.24.H44";
pub const CLERK: &str = "vanthu-bench";
pub const PASSWORD: &str = "mật khẩu đủ dài cho bài đo 2026";
/// Files per upload request.
pub const FILES_PER_REQUEST: usize = 10;

/// A small decision of its own number (distinct registry keys, distinct files).
pub fn decision(n: usize) -> Vec<u8> {
    let page = Decree30Page {
        issuer_lines: vec!["ỦY BAN NHÂN DÂN".into(), "XÃ NAM CHÍNH".into()],
        number_symbol: format!("{n}/QĐ-UBND"),
        place_date: format!("Nam Chính, ngày {} tháng 3 năm 2024", n % 28 + 1),
        markings: Vec::new(),
        type_title: "QUYẾT ĐỊNH".into(),
        abstract_text: format!("Về việc phê duyệt kế hoạch số {n} của xã"),
        paragraphs: vec![format!(
            "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; \
             phê duyệt kế hoạch số {n} về chỉnh trang đường thôn và nhà văn hóa."
        )],
        recipients: vec!["UBND huyện".into(), "Lưu: VT".into()],
        signer_block: vec!["TM. ỦY BAN NHÂN DÂN".into(), "CHỦ TỊCH".into()],
        signer_name: "Nguyễn Bá Dũng".into(),
    };
    decree30_pdf(&page, &format!("Quyết định {n}"))
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of cookie `name` set by this answer.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, v)| k.trim() == name && !v.is_empty())
            .map(|(_, v)| v.to_string())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> anyhow::Result<Answer> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = memchr::memmem::find(&raw, b"\r\n\r\n").ok_or_else(|| anyhow!("no answer head"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line in {head:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut raw: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = memchr::memmem::find(raw, b"\r\n").ok_or_else(|| anyhow!("bad chunk"))?;
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if raw.len() < size + 2 {
            bail!("chunk cut short");
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                crate::web::html::url_encode(k),
                crate::web::html::url_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A signed-in desk session over HTTP.
#[derive(Debug, Clone)]
pub struct DeskClient {
    pub addr: SocketAddr,
    pub cookie: String,
    pub csrf: String,
}

impl DeskClient {
    /// Signs in as a browser does: the form (and its cookie), then the POST.
    pub fn sign_in(addr: SocketAddr, name: &str, password: &str) -> anyhow::Result<DeskClient> {
        use crate::auth::session::{COOKIE, LOGIN_COOKIE};
        let form = http(addr, "GET", "/desk/login", &[], b"")?;
        let login = form
            .cookie(LOGIN_COOKIE)
            .ok_or_else(|| anyhow!("the sign-in form set no cookie ({})", form.status))?;
        let body = form_encode(&[
            ("csrf", &login),
            ("name", name),
            ("password", password),
            ("next", "/desk/"),
        ]);
        let cookie_header = format!("{LOGIN_COOKIE}={login}");
        let answer = http(
            addr,
            "POST",
            "/desk/login",
            &[
                ("Cookie", &cookie_header),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )?;
        let session = answer
            .cookie(COOKIE)
            .ok_or_else(|| anyhow!("sign-in refused ({}): {}", answer.status, answer.text()))?;
        let cookie = format!("{COOKIE}={session}");
        let page = http(addr, "GET", "/desk/upload", &[("Cookie", &cookie)], b"")?;
        let text = page.text();
        let marker = "name=\"csrf\" value=\"";
        let start = text
            .find(marker)
            .ok_or_else(|| anyhow!("no CSRF token on the upload page ({})", page.status))?
            + marker.len();
        let end = text[start..]
            .find('"')
            .ok_or_else(|| anyhow!("cut CSRF token"))?
            + start;
        Ok(DeskClient {
            addr,
            cookie,
            csrf: text[start..end].to_string(),
        })
    }

    /// Uploads files in one request (JSON answer); the job ids of the accepted ones, in
    /// order, and the whole answer.
    pub fn upload(
        &self,
        unit: &str,
        files: &[(String, Vec<u8>)],
    ) -> anyhow::Result<(Vec<i64>, serde_json::Value)> {
        let boundary = "----vanban-bench-5e2a";
        let mut body = Vec::new();
        for (name, value) in [("csrf", self.csrf.as_str()), ("unit", unit)] {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        for (filename, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let answer = http(
            self.addr,
            "POST",
            "/desk/upload",
            &[
                ("Cookie", &self.cookie),
                ("Content-Type", &content_type),
                ("Accept", "application/json"),
            ],
            &body,
        )?;
        let json: serde_json::Value = serde_json::from_slice(&answer.body)
            .with_context(|| format!("upload answer {}: {}", answer.status, answer.text()))?;
        let ids = json["files"]
            .as_array()
            .map(|files| files.iter().filter_map(|f| f["job_id"].as_i64()).collect())
            .unwrap_or_default();
        Ok((ids, json))
    }

    /// The jobs' views (`/desk/uploads/status`), asked a few hundred at a time.
    pub fn status(&self, ids: &[i64]) -> anyhow::Result<Vec<serde_json::Value>> {
        let mut out = Vec::new();
        for batch in ids.chunks(200) {
            let list = batch
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let answer = http(
                self.addr,
                "GET",
                &format!("/desk/uploads/status?ids={list}"),
                &[("Cookie", &self.cookie), ("Accept", "application/json")],
                b"",
            )?;
            if answer.status != 200 {
                bail!("status answered {}: {}", answer.status, answer.text());
            }
            let json: serde_json::Value = serde_json::from_slice(&answer.body)?;
            out.extend(json["jobs"].as_array().cloned().unwrap_or_default());
        }
        Ok(out)
    }
}

/// A `vanban serve` child on a free local port.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `exe --data-dir DATA serve` with these extra environment variables and
    /// waits until `/healthz` answers.
    pub fn start(exe: &Path, data: &Path, env: &[(&str, &str)]) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let mut command = Command::new(exe);
        command
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen", &addr.to_string()])
            .env_remove("VANBAN__STORAGE__DATABASE_URL")
            .env("RUST_LOG", "vanban=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn()?;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(answer) = http(addr, "GET", "/healthz", &[], b"")
                && answer.status == 200
            {
                return Ok(Server { child, addr });
            }
            if let Some(status) = child.try_wait()? {
                bail!("vanban serve exited: {status}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("vanban serve did not answer within 120 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Peak resident memory of the server so far (KiB), from /proc.
    pub fn vm_hwm_kib(&self) -> Option<u64> {
        vm_hwm_kib(self.child.id())
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `VmHWM` of a live process, in KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Creates the unit and the clerk account with the CLI (`unit add`, `user add`).
pub fn create_clerk(exe: &Path, data: &Path) -> anyhow::Result<()> {
    let unit = Command::new(exe)
        .arg("--data-dir")
        .arg(data)
        .args([
            "unit",
            "add",
            "--code",
            UNIT,
            "--name",
            "Ủy ban nhân dân xã Nam Chính",
        ])
        .env_remove("VANBAN__STORAGE__DATABASE_URL")
        .output()?;
    // An existing unit (seeded from configuration) is fine.
    let _ = unit;
    let mut user = Command::new(exe)
        .arg("--data-dir")
        .arg(data)
        .args([
            "user", "add", "--name", CLERK, "--role", "clerk", "--unit", UNIT,
        ])
        .env_remove("VANBAN__STORAGE__DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    user.stdin
        .take()
        .expect("piped")
        .write_all(format!("{PASSWORD}\n").as_bytes())?;
    let out = user.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "vanban user add failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Polls until every job of `ids` is final; their views.
pub fn wait_until_final(
    client: &DeskClient,
    ids: &[i64],
    timeout: Duration,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let deadline = Instant::now() + timeout;
    loop {
        let views = client.status(ids)?;
        if views.len() == ids.len() && views.iter().all(|v| v["final"] == true) {
            return Ok(views);
        }
        if Instant::now() > deadline {
            bail!("jobs not final after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The benchmark's result.
#[derive(Debug)]
pub struct Measurement {
    pub files: usize,
    pub upload_seconds: f64,
    pub processed_seconds: f64,
    pub server_vm_hwm_kib: u64,
    pub ingest_seconds: f64,
    pub ingest_max_rss_kib: u64,
    pub states: std::collections::BTreeMap<String, usize>,
}

/// Runs the benchmark in `work_dir` (a fresh temporary folder when `None`).
pub fn run(files: usize, work_dir: Option<&Path>) -> anyhow::Result<Measurement> {
    let exe = std::env::current_exe()?;
    let root = match work_dir {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let pdfs: Vec<(String, Vec<u8>)> = (1..=files)
        .map(|n| (format!("quyet-dinh-{n}.pdf"), decision(n)))
        .collect();

    // The desk: serve, sign in, upload, wait.
    let data = root.path().join("desk");
    create_clerk(&exe, &data)?;
    let server = Server::start(&exe, &data, &[])?;
    let client = DeskClient::sign_in(server.addr, CLERK, PASSWORD)?;
    let started = Instant::now();
    let mut ids = Vec::new();
    for batch in pdfs.chunks(FILES_PER_REQUEST) {
        let (accepted, answer) = client.upload(UNIT, batch)?;
        if accepted.len() != batch.len() {
            bail!("files refused: {answer}");
        }
        ids.extend(accepted);
    }
    let upload_seconds = started.elapsed().as_secs_f64();
    let views = wait_until_final(&client, &ids, Duration::from_secs(3600))?;
    let processed_seconds = started.elapsed().as_secs_f64();
    let server_vm_hwm_kib = server.vm_hwm_kib().unwrap_or(0);
    server.kill();
    let mut states = std::collections::BTreeMap::new();
    for view in &views {
        *states
            .entry(view["state"].as_str().unwrap_or("?").to_string())
            .or_insert(0) += 1;
    }

    // The baseline: the same files through `vanban ingest`.
    let folder = root.path().join("files");
    std::fs::create_dir_all(&folder)?;
    for (name, bytes) in &pdfs {
        std::fs::write(folder.join(name), bytes)?;
    }
    let ingest_data = root.path().join("ingest");
    let started = Instant::now();
    let child = Command::new(&exe)
        .arg("--data-dir")
        .arg(&ingest_data)
        .args(["ingest", "--unit", UNIT])
        .arg(&folder)
        .env_remove("VANBAN__STORAGE__DATABASE_URL")
        .env("RUST_LOG", "vanban=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let (ok, ingest_max_rss_kib) = wait_with_max_rss(child)?;
    let ingest_seconds = started.elapsed().as_secs_f64();
    if !ok {
        bail!("vanban ingest failed");
    }
    Ok(Measurement {
        files,
        upload_seconds,
        processed_seconds,
        server_vm_hwm_kib,
        ingest_seconds,
        ingest_max_rss_kib,
        states,
    })
}

/// Waits for a child and answers (success, its peak resident memory in KiB).
fn wait_with_max_rss(child: Child) -> anyhow::Result<(bool, u64)> {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, zero-initialised; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    std::mem::forget(child); // reaped above
    Ok((ok, usage.ru_maxrss as u64))
}

pub fn bench_upload(files: usize, work_dir: Option<PathBuf>) -> ExitCode {
    match run(files, work_dir.as_deref()) {
        Ok(m) => {
            let mib = |kib: u64| kib as f64 / 1024.0;
            println!(
                "bench upload: {} generated decisions (one page each)",
                m.files
            );
            println!(
                "  desk upload (vanban serve, {} files per request): uploaded in {:.2} s, all processed {:.2} s after the first byte; {:.1} files/s; server peak memory (VmHWM) {:.1} MiB",
                FILES_PER_REQUEST,
                m.upload_seconds,
                m.processed_seconds,
                m.files as f64 / m.processed_seconds,
                mib(m.server_vm_hwm_kib)
            );
            println!("  job states: {:?}", m.states);
            println!(
                "  baseline `vanban ingest` (same files): {:.2} s; {:.1} files/s; peak memory (max RSS) {:.1} MiB",
                m.ingest_seconds,
                m.files as f64 / m.ingest_seconds,
                mib(m.ingest_max_rss_kib)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
