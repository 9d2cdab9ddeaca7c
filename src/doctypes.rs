//! The document-type table (Decree 30 Phụ lục III + VBQPPL forms), loaded from
//! `config/doc-types.toml`. The table is data; this module only looks things up.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::text::fold;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TypeKind {
    Administrative,
    Normative,
    Copy,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DocType {
    pub name: String,
    #[serde(default)]
    pub code: Option<String>,
    pub kind: TypeKind,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct DocTypeTable {
    #[serde(rename = "type")]
    pub types: Vec<DocType>,
}

const BUILTIN: &str = include_str!("../config/doc-types.toml");

impl DocTypeTable {
    pub fn parse(toml_text: &str) -> Result<DocTypeTable, toml::de::Error> {
        toml::from_str(toml_text)
    }

    /// The table shipped in `config/doc-types.toml`.
    pub fn builtin() -> &'static DocTypeTable {
        static TABLE: OnceLock<DocTypeTable> = OnceLock::new();
        TABLE.get_or_init(|| DocTypeTable::parse(BUILTIN).expect("config/doc-types.toml is valid"))
    }

    /// Type by its symbol code: exact first ("CTr" is not "CT"), then without diacritics
    /// and case ("QD" typed for "QĐ").
    pub fn by_code(&self, code: &str) -> Option<&DocType> {
        self.types
            .iter()
            .find(|t| t.code.as_deref() == Some(code))
            .or_else(|| {
                let folded = fold(code);
                self.types
                    .iter()
                    .find(|t| t.code.as_deref().map(fold).as_deref() == Some(folded.as_str()))
            })
    }

    /// Type by a title line ("QUYẾT ĐỊNH", "Quyết định"), compared without diacritics.
    pub fn by_title(&self, title: &str) -> Option<&DocType> {
        let folded = fold(title.trim().trim_end_matches([':', '.']));
        self.types
            .iter()
            .find(|t| fold(&t.name) == folded || t.aliases.iter().any(|a| fold(a) == folded))
    }

    pub fn by_name(&self, name: &str) -> Option<&DocType> {
        self.by_title(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let table = DocTypeTable::builtin();
        assert_eq!(table.by_code("QĐ").unwrap().name, "Quyết định");
        assert_eq!(table.by_code("QD").unwrap().name, "Quyết định");
        assert_eq!(table.by_code("CTr").unwrap().name, "Chương trình");
        assert_eq!(table.by_code("CT").unwrap().name, "Chỉ thị");
        assert_eq!(table.by_code("QyĐ").unwrap().name, "Quy định");
        assert_eq!(
            table.by_title("KẾ HOẠCH").unwrap().code.as_deref(),
            Some("KH")
        );
        assert_eq!(table.by_title("NGHỊ QUYẾT").unwrap().name, "Nghị quyết");
        assert!(table.by_code("UBND").is_none());
        assert!(table.types.len() >= 40);
    }
}
