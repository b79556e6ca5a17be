//! Namespaces, relationship types and content types of the parts workbookd reads and writes,
//! in both of OOXML's conformance classes (Transitional, which Excel writes, and ISO Strict).

/// SpreadsheetML's main namespace.
pub const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
pub const MAIN_NS_STRICT: &str = "http://purl.oclc.org/ooxml/spreadsheetml/main";
/// The namespace of `r:id` attributes, and the stem of every relationship type.
pub const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
pub const REL_NS_STRICT: &str = "http://purl.oclc.org/ooxml/officeDocument/relationships";
/// The namespace of a `.rels` part.
pub const PACKAGE_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

pub const TABLE_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml";
pub const WORKSHEET_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
pub const SHARED_STRINGS_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml";

pub fn main_ns(strict: bool) -> &'static str {
    if strict {
        MAIN_NS_STRICT
    } else {
        MAIN_NS
    }
}

pub fn rel_ns(strict: bool) -> &'static str {
    if strict {
        REL_NS_STRICT
    } else {
        REL_NS
    }
}

/// A relationship type (`table`, `worksheet`, `sharedStrings`) in the package's class.
pub fn relationship_type(strict: bool, kind: &str) -> String {
    format!("{}/{kind}", rel_ns(strict))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationship_types_are_spelled_as_each_class_spells_them() {
        assert_eq!(
            relationship_type(false, "table"),
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"
        );
        assert_eq!(
            relationship_type(true, "sharedStrings"),
            "http://purl.oclc.org/ooxml/officeDocument/relationships/sharedStrings"
        );
    }
}
