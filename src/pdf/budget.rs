//! A per-document extraction budget: wall time, pages, glyphs and inflated content bytes.
//!
//! A small hostile file can cost minutes of CPU (one content stream showing text a hundred
//! thousand times, drawn by five thousand pages; a Form XObject drawn again and again).
//! The interpreter charges a [`Meter`] as it works and stops with a typed
//! [`BudgetExceeded`] as soon as one limit is passed, on the thread doing the work: no
//! watchdog, no thread left burning CPU. Memory is bounded by construction: what the
//! extraction keeps grows with the glyphs and the inflated bytes, and both are counted.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The limits of one document's extraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Wall time for reading the text of every page.
    pub max_time: Duration,
    pub max_pages: u64,
    /// Glyphs decoded, over every page and every time a form is drawn.
    pub max_glyphs: u64,
    /// Content-stream bytes inflated (page contents and forms, each time drawn).
    pub max_decoded_bytes: u64,
}

impl Default for Budget {
    /// The defaults of `config/default.toml` (`[extraction]`).
    fn default() -> Budget {
        Budget {
            max_time: Duration::from_secs(30),
            max_pages: 5_000,
            max_glyphs: 20_000_000,
            max_decoded_bytes: 1 << 30,
        }
    }
}

static GLOBAL: OnceLock<Budget> = OnceLock::new();

/// Sets the process's budget (once, at start-up, from the configuration); later calls
/// are ignored.
pub fn install(budget: Budget) {
    let _ = GLOBAL.set(budget);
}

impl Budget {
    /// The process's budget: the configured one, or the defaults.
    pub fn global() -> Budget {
        GLOBAL.get().copied().unwrap_or_default()
    }
}

/// Which limit was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Time,
    Pages,
    Glyphs,
    DecodedBytes,
}

/// The extraction stopped: `what` went past `limit` (seconds, pages, glyphs or bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct BudgetExceeded {
    pub what: Limit,
    pub limit: u64,
}

impl BudgetExceeded {
    /// "thời gian 30 s", "500 000 000 ký tự", … (what a clerk reads in the reason).
    pub fn describe(&self) -> String {
        let n = group_digits(self.limit);
        match self.what {
            Limit::Time => format!("thời gian {n} s"),
            Limit::Pages => format!("{n} trang"),
            Limit::Glyphs => format!("{n} ký tự"),
            Limit::DecodedBytes => format!("{n} byte nội dung giải nén"),
        }
    }
}

/// `500000000` → `500 000 000` (the Vietnamese thousands separator is a space or a dot).
fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Time is looked at every this many charges (reading the clock is cheap, not free).
const CLOCK_EVERY: u32 = 1024;

/// What one document's extraction has used so far. Single-threaded (one document is read
/// by one thread); shared by reference through the interpreter.
#[derive(Debug)]
pub struct Meter {
    budget: Budget,
    deadline: Instant,
    glyphs: Cell<u64>,
    decoded: Cell<u64>,
    since_clock: Cell<u32>,
}

impl Meter {
    /// Starts the clock.
    pub fn start(budget: Budget) -> Meter {
        let now = Instant::now();
        Meter {
            budget,
            deadline: now
                .checked_add(budget.max_time)
                .unwrap_or(now + Duration::from_secs(86_400 * 365)),
            glyphs: Cell::new(0),
            decoded: Cell::new(0),
            since_clock: Cell::new(0),
        }
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    pub fn pages(&self, pages: usize) -> Result<(), BudgetExceeded> {
        if pages as u64 > self.budget.max_pages {
            return Err(BudgetExceeded {
                what: Limit::Pages,
                limit: self.budget.max_pages,
            });
        }
        Ok(())
    }

    /// One glyph decoded.
    #[inline]
    pub fn glyph(&self) -> Result<(), BudgetExceeded> {
        let n = self.glyphs.get() + 1;
        self.glyphs.set(n);
        if n > self.budget.max_glyphs {
            return Err(BudgetExceeded {
                what: Limit::Glyphs,
                limit: self.budget.max_glyphs,
            });
        }
        self.tick()
    }

    /// `bytes` of content inflated.
    pub fn decoded(&self, bytes: usize) -> Result<(), BudgetExceeded> {
        let n = self.decoded.get().saturating_add(bytes as u64);
        self.decoded.set(n);
        if n > self.budget.max_decoded_bytes {
            return Err(BudgetExceeded {
                what: Limit::DecodedBytes,
                limit: self.budget.max_decoded_bytes,
            });
        }
        self.check_time()
    }

    /// One unit of work (an operator interpreted): the clock is read every so often.
    #[inline]
    pub fn tick(&self) -> Result<(), BudgetExceeded> {
        let n = self.since_clock.get() + 1;
        if n < CLOCK_EVERY {
            self.since_clock.set(n);
            return Ok(());
        }
        self.since_clock.set(0);
        self.check_time()
    }

    pub fn check_time(&self) -> Result<(), BudgetExceeded> {
        if Instant::now() > self.deadline {
            return Err(BudgetExceeded {
                what: Limit::Time,
                limit: self.budget.max_time.as_secs().max(1),
            });
        }
        Ok(())
    }

    pub fn glyphs_used(&self) -> u64 {
        self.glyphs.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_trip_once_passed_and_describe_themselves() {
        let meter = Meter::start(Budget {
            max_time: Duration::from_secs(3600),
            max_pages: 2,
            max_glyphs: 3,
            max_decoded_bytes: 10,
        });
        assert!(meter.pages(2).is_ok());
        assert_eq!(meter.pages(3).unwrap_err().what, Limit::Pages);
        for _ in 0..3 {
            meter.glyph().unwrap();
        }
        let e = meter.glyph().unwrap_err();
        assert_eq!((e.what, e.limit), (Limit::Glyphs, 3));
        meter.decoded(10).unwrap();
        assert_eq!(meter.decoded(1).unwrap_err().what, Limit::DecodedBytes);

        let expired = Meter::start(Budget {
            max_time: Duration::ZERO,
            ..Budget::default()
        });
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(expired.check_time().unwrap_err().what, Limit::Time);

        let cases = [
            (Limit::Time, 30, "thời gian 30 s"),
            (Limit::Glyphs, 500_000_000, "500 000 000 ký tự"),
            (Limit::Pages, 5_000, "5 000 trang"),
            (Limit::DecodedBytes, 999, "999 byte nội dung giải nén"),
        ];
        for (what, limit, text) in cases {
            assert_eq!(BudgetExceeded { what, limit }.to_string(), text);
        }
    }
}
