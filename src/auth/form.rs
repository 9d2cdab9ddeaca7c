//! `application/x-www-form-urlencoded` bodies of desk forms, decoded strictly (UTF-8, no
//! control characters but tab and line breaks), repeated fields kept (a multiple select,
//! checkboxes).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

use super::DeskError;

/// The fields of a submitted form, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> Result<FormData, DeskError> {
        let text = std::str::from_utf8(body).map_err(|_| invalid())?;
        let mut fields = Vec::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            fields.push((
                decode(key).ok_or_else(invalid)?,
                decode(value).ok_or_else(invalid)?,
            ));
        }
        Ok(FormData(fields))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `csrf` field.
    pub fn csrf(&self) -> Option<&str> {
        self.get("csrf")
    }
}

fn invalid() -> DeskError {
    DeskError::Invalid("Biểu mẫu gửi lên không đọc được (mã hoá không hợp lệ).".into())
}

/// `+` and `%XX` decoded; `None` for bytes that are not UTF-8, a broken escape, or a
/// control character other than tab and line breaks.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut k = 0;
    while k < bytes.len() {
        match bytes[k] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
                let high = hex(*bytes.get(k + 1)?)?;
                let low = hex(*bytes.get(k + 2)?)?;
                out.push(high * 16 + low);
                k += 2;
            }
            b => out.push(b),
        }
        k += 1;
    }
    let decoded = String::from_utf8(out).ok()?;
    (!decoded
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')))
    .then_some(decoded)
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = DeskError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = Bytes::from_request(request, state).await.map_err(|_| {
            DeskError::Invalid("Biểu mẫu gửi lên quá lớn hoặc bị gián đoạn.".into())
        })?;
        FormData::parse(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_decoded_strictly() {
        let f =
            FormData::parse(b"csrf=abc&unit=A&unit=B&name=V%C4%83n+th%C6%B0&empty=&flag").unwrap();
        assert_eq!(f.csrf(), Some("abc"));
        assert_eq!(f.all("unit"), vec!["A", "B"]);
        assert_eq!(f.get("name"), Some("Văn thư"));
        assert_eq!(f.text("empty"), None);
        assert_eq!(f.get("flag"), Some(""));
        assert_eq!(f.get("missing"), None);
        for bad in [
            &b"a=%FF"[..],
            b"a=%C3",
            b"a=%00",
            b"a=%4",
            b"a=%zz",
            b"\xff=1",
        ] {
            assert!(FormData::parse(bad).is_err(), "{bad:?}");
        }
    }
}
