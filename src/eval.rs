//! `vanban eval DIR`: per-field accuracy of extraction against `*.expected.json` files,
//! and `vanban bench extract DIR`: extraction speed beside poppler's `pdftotext`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::doctypes::DocTypeTable;
use crate::extract;

/// Fields of the JSON contract that evaluation compares.
pub const EVALUATED_FIELDS: &[&str] = &[
    "doc_type",
    "number",
    "symbol",
    "number_symbol",
    "issuer",
    "place",
    "issued_date",
    "abstract",
    "signer_name",
    "signer_title",
    "signing_authority",
    "recipients",
    "references",
    "classified",
    "urgent",
    "text_source",
    "pages",
];

#[derive(Debug, Default)]
pub struct EvalReport {
    /// field → (correct, compared)
    pub per_field: BTreeMap<String, (usize, usize)>,
    pub documents: usize,
    pub fully_correct: usize,
    pub mismatches: Vec<String>,
    pub failures: Vec<String>,
}

impl EvalReport {
    pub fn overall(&self) -> f64 {
        let (ok, total) = self
            .per_field
            .values()
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
        if total == 0 {
            0.0
        } else {
            ok as f64 / total as f64
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{:<20} {:>8} {:>8} {:>8}\n",
            "field", "correct", "total", "accuracy"
        ));
        for (field, (ok, total)) in &self.per_field {
            out.push_str(&format!(
                "{field:<20} {ok:>8} {total:>8} {:>7.1}%\n",
                100.0 * *ok as f64 / (*total).max(1) as f64
            ));
        }
        out.push_str(&format!(
            "overall: {:.1}% of fields; {} of {} documents fully correct\n",
            100.0 * self.overall(),
            self.fully_correct,
            self.documents
        ));
        for m in &self.mismatches {
            out.push_str(&format!("  mismatch {m}\n"));
        }
        for f in &self.failures {
            out.push_str(&format!("  failed   {f}\n"));
        }
        out
    }
}

/// PDFs under `dir` that have an `X.expected.json` beside `X.pdf`.
pub fn labelled_pdfs(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out: Vec<(PathBuf, PathBuf)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("pdf"))
        })
        .filter_map(|e| {
            let expected = e.path().with_extension("expected.json");
            expected
                .is_file()
                .then(|| (e.path().to_path_buf(), expected))
        })
        .collect();
    out.sort();
    out
}

pub fn evaluate(dir: &Path, types: &DocTypeTable) -> anyhow::Result<EvalReport> {
    let mut report = EvalReport::default();
    for (pdf, expected_path) in labelled_pdfs(dir) {
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(&expected_path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", expected_path.display()))?;
        report.documents += 1;
        let bytes = std::fs::read(&pdf)?;
        let actual = match extract::extract_pdf(&bytes, types) {
            Ok(x) => x.to_json(),
            Err(e) => {
                report.failures.push(format!("{}: {e}", pdf.display()));
                continue;
            }
        };
        let mut all_ok = true;
        for field in EVALUATED_FIELDS {
            let Some(want) = expected.get(*field) else {
                continue;
            };
            let got = actual.get(*field).unwrap_or(&Value::Null);
            let entry = report.per_field.entry(field.to_string()).or_default();
            entry.1 += 1;
            if got == want {
                entry.0 += 1;
            } else {
                all_ok = false;
                report.mismatches.push(format!(
                    "{} {field}: expected {want}, got {got}",
                    pdf.display()
                ));
            }
        }
        if all_ok {
            report.fully_correct += 1;
        }
    }
    Ok(report)
}

#[derive(Debug)]
pub struct BenchReport {
    pub files: usize,
    pub pages: u64,
    pub vanban: Duration,
    pub pdftotext: Option<Duration>,
    pub rounds: u32,
    /// Per signed file: name, signatures, whole extraction time, of which verification
    /// (first round).
    pub signed: Vec<(String, usize, Duration, Duration)>,
    /// Signature verification's share of all rounds.
    pub verify_total: Duration,
}

impl BenchReport {
    pub fn render(&self) -> String {
        let rate = |d: Duration| self.pages as f64 * self.rounds as f64 / d.as_secs_f64().max(1e-9);
        let mut out = format!(
            "{} files, {} pages, {} rounds\nvanban extract (text + metadata): {:>9.1} pages/s ({:.3} s)\n",
            self.files,
            self.pages,
            self.rounds,
            rate(self.vanban),
            self.vanban.as_secs_f64()
        );
        match self.pdftotext {
            Some(p) => out.push_str(&format!(
                "pdftotext (poppler, text only):   {:>9.1} pages/s ({:.3} s)\nratio vanban/pdftotext: {:.2}x\n",
                rate(p),
                p.as_secs_f64(),
                rate(self.vanban) / rate(p)
            )),
            None => out.push_str("pdftotext not found: install poppler-utils for the baseline\n"),
        }
        if !self.signed.is_empty() {
            out.push_str(&format!(
                "signature verification: {:.3} s of the {:.3} s ({:.1} %)\n\n{:<48} {:>5} {:>12} {:>12} {:>7}\n",
                self.verify_total.as_secs_f64(),
                self.vanban.as_secs_f64(),
                100.0 * self.verify_total.as_secs_f64() / self.vanban.as_secs_f64().max(1e-9),
                "signed file",
                "sigs",
                "extract ms",
                "verify ms",
                "share"
            ));
            for (name, count, whole, verify) in &self.signed {
                out.push_str(&format!(
                    "{:<48} {:>5} {:>12.2} {:>12.2} {:>6.1}%\n",
                    name,
                    count,
                    whole.as_secs_f64() * 1e3,
                    verify.as_secs_f64() * 1e3,
                    100.0 * verify.as_secs_f64() / whole.as_secs_f64().max(1e-9)
                ));
            }
        }
        out
    }
}

/// Extracts every PDF in `dir` `rounds` times with vanban and with `pdftotext`, sequentially,
/// in the same process run, so the two figures share the machine state.
pub fn bench_extract(dir: &Path, rounds: u32, types: &DocTypeTable) -> anyhow::Result<BenchReport> {
    let files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("pdf"))
        })
        .map(|e| e.into_path())
        .collect();
    let contents: Vec<Vec<u8>> = files.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let mut pages = 0u64;
    let mut signed = Vec::new();
    let mut verify_total = Duration::ZERO;
    let start = Instant::now();
    for round in 0..rounds {
        for (bytes, path) in contents.iter().zip(&files) {
            let one = Instant::now();
            if let Ok(x) = extract::extract_pdf(bytes, types) {
                verify_total += x.signatures.elapsed;
                if round == 0 {
                    pages += u64::from(x.pages);
                    if x.signatures.is_signed() {
                        signed.push((
                            path.file_name()
                                .map(|n| n.to_string_lossy().to_string())
                                .unwrap_or_default(),
                            x.signatures.signatures.len(),
                            one.elapsed(),
                            x.signatures.elapsed,
                        ));
                    }
                }
            }
        }
    }
    let vanban = start.elapsed();
    let pdftotext = if Command::new("pdftotext").arg("-v").output().is_ok() {
        let start = Instant::now();
        for _ in 0..rounds {
            for f in &files {
                Command::new("pdftotext")
                    .arg("-q")
                    .arg(f)
                    .arg("/dev/null")
                    .status()?;
            }
        }
        Some(start.elapsed())
    } else {
        None
    };
    Ok(BenchReport {
        files: files.len(),
        pages,
        vanban,
        pdftotext,
        rounds,
        signed,
        verify_total,
    })
}
