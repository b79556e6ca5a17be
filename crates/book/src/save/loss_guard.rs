//! The loss guard: the saved package is reopened and compared with the old one; anything lost that no edit removed refuses the save.

use super::*;

/// Compares the saved package with the original: every part is still there (but those this
/// save removed on purpose), and every rewritten sheet keeps its guarded features.
pub(super) fn loss_guard(
    wb: &SaveInput<'_>,
    saved: &[u8],
    written: &dyn Fn(&str) -> bool,
    strings: &[String],
    rewritten: &HashMap<usize, (Vec<u8>, Vec<model::CopiedSpan>)>,
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
        let features = model::verify_sheet_xml_except(&data, &sheet.part, strings, copied, original)
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
