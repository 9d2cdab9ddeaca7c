//! What the hub says: the JSON envelope every verb answers with, and the list entries.

use serde::Deserialize;
use serde_json::Value;

/// `{"status": "OK"|"FAIL", "ErrorCode": …, "ErrorDesc": …, "data": …}`. Hubs differ in
/// the case of the keys; all spellings seen are accepted.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Envelope {
    #[serde(alias = "Status", default)]
    pub status: Option<String>,
    #[serde(alias = "ErrorCode", alias = "errorCode", default)]
    pub error_code: Option<Value>,
    #[serde(alias = "ErrorDesc", alias = "errorDesc", default)]
    pub error_desc: Option<String>,
    #[serde(alias = "Data", default)]
    pub data: Option<Value>,
    /// Total entries, when the hub pages its lists.
    #[serde(alias = "Total", default)]
    pub total: Option<u64>,
    #[serde(alias = "docId", alias = "DocId", default)]
    pub doc_id: Option<Value>,
}

impl Envelope {
    pub fn is_ok(&self) -> bool {
        self.status
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("ok") || s.eq_ignore_ascii_case("success"))
    }
    pub fn code(&self) -> String {
        match &self.error_code {
            Some(Value::String(s)) => s.clone(),
            Some(v) if !v.is_null() => v.to_string(),
            _ => String::new(),
        }
    }
}

/// One entry of `getReceivedEdocList` / `getSentEdocList`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdocSummary {
    pub doc_id: String,
    pub service_type: Option<String>,
    pub message_type: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub status: Option<String>,
    pub created_time: Option<String>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl EdocSummary {
    /// Reads an entry, whatever the key case (`docId`, `DocId`, `docid`); `None` without
    /// a document id.
    pub fn from_json(v: &Value) -> Option<EdocSummary> {
        let obj = v.as_object()?;
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)))
                .map(|(_, v)| v)
        };
        Some(EdocSummary {
            doc_id: text(get(&["docId", "id", "doc_id"]))?,
            service_type: text(get(&["serviceType", "service_type"])),
            message_type: text(get(&["messageType", "message_type"])),
            from: text(get(&["from", "fromCode"])),
            to: text(get(&["to", "toCode"])),
            status: text(get(&["status"])),
            created_time: text(get(&["created_time", "createdTime", "created"])),
        })
    }
}

/// What `updateStatus` tells the hub about a received package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckStatus {
    /// Stored: the hub may forget it.
    Done,
    /// Could not be processed.
    Fail,
}

impl AckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AckStatus::Done => "done",
            AckStatus::Fail => "fail",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_in_any_key_case() {
        let v = serde_json::json!({"DocId": 123, "ServiceType": "eDoc", "from": "000.00.00.H41"});
        let e = EdocSummary::from_json(&v).unwrap();
        assert_eq!(e.doc_id, "123");
        assert_eq!(e.service_type.as_deref(), Some("eDoc"));
        assert!(EdocSummary::from_json(&serde_json::json!({"docId": ""})).is_none());
    }

    #[test]
    fn envelopes() {
        let e: Envelope =
            serde_json::from_str(r#"{"Status":"FAIL","ErrorCode":12,"ErrorDesc":"x"}"#).unwrap();
        assert!(!e.is_ok());
        assert_eq!(e.code(), "12");
        let e: Envelope = serde_json::from_str(r#"{"status":"OK","data":[]}"#).unwrap();
        assert!(e.is_ok());
    }
}
