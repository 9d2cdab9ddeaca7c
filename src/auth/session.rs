//! Server-side sessions: a random 256-bit token in the `vanban_session` cookie, only its
//! SHA-256 in the database, with the session's CSRF token. Also the client address that
//! sign-in throttling counts by.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};

use super::DeskUser;
use crate::config::Settings;
use crate::store::{NewSession, StoreError};
use crate::web::AppState;

/// The session cookie.
pub const COOKIE: &str = "vanban_session";
/// The sign-in form's own CSRF cookie (before there is a session to hold a token).
pub const LOGIN_COOKIE: &str = "vanban_login";
/// A session's idle expiry is pushed back at most this often (one write per minute per
/// session, not one per request).
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

/// What the database keeps of a token.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.trim())
}

/// `Set-Cookie` for a cookie the desk sets: `Secure; HttpOnly; SameSite=Strict`.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age_seconds: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age_seconds}; Secure; HttpOnly; SameSite=Strict"
    ))
    .expect("cookie values are hex")
}

/// `Set-Cookie` removing a cookie.
pub fn clear_cookie(name: &str, path: &str) -> HeaderValue {
    set_cookie(name, "", path, 0)
}

fn idle(settings: &Settings) -> Duration {
    Duration::minutes(settings.desk.session_idle_minutes.max(1) as i64)
}

/// Starts a session for an account that just proved its password: a new token every time
/// (the one the browser presented, `replaces`, is ended). Answers the token and the
/// `Set-Cookie` value.
pub async fn start(
    state: &AppState,
    account_id: i64,
    replaces: Option<&str>,
) -> Result<(String, HeaderValue), StoreError> {
    let token = new_token();
    let now = Utc::now();
    let lifetime = Duration::hours(state.settings.desk.session_max_hours.max(1) as i64);
    state
        .store
        .create_session(
            &NewSession {
                token_sha256: token_sha256(&token),
                account_id,
                csrf_token: new_token(),
                created_at: now,
                expires_at: now + lifetime,
            },
            now - idle(&state.settings),
            replaces.map(token_sha256).as_deref(),
        )
        .await?;
    let cookie = set_cookie(COOKIE, &token, "/desk", lifetime.num_seconds());
    Ok((token, cookie))
}

/// The signed-in account for a session token, if the session is live and the account
/// enabled; pushes back the idle expiry.
pub async fn load(state: &AppState, token: &str) -> Result<Option<DeskUser>, StoreError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let now = Utc::now();
    let sha = token_sha256(token);
    let Some(session) = state
        .store
        .session(&sha, now - idle(&state.settings), now)
        .await?
    else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_EVERY {
        state.store.touch_session(&sha, now).await?;
    }
    Ok(Some(DeskUser {
        account_id: session.account_id,
        name: session.name,
        display_name: session.display_name,
        role: session.role,
        units: session.units,
        csrf_token: session.csrf_token,
        session_sha256: sha,
    }))
}

/// The address sign-in failures are counted by: the peer, or for a peer listed in
/// `web.trusted_proxies` the address its `X-Forwarded-For` names last. IPv6 clients are
/// counted by their /64 (one subscriber's whole prefix).
pub fn client_key(settings: &Settings, headers: &HeaderMap, peer: Option<IpAddr>) -> String {
    let trusted = |ip: IpAddr| {
        settings.web.trusted_proxies.iter().any(|p| {
            p.trim()
                .parse::<IpAddr>()
                .is_ok_and(|p| p.to_canonical() == ip.to_canonical())
        })
    };
    let mut client = peer.map(|p| p.to_canonical());
    if let Some(ip) = client
        && trusted(ip)
    {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical())
            .collect::<Vec<_>>();
        // The last address not itself a trusted proxy is the one our proxies saw.
        if let Some(ip) = forwarded.iter().rev().find(|ip| !trusted(**ip)) {
            client = Some(*ip);
        }
    }
    match client {
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("ip6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "ip:unknown".into(),
    }
}

/// The peer address the server recorded for a request, if any.
pub fn peer(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=1; vanban_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "vanban"), None);
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "x_vanban_session=evil".parse().unwrap());
        h.append(header::COOKIE, "vanban_session=ok".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE), Some("ok"));
        let v = set_cookie(COOKIE, "abc", "/desk", 60);
        let v = v.to_str().unwrap();
        for part in [
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/desk",
            "Max-Age=60",
        ] {
            assert!(v.contains(part), "{v}");
        }
    }

    #[test]
    fn clients_are_told_apart_by_trusted_forwarding_only() {
        let settings = |proxies: &str| {
            Settings::load(
                None,
                [(
                    "VANBAN__WEB__TRUSTED_PROXIES".to_string(),
                    proxies.to_string(),
                )],
            )
            .unwrap()
            .settings
        };
        let mut fwd = HeaderMap::new();
        fwd.insert(
            "x-forwarded-for",
            "198.51.100.7, 203.0.113.5".parse().unwrap(),
        );
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let stranger: IpAddr = "192.0.2.9".parse().unwrap();
        #[rustfmt::skip]
        let cases: &[(&str, Option<IpAddr>, &HeaderMap, &str)] = &[
            ("", Some(stranger), &fwd, "ip:192.0.2.9"),
            ("10.0.0.2", Some(stranger), &fwd, "ip:192.0.2.9"),
            ("10.0.0.2", Some(proxy), &fwd, "ip:203.0.113.5"),
            ("10.0.0.2", Some(proxy), &HeaderMap::new(), "ip:10.0.0.2"),
            ("", Some("2001:db8:1:2:3:4:5:6".parse().unwrap()), &fwd, "ip6:2001:db8:1:2::/64"),
            ("", Some("::ffff:192.0.2.9".parse().unwrap()), &fwd, "ip:192.0.2.9"),
            ("", None, &fwd, "ip:unknown"),
        ];
        for (proxies, peer, headers, expected) in cases {
            assert_eq!(
                client_key(&settings(proxies), headers, *peer),
                *expected,
                "{proxies} {peer:?}"
            );
        }
    }
}
