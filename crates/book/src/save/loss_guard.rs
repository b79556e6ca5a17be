//! The loss guard: the saved package is reopened and compared with the old one; anything lost that no edit removed refuses the save.

use super::*;
use crate::model::FeatureCounts;
use crate::ooxml::xml::{attr_cow, local};

/// Compares the saved package with the original: every part is still there (but those this
/// save removed on purpose), and every rewritten sheet keeps its guarded features.
pub(super) fn loss_guard(
    wb: &SaveInput<'_>,
    saved: &[u8],
    written: &dyn Fn(&str) -> bool,
    strings: &[String],
    rewritten: &HashMap<usize, (Vec<u8>, Vec<CopiedSpan>)>,
    dropped: &BTreeSet<String>,
) -> Result<Package> {
    // Parts this save wrote are read through; copied parts are the original's compressed bytes.
    let new_pkg = Package::open_written(saved.to_vec().into(), wb.pkg.limits(), written)
        .map_err(|e| BookError::LossDetected(format!("the saved package does not reopen: {e}")))?;
    let mut lost = Vec::new();
    for entry in wb.pkg.entries() {
        if dropped.contains(&entry.name) {
            continue;
        }
        if new_pkg.entry(&entry.name).is_none() {
            lost.push(entry.name.clone());
        }
    }
    for (&si, (original, copied)) in rewritten {
        let sheet = &wb.model.sheets[si];
        let data = new_pkg.read(&sheet.part)?.ok_or_else(|| BookError::LossDetected(sheet.part.clone()))?;
        let original = original.strip_prefix(UTF8_BOM).unwrap_or(original);
        let features = verify_sheet_xml_except(&data, &sheet.part, strings, copied, original)
            .map_err(|e| BookError::LossDetected(format!("{} no longer parses: {e}", sheet.part)))?;
        for key in GUARDED_ELEMENTS {
            let before = sheet.features.0.get(key).copied().unwrap_or(0);
            let after = features.0.get(key).copied().unwrap_or(0);
            if after < before {
                lost.push(format!("{} {key} ({before} -> {after})", sheet.name));
            }
        }
    }
    if lost.is_empty() {
        Ok(new_pkg)
    } else {
        Err(BookError::LossDetected(lost.join(", ")))
    }
}

/// Whole rows a save copied from the sheet it patched: where they sit in the new part (`out`)
/// and in the old one (`orig`), both without a byte order mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedSpan {
    pub out: std::ops::Range<usize>,
    pub orig: std::ops::Range<usize>,
}

/// Checks a worksheet part the way the loss guard needs: well-formed, every cell value readable
/// as its type says (numbers parse, shared string indexes exist, …), and the guarded features
/// counted. Lighter than `parse_sheet_xml`: no cell map and no formula expansion.
pub fn verify_sheet_xml(data: &[u8], part: &str, sst: &[String]) -> Result<FeatureCounts> {
    verify_sheet_xml_except(data, part, sst, &[], &[])
}

/// `verify_sheet_xml` for a part a save wrote, which skips the rows it copied whole from
/// `original` (the part it patched, already read when it was opened or last saved) once they
/// are found byte for byte equal to it. Shared string indexes stay valid: strings are appended.
pub fn verify_sheet_xml_except(
    data: &[u8],
    part: &str,
    sst: &[String],
    copied: &[CopiedSpan],
    original: &[u8],
) -> Result<FeatureCounts> {
    // Straight on quick-xml (this runs over every cell of each rewritten sheet at every save),
    // with the same refusals as `XmlReader`: DTD entities and deep nesting.
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut scan = GuardScan { features: FeatureCounts::default(), depth: 0, cell: None, in_value: false };
    let mut from = 0;
    for span in copied {
        let same = span.out.start >= from
            && data.get(span.out.clone()).is_some_and(|bytes| original.get(span.orig.clone()) == Some(bytes));
        if !same {
            return Err(BookError::corrupt(
                part,
                format!("rows said to be copied differ (at byte {})", span.out.start),
            ));
        }
        scan.run(&data[from..span.out.start], from, part, sst)?;
        from = span.out.end;
    }
    scan.run(&data[from..], from, part, sst)?;
    Ok(scan.features)
}

/// What the check carries from one stretch of a part to the next.
struct GuardScan {
    features: FeatureCounts,
    depth: usize,
    /// Inside a `<c>`: its type, then the text of its `<v>` once read.
    cell: Option<(Option<String>, Option<String>)>,
    in_value: bool,
}

