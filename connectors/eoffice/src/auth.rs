//! How a request proves who sends it. Hubs differ, so the scheme is pluggable:
//!
//! - VXP header signing: `systemid`, `timestamp` and an HMAC-SHA256 `signature` header
//!   keyed with the system's secret. What exactly is signed is not published; the one
//!   public SDK example signs `systemId + timestamp + contentType + body` with a
//!   `ddMMyyyyTHHmmss+SSSS` timestamp, which is the default here. Template, timestamp
//!   format, encoding and header names are all configurable.
//! - Static keys (`X-SystemId` / `X-SecretKey`) on provincial LGSP gateways (`/v1/`).
//! - OAuth2 client credentials (bearer tokens, refreshed before they expire or on a 401).

use base64::Engine;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = hmac::Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials (a hub behind a VPN that authenticates by address).
    None,
    Vxp(VxpSigning),
    StaticKey {
        system_id: String,
        secret_key: String,
    },
    OAuth2(OAuth2ClientCredentials),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2ClientCredentials {
    /// Absolute token URL, or a path relative to the hub endpoint.
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    /// `ddMMyyyyTHHmmss+SSSS` in Vietnam time; `SSSS` is the epoch milliseconds modulo
    /// 10,000, as the public VXP SDK example writes it.
    VxpCompact,
    UnixSeconds,
    UnixMillis,
    Rfc3339,
}

impl TimestampFormat {
    pub fn parse_name(name: &str) -> Option<TimestampFormat> {
        Some(match name {
            "vxp" | "vxp_compact" => TimestampFormat::VxpCompact,
            "unix" | "unix_seconds" => TimestampFormat::UnixSeconds,
            "unix_ms" | "unix_millis" => TimestampFormat::UnixMillis,
            "rfc3339" => TimestampFormat::Rfc3339,
            _ => return None,
        })
    }

    pub fn format(self, at: DateTime<Utc>) -> String {
        match self {
            TimestampFormat::VxpCompact => {
                let local = at.with_timezone(&vietnam());
                format!(
                    "{}+{:04}",
                    local.format("%d%m%YT%H%M%S"),
                    at.timestamp_millis().rem_euclid(10_000)
                )
            }
            TimestampFormat::UnixSeconds => at.timestamp().to_string(),
            TimestampFormat::UnixMillis => at.timestamp_millis().to_string(),
            TimestampFormat::Rfc3339 => at.to_rfc3339(),
        }
    }

