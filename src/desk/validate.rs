//! Validation of a clerk's corrections (the desk's correction form and the admin API's
//! PATCH): each field checked with a message in Vietnamese beside it, and the result as
//! `store::Corrections` — the record's values with the corrections applied. Pure: no
//! request, no database.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;
use serde::Deserialize;

use crate::doctypes::DocTypeTable;
use crate::store::{Corrections, DocumentFields};

/// What a clerk typed. A field that is absent (`None`) keeps the record's value; an empty
/// one clears it (refused for required fields).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub doc_type: Option<String>,
    pub number_symbol: Option<String>,
    pub issuer: Option<String>,
    pub issued_date: Option<String>,
    pub effective_date: Option<String>,
    #[serde(alias = "abstract")]
    pub abstract_text: Option<String>,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
}

/// A refused field and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's name (as in the form and the API).
    pub field: &'static str,
    pub message: String,
}

/// The number-symbol's shape (after normalisation, spaces dropped): a number, an optional
/// year, then the symbol: "12/QĐ-UBND", "12/2024/QĐ-UBND", "123/UBND-VP", "05/2024/TT-BTC".
static NUMBER_SYMBOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(\d{1,6})(?:/((?:19|20)\d{2}))?/([\p{L}\d&.]*\p{L}[\p{L}\d&.]*(?:-[\p{L}\d&.]+)*)$",
    )
    .expect("regex")
});

const MAX_TEXT: usize = 2000;