impl GuardScan {
    fn run(&mut self, data: &[u8], base: usize, part: &str, sst: &[String]) -> Result<()> {
        use quick_xml::events::Event;
        let mut r = quick_xml::Reader::from_reader(data);
        r.config_mut().trim_text(false);
        r.config_mut().check_end_names = false;
        // A stretch after a skipped row meets the ends of elements opened before it.
        r.config_mut().allow_unmatched_ends = base > 0;
        let err = |r: &quick_xml::Reader<&[u8]>, msg: &dyn std::fmt::Display| {
            BookError::corrupt(part, format!("{msg} (at byte {})", base + r.buffer_position() as usize))
        };
        loop {
            let event = r.read_event().map_err(|e| err(&r, &e))?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    if !empty {
                        self.depth += 1;
                        if self.depth > crate::ooxml::xml::MAX_DEPTH {
                            return Err(err(&r, &"elements nested too deeply"));
                        }
                    }
                    let name = local(e);
                    match name {
                        b"c" if !empty => self.cell = Some((attr_cow(e, b"t").map(|t| t.into_owned()), None)),
                        // `<v/>` holds no value, as when reading.
                        b"v" if !empty && self.cell.is_some() => {
                            if self.cell.as_ref().is_some_and(|(_, v)| v.is_some()) {
                                return Err(err(&r, &"a cell with two values"));
                            }
                            self.in_value = true;
                            if let Some((_, v)) = self.cell.as_mut() {
                                *v = Some(String::new());
                            }
                        }
                        b"c" | b"v" | b"row" | b"f" => {}
                        _ => {
                            if let Some(key) = GUARDED_ELEMENTS.iter().find(|k| k.as_bytes() == name) {
                                *self.features.0.entry(key).or_default() += 1;
                            }
                        }
                    }
                }
                Event::Text(t) if self.in_value => {
                    if let Some((_, Some(v))) = self.cell.as_mut() {
                        v.push_str(&t.xml10_content());
                    }
                }
                Event::GeneralRef(g) if self.in_value => {
                    let c = crate::ooxml::xml::resolve_entity(&g)
                        .ok_or_else(|| err(&r, &format!("unknown entity &{};", &*g)))?;
                    if let Some((_, Some(v))) = self.cell.as_mut() {
                        v.push(c);
                    }
                }
                Event::End(ref e) => {
                    self.depth = self.depth.saturating_sub(1);
                    match crate::ooxml::xml::local_name(e.name().into_inner().as_bytes()) {
                        b"v" => self.in_value = false,
                        b"c" => {
                            if let Some((t, v)) = self.cell.take() {
                                check_cell_value(t.as_deref(), v.as_deref(), sst).map_err(|d| err(&r, &d))?;
                            }
                        }
                        _ => {}
                    }
                }
                Event::DocType(d) if d.contains("<!ENTITY") || d.contains("<!entity") => {
                    return Err(BookError::Hostile(format!("{part}: DTD entity declarations are not accepted")));
                }
                Event::Eof => return Ok(()),
                _ => {}
            }
        }
    }
}

/// Whether a cell's value reads as its type says, without building the value (the loss guard
/// checks every cell of a rewritten sheet).
fn check_cell_value(t: Option<&str>, v: Option<&str>, sst: &[String]) -> std::result::Result<(), String> {
    match (t, v) {
        (Some("s"), Some(v)) => {
            let idx: usize = v.trim().parse().map_err(|_| format!("bad shared string index '{v}'"))?;
            if idx >= sst.len() {
                return Err(format!("shared string {idx} does not exist"));
            }
            Ok(())
        }
        // Other types read anything; the rest (`n`, none, unknown) are numbers, as when reading.
        (Some("inlineStr" | "str" | "b" | "e" | "d"), _) | (_, None) => Ok(()),
        (_, Some(v)) if v.trim().is_empty() => Ok(()),
        (_, Some(v)) => v.trim().parse::<f64>().map(|_| ()).map_err(|_| format!("bad number '{v}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::verify_sheet_xml;
    use crate::ooxml::consts::MAIN_NS as NS;

    #[test]
    fn the_guard_reads_every_value_and_counts_features() {
        let ok = format!(
            r#"<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="A1"><v>1.5</v></c><c r="B1" t="s"><v>0</v></c><c r="C1" t="e"><v>#N/A</v></c></row></sheetData><mergeCells count="2"><mergeCell ref="A2:B2"/><mergeCell ref="A3:B3"/></mergeCells><hyperlinks><hyperlink ref="A1"/></hyperlinks></worksheet>"#
        );
        let counts = verify_sheet_xml(ok.as_bytes(), "s.xml", &["x".to_string()]).unwrap();
        assert_eq!(counts.0.get("mergeCell"), Some(&2));
        assert_eq!(counts.0.get("hyperlink"), Some(&1));
        // An error text written as a number, or a shared string that does not exist, is refused.
        let bad_number = format!(
            r#"<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="A1"><v>#NAME?</v></c></row></sheetData></worksheet>"#
        );
        assert!(verify_sheet_xml(bad_number.as_bytes(), "s.xml", &[]).is_err());
        let bad_index = format!(
            r#"<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="A1" t="s"><v>3</v></c></row></sheetData></worksheet>"#
        );
        assert!(verify_sheet_xml(bad_index.as_bytes(), "s.xml", &["x".to_string()]).is_err());
    }
}