    /// The instant a timestamp header names (to the second), for clock-skew checks.
    pub fn parse(self, text: &str) -> Option<DateTime<Utc>> {
        match self {
            TimestampFormat::VxpCompact => {
                let (clock, _) = text.split_once('+')?;
                let naive = NaiveDateTime::parse_from_str(clock, "%d%m%YT%H%M%S").ok()?;
                Some(
                    vietnam()
                        .from_local_datetime(&naive)
                        .single()?
                        .with_timezone(&Utc),
                )
            }
            TimestampFormat::UnixSeconds => Utc.timestamp_opt(text.parse().ok()?, 0).single(),
            TimestampFormat::UnixMillis => Utc.timestamp_millis_opt(text.parse().ok()?).single(),
            TimestampFormat::Rfc3339 => DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

/// Vietnam has kept UTC+7 without daylight saving since 1975.
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureEncoding {
    HexLower,
    Base64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VxpSigning {
    pub system_id: String,
    pub secret: String,
    /// The canonical string, with placeholders `{systemid}`, `{timestamp}`, `{method}`,
    /// `{path}`, `{content_type}`, `{body}`, `{body_sha256}` and `{docid}`.
    pub canonical: String,
    pub timestamp_format: TimestampFormat,
    pub encoding: SignatureEncoding,
    pub system_id_header: String,
    pub timestamp_header: String,
    pub signature_header: String,
}

/// The canonical template of the public SDK example.
pub const DEFAULT_CANONICAL: &str = "{systemid}{timestamp}{content_type}{body}";

impl VxpSigning {
    /// Defaults for everything but the credentials.
    pub fn new(system_id: impl Into<String>, secret: impl Into<String>) -> VxpSigning {
        VxpSigning {
            system_id: system_id.into(),
            secret: secret.into(),
            canonical: DEFAULT_CANONICAL.into(),
            timestamp_format: TimestampFormat::VxpCompact,
            encoding: SignatureEncoding::HexLower,
            system_id_header: "systemid".into(),
            timestamp_header: "timestamp".into(),
            signature_header: "signature".into(),
        }
    }

    /// The headers that sign `request` at `at`.
    pub fn headers(&self, request: &RequestParts, at: DateTime<Utc>) -> Vec<(String, String)> {
        let timestamp = self.timestamp_format.format(at);
        let canonical = canonical_string(&self.canonical, &self.system_id, &timestamp, request);
        vec![
            (self.system_id_header.clone(), self.system_id.clone()),
            (self.timestamp_header.clone(), timestamp),
            (
                self.signature_header.clone(),
                sign(&self.secret, &canonical, self.encoding),
            ),
        ]
    }

    /// Checks a signature the way a hub does (constant-time comparison).
    pub fn verify(&self, timestamp: &str, signature: &str, request: &RequestParts) -> bool {
        let canonical = canonical_string(&self.canonical, &self.system_id, timestamp, request);
        let expected = match self.encoding {
            SignatureEncoding::HexLower => hex::decode(signature.trim()).ok(),
            SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(signature.trim())
                .ok(),
        };
        let Some(expected) = expected else {
            return false;
        };
        let mut mac =
            HmacSha256::new_from_slice(self.secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(canonical.as_bytes());
        mac.verify_slice(&expected).is_ok()
    }
}

/// What of a request a signature may cover.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub doc_id: &'a str,
}

pub fn canonical_string(
    template: &str,
    system_id: &str,
    timestamp: &str,
    request: &RequestParts,
) -> String {
    // One pass, so a value containing "{body}" is never substituted again.
    let mut out = String::with_capacity(template.len() + request.body.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let Some(close) = after.find('}') else {
            out.push_str(after);
            return out;
        };
        match &after[1..close] {
            "systemid" => out.push_str(system_id),
            "timestamp" => out.push_str(timestamp),
            "method" => out.push_str(request.method),
            "path" => out.push_str(request.path),
            "content_type" => out.push_str(request.content_type),
            "body" => out.push_str(&String::from_utf8_lossy(request.body)),
            "body_sha256" => out.push_str(&hex::encode(Sha256::digest(request.body))),
            "docid" => out.push_str(request.doc_id),
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

pub fn sign(secret: &str, canonical: &str, encoding: SignatureEncoding) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(canonical.as_bytes());
    let bytes = mac.finalize().into_bytes();
    match encoding {
        SignatureEncoding::HexLower => hex::encode(bytes),
        SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(body: &[u8]) -> RequestParts<'_> {
        RequestParts {
            method: "POST",
            path: "/getEdoc",
            content_type: "application/json",
            body,
            doc_id: "d-1",
        }
    }

    #[test]
    fn canonical_strings_substitute_once() {
        let p = parts(b"{body}");
        assert_eq!(
            canonical_string("{systemid}|{timestamp}|{body}|{docid}|{x}", "s", "t", &p),
            "s|t|{body}|d-1|{x}"
        );
        assert_eq!(
            canonical_string("{path}{method}", "s", "t", &p),
            "/getEdocPOST"
        );
    }

    #[test]
    fn hmac_matches_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(
                "Jefe",
                "what do ya want for nothing?",
                SignatureEncoding::HexLower
            ),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signatures_verify_and_tampering_is_caught() {
        let signing = VxpSigning::new("vxp.test", "bí mật");
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 1, 2, 3).unwrap();
        let headers = signing.headers(&parts(b""), at);
        let timestamp = &headers[1].1;
        let signature = &headers[2].1;
        assert!(timestamp.starts_with("30112026T080203+"), "{timestamp}");
        assert!(signing.verify(timestamp, signature, &parts(b"")));
        assert!(!signing.verify(timestamp, signature, &parts(b"x")));
        let mut other = signing.clone();
        other.secret = "khác".into();
        assert!(!other.verify(timestamp, signature, &parts(b"")));
        assert!(!signing.verify(timestamp, "zz", &parts(b"")));
    }

    #[test]
    fn timestamps_round_trip_to_the_second() {
        let at = Utc.with_ymd_and_hms(2026, 2, 28, 17, 30, 5).unwrap();
        for f in [
            TimestampFormat::VxpCompact,
            TimestampFormat::UnixSeconds,
            TimestampFormat::UnixMillis,
            TimestampFormat::Rfc3339,
        ] {
            assert_eq!(f.parse(&f.format(at)), Some(at), "{f:?}");
        }
        assert_eq!(TimestampFormat::VxpCompact.parse("garbage"), None);
    }
}