fn clean(s: &str) -> String {
    crate::text::normalize(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A date as typed: `2024-03-15` (the browser's date field) or `15/03/2024`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%d-%m-%Y"))
        .ok()
}

/// The number-symbol in its stored form ("12 /QĐ- UBND" → "12/QĐ-UBND"), or why not.
pub fn number_symbol(s: &str) -> Result<String, String> {
    let compact: String = crate::text::normalize(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if NUMBER_SYMBOL.is_match(&compact) {
        Ok(compact)
    } else {
        Err(format!(
            "Số ký hiệu \"{}\" không đúng dạng: số, năm (nếu có) và ký hiệu, ví dụ «12/QĐ-UBND», «12/2024/QĐ-UBND» hoặc «123/UBND-VP»",
            s.trim()
        ))
    }
}

/// Today in Vietnam (UTC+7, no daylight saving).
fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// Checks `input` against the record's current `fields` and the type table; the
/// corrected values, or every refused field.
pub fn validate(
    fields: &DocumentFields,
    input: &Input,
    types: &DocTypeTable,
) -> Result<Corrections, Vec<FieldError>> {
    validate_on(fields, input, types, today())
}

fn validate_on(
    fields: &DocumentFields,
    input: &Input,
    types: &DocTypeTable,
    today: NaiveDate,
) -> Result<Corrections, Vec<FieldError>> {
    let mut out = Corrections::of(fields);
    let mut errors = Vec::new();
    let mut err = |field: &'static str, message: String| errors.push(FieldError { field, message });
    let required = "Không được để trống";

    if let Some(t) = &input.doc_type {
        let t = clean(t);
        if t.is_empty() {
            err("doc_type", format!("{required}: chọn loại văn bản"));
        } else {
            match types.by_name(&t) {
                Some(found) => out.doc_type = Some(found.name.clone()),
                None => err(
                    "doc_type",
                    format!("Loại văn bản \"{t}\" không có trong bảng loại văn bản"),
                ),
            }
        }
    }
    if let Some(ns) = &input.number_symbol {
        if ns.trim().is_empty() {
            // A constitution carries no number-symbol; every other type does.
            if crate::domain::type_carries_number(out.doc_type.as_deref()) {
                err("number_symbol", required.into());
            } else {
                out.number_symbol = None;
            }
        } else {
            match number_symbol(ns) {
                Ok(ns) => out.number_symbol = Some(ns),
                Err(message) => err("number_symbol", message),
            }
        }
    }
    if let Some(issuer) = &input.issuer {
        let issuer = clean(issuer);
        if issuer.is_empty() {
            err("issuer", required.into());
        } else if issuer.chars().count() > 300 {
            err(
                "issuer",
                "Tên cơ quan ban hành quá dài (tối đa 300 ký tự)".into(),
            );
        } else {
            out.issuer = Some(issuer);
        }
    }
    let mut date = |field: &'static str,
                    value: &Option<String>,
                    slot: &mut Option<NaiveDate>,
                    required_here: bool| {
        let Some(value) = value else { return };
        if value.trim().is_empty() {
            if required_here {
                err(field, required.into());
            } else {
                *slot = None;
            }
            return;
        }
        match parse_date(value) {
            None => err(
                field,
                format!(
                    "Ngày \"{}\" không có thật hoặc không đúng dạng ngày/tháng/năm",
                    value.trim()
                ),
            ),
            Some(d) if d.year() < 1945 => {
                err(field, "Ngày trước năm 1945: kiểm tra lại năm".into())
            }
            Some(d) => *slot = Some(d),
        }
    };
    date(
        "issued_date",
        &input.issued_date,
        &mut out.issued_date,
        true,
    );
    date(
        "effective_date",
        &input.effective_date,
        &mut out.effective_date,
        false,
    );
    if let Some(abstract_text) = &input.abstract_text {
        let a = clean(abstract_text);
        if a.is_empty() {
            err(
                "abstract",
                format!("{required}: trích yếu nói văn bản về việc gì"),
            );
        } else if a.chars().count() > MAX_TEXT {
            err(
                "abstract",
                format!("Trích yếu quá dài (tối đa {MAX_TEXT} ký tự)"),
            );
        } else {
            out.abstract_text = Some(a);
        }
    }
    for (field, value, slot) in [
        ("signer_name", &input.signer_name, &mut out.signer_name),
        ("signer_title", &input.signer_title, &mut out.signer_title),
    ] {
        if let Some(v) = value {
            let v = clean(v);
            if v.chars().count() > 300 {
                err(field, "Quá dài (tối đa 300 ký tự)".into());
            } else {
                *slot = (!v.is_empty()).then_some(v);
            }
        }
    }
    // Across fields, on the values the record would have (a field already refused is
    // not judged again).
    if !errors_has(&errors, "issued_date")
        && let Some(issued) = out.issued_date
        && issued > today
    {
        errors.push(FieldError {
            field: "issued_date",
            message: format!("Ngày ban hành {} ở tương lai", issued.format("%d/%m/%Y")),
        });
    }
    if !errors_has(&errors, "issued_date")
        && !errors_has(&errors, "effective_date")
        && let (Some(issued), Some(effective)) = (out.issued_date, out.effective_date)
        && effective < issued
    {
        errors.push(FieldError {
            field: "effective_date",
            message: format!(
                "Ngày có hiệu lực {} trước ngày ban hành {}",
                effective.format("%d/%m/%Y"),
                issued.format("%d/%m/%Y")
            ),
        });
    }
    if !errors_has(&errors, "number_symbol")
        && let Some(ns) = &out.number_symbol
        && let Some(caps) = NUMBER_SYMBOL.captures(ns)
    {
        // The year in "12/2024/QĐ-UBND" is the year of issue.
        if let (Some(year), Some(issued)) = (caps.get(2), out.issued_date)
            && !errors_has(&errors, "issued_date")
            && year.as_str().parse::<i32>().ok() != Some(issued.year())
        {
            errors.push(FieldError {
                field: "number_symbol",
                message: format!(
                    "Năm trong số ký hiệu ({}) khác năm ban hành ({})",
                    year.as_str(),
                    issued.year()
                ),
            });
        }
        // The symbol's first part names the type when it is a type's code ("QĐ").
        let code = caps[3].split('-').next().unwrap_or("");
        if !errors_has(&errors, "doc_type")
            && let (Some(by_code), Some(doc_type)) = (
                types.types.iter().find(|t| t.code.as_deref() == Some(code)),
                out.doc_type.as_deref(),
            )
            && by_code.name != doc_type
        {
            errors.push(FieldError {
                field: "doc_type",
                message: format!(
                    "Ký hiệu «{code}» là của loại «{}», nhưng loại văn bản chọn là «{doc_type}»",
                    by_code.name
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn errors_has(errors: &[FieldError], field: &str) -> bool {
    errors.iter().any(|e| e.field == field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DocumentFields {
        DocumentFields {
            doc_type: Some("Quyết định".into()),
            number_symbol: Some("116/QĐ-UBND".into()),
            issuer: Some("UBND xã Nam Chính".into()),
            issued_date: NaiveDate::from_ymd_opt(2024, 3, 15),
            abstract_text: Some("Về việc phê duyệt kế hoạch".into()),
            ..Default::default()
        }
    }

    fn input(pairs: &[(&str, &str)]) -> Input {
        let map: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect();
        serde_json::from_value(serde_json::Value::Object(map)).unwrap()
    }

    #[test]
    fn corrections_are_checked_field_by_field() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let types = DocTypeTable::builtin();
        // (input, Ok: a field and its stored value | Err: the refused fields)
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            Result<(&'a str, &'a str), &'a [&'a str]>,
        );
        let cases: &[Case] = &[
            (
                &[("number_symbol", " 12 /QĐ- UBND ")],
                Ok(("number_symbol", "12/QĐ-UBND")),
            ),
            (
                &[("number_symbol", "12/2024/QĐ-UBND")],
                Ok(("number_symbol", "12/2024/QĐ-UBND")),
            ),
            (
                &[("number_symbol", "123/UBND-VP"), ("doc_type", "Công văn")],
                Ok(("number_symbol", "123/UBND-VP")),
            ),
            (
                &[("number_symbol", "05/QyĐ-UBND"), ("doc_type", "Quy định")],
                Ok(("doc_type", "Quy định")),
            ),
            (&[("number_symbol", "QĐ-UBND")], Err(&["number_symbol"])),
            (
                &[("number_symbol", "12/QĐ UBND")],
                Ok(("number_symbol", "12/QĐUBND")),
            ),
            (&[("number_symbol", "12/2024")], Err(&["number_symbol"])),
            (&[("number_symbol", "abc/QĐ-UBND")], Err(&["number_symbol"])),
            (&[("number_symbol", "")], Err(&["number_symbol"])),
            (
                &[("number_symbol", "12/2023/QĐ-UBND")],
                Err(&["number_symbol"]),
            ),
            (&[("number_symbol", "12/TB-UBND")], Err(&["doc_type"])),
            (
                &[("number_symbol", "12/TB-UBND"), ("doc_type", "thông báo")],
                Ok(("doc_type", "Thông báo")),
            ),
            (&[("doc_type", "Quyết đinh lạ")], Err(&["doc_type"])),
            (&[("doc_type", "")], Err(&["doc_type"])),
            (&[("issued_date", "2024-02-30")], Err(&["issued_date"])),
            (&[("issued_date", "31/04/2024")], Err(&["issued_date"])),
            (
                &[("issued_date", "29/02/2024")],
                Ok(("issued_date", "2024-02-29")),
            ),
            (&[("issued_date", "2027-01-01")], Err(&["issued_date"])),
            (&[("issued_date", "1900-01-01")], Err(&["issued_date"])),
            (&[("issued_date", "")], Err(&["issued_date"])),
            (
                &[("effective_date", "2024-03-14")],
                Err(&["effective_date"]),
            ),
            (
                &[("effective_date", "2024-03-15")],
                Ok(("effective_date", "2024-03-15")),
            ),
            (&[("effective_date", "")], Ok(("effective_date", ""))),
            (&[("abstract", "   ")], Err(&["abstract"])),
            (
                &[("abstract", "Về  việc\u{a0}sửa")],
                Ok(("abstract", "Về việc sửa")),
            ),
            (&[("issuer", "")], Err(&["issuer"])),
            (
                &[("issuer", "Hội  đồng nhân dân xã")],
                Ok(("issuer", "Hội đồng nhân dân xã")),
            ),
            (&[("signer_name", "")], Ok(("signer_name", ""))),
            (
                &[
                    ("issued_date", "2024-05-01"),
                    ("effective_date", "2024-04-01"),
                    ("abstract", ""),
                ],
                Err(&["effective_date", "abstract"]),
            ),
        ];
        for (pairs, want) in cases {
            let got = validate_on(&record(), &input(pairs), types, today);
            match (want, got) {
                (Ok((field, value)), Ok(c)) => {
                    let stored = match *field {
                        "number_symbol" => c.number_symbol.clone(),
                        "doc_type" => c.doc_type.clone(),
                        "issuer" => c.issuer.clone(),
                        "abstract" => c.abstract_text.clone(),
                        "signer_name" => c.signer_name.clone(),
                        "issued_date" => c.issued_date.map(|d| d.to_string()),
                        "effective_date" => c.effective_date.map(|d| d.to_string()),
                        other => panic!("{other}"),
                    };
                    assert_eq!(stored.as_deref().unwrap_or(""), *value, "{pairs:?}");
                }
                (Err(fields), Err(errors)) => {
                    let mut got: Vec<&str> = errors.iter().map(|e| e.field).collect();
                    got.sort();
                    let mut want = fields.to_vec();
                    want.sort();
                    assert_eq!(got, want, "{pairs:?}: {errors:?}");
                    assert!(errors.iter().all(|e| !e.message.is_empty()));
                }
                (want, got) => panic!("{pairs:?}: want {want:?}, got {got:?}"),
            }
        }
        // Nothing typed: the record as it is.
        assert_eq!(
            validate_on(&record(), &Input::default(), types, today),
            Ok(Corrections::of(&record()))
        );
    }
}
