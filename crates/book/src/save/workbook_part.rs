//! workbook.xml: its `<sheets>` list rewritten when sheets were added, renamed, moved, hidden or deleted, and full calculation on load.

use super::*;

/// Adds the parts of new sheets (with their relationships from the workbook and their content
/// types) and writes workbook.xml's `<sheets>` from the model: existing `<sheet>` elements keep
/// their attributes except the ones the model changed, new ones are written like them.
pub(super) fn write_sheet_list(
    wb: &SaveInput<'_>,
    new_sheets: BTreeMap<usize, Vec<u8>>,
    replaced: &mut HashMap<String, Vec<u8>>,
    added: &mut Vec<(String, Vec<u8>)>,
    removed: &mut BTreeSet<String>,
) -> Result<()> {
    let wb_part = wb.model.workbook_part.clone();
    let dir = wb_part.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
    // Deleted sheets: their parts, and the parts only they used (tables, comments), go with
    // their relationships and content types.
    for sheet in &wb.changes.deleted_sheets {
        let Some(entry) = wb.pkg.entry(&sheet.part) else { continue };
        let mut gone = vec![entry.name.clone()];
        let sheet_rels = rels_part_name(&entry.name);
        if let Some(e) = wb.pkg.entry(&sheet_rels) {
            gone.push(e.name.clone());
            for r in wb.pkg.rels(&entry.name)? {
                let own = ["/table", "/comments", "/threadedComment", "/printerSettings"];
                if !r.external && own.iter().any(|t| r.rel_type.ends_with(t)) {
                    if let Some(e) = wb.pkg.entry(&r.target) {
                        gone.push(e.name.clone());
                    }
                }
            }
        }
        let rels_name = rels_part_name(&wb_part);
        let rels = current(wb.pkg, replaced, &rels_name)?;
        replaced.insert(
            real_name(wb.pkg, &rels_name),
            keep_bom_infallible(&rels, |d| remove_relationship(d, &sheet.rel_id)),
        );
        let mut ct = current(wb.pkg, replaced, "[Content_Types].xml")?;
        for part in &gone {
            ct = keep_bom_infallible(&ct, |d| remove_override(d, part));
        }
        replaced.insert(real_name(wb.pkg, "[Content_Types].xml"), ct);
        removed.extend(gone);
    }
    if !new_sheets.is_empty() {
        let rels_name = rels_part_name(&wb_part);
        let mut rels = String::from_utf8_lossy(&current(wb.pkg, replaced, &rels_name)?).into_owned();
        let mut ct = current(wb.pkg, replaced, "[Content_Types].xml")?;
        let rel_type = relationship_type(wb.model.strict, "worksheet");
        for (si, bytes) in new_sheets {
            let sheet = &wb.model.sheets[si];
            let target = sheet.part.strip_prefix(&dir).unwrap_or(&sheet.part);
            let rel = format!(
                "<Relationship Id=\"{}\" Type=\"{rel_type}\" Target=\"{}\"/>",
                escape(&sheet.rel_id),
                escape(target)
            );
            rels = insert_before_last_close(&rels, &rel);
            ct = add_override(&ct, &sheet.part, WORKSHEET_CONTENT_TYPE);
            added.push((sheet.part.clone(), bytes));
        }
        replaced.insert(real_name(wb.pkg, &rels_name), rels.into_bytes());
        replaced.insert(real_name(wb.pkg, "[Content_Types].xml"), ct);
    }
    let xml = current(wb.pkg, replaced, &wb_part)?;
    let rewritten = keep_bom(&xml, |d| rewrite_sheets_element(d, &wb_part, &wb.model.sheets))?;
    replaced.insert(real_name(wb.pkg, &wb_part), rewritten);
    Ok(())
}

/// Whether a `<sheet>` start tag already says the sheet's name and visibility.
pub(super) fn sheet_element_matches(raw: &str, sheet: &model::Sheet) -> bool {
    let mut reader = Reader::from_str(raw);
    let Ok(Event::Empty(e)) = reader.read_event() else { return false };
    let state = attr_value(&e, b"state");
    let visibility = match state.as_deref() {
        Some("hidden") => model::Visibility::Hidden,
        Some("veryHidden") => model::Visibility::VeryHidden,
        _ => model::Visibility::Visible,
    };
    attr_value(&e, b"name").as_deref() == Some(sheet.name.as_str()) && visibility == sheet.visibility
}

pub(super) fn rewrite_sheets_element(xml: &[u8], part: &str, sheets: &[model::Sheet]) -> Result<Vec<u8>> {
    let mut reader = Reader::from_reader(xml);
    let (mut inner_start, mut inner_end) = (None, None);
    // Each existing `<sheet>`: its relationship id and its start tag, written self-closing.
    let mut existing: Vec<(String, String)> = Vec::new();
    let (mut element_name, mut rel_attr) = ("sheet".to_string(), "r:id".to_string());
    loop {
        let s = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| xml_err(part, e))?;
        let e_pos = reader.buffer_position() as usize;
        match ev {
            Event::Start(ref e) if crate::ooxml::xml::local(e) == b"sheets" && inner_start.is_none() => {
                inner_start = Some(e_pos)
            }
            Event::End(ref e) if local_end(e.name().into_inner().as_bytes()) == b"sheets" && inner_end.is_none() => {
                inner_end = Some(s);
                break;
            }
            Event::Empty(ref e) | Event::Start(ref e)
                if crate::ooxml::xml::local(e) == b"sheet" && inner_start.is_some() =>
            {
                element_name = e.name().into_inner().to_string();
                for a in e.attributes().with_checks(false).flatten() {
                    let key = a.key.into_inner();
                    if key.ends_with(":id") && !key.starts_with("xmlns") {
                        rel_attr = key.to_string();
                    }
                }
                let id = crate::ooxml::xml::rel_id(e).unwrap_or_default();
                existing.push((id, String::from_utf8_lossy(&xml[s..e_pos]).into_owned()));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let (Some(from), Some(to)) = (inner_start, inner_end) else {
        return Err(xml_err(part, "the workbook has no <sheets> element"));
    };
    let mut inner = String::new();
    for sheet in sheets {
        let state = match sheet.visibility {
            model::Visibility::Visible => String::new(),
            model::Visibility::Hidden => " state=\"hidden\"".to_string(),
            model::Visibility::VeryHidden => " state=\"veryHidden\"".to_string(),
        };
        match existing.iter().find(|(id, _)| *id == sheet.rel_id) {
            // Unchanged: the element as it was written.
            Some((_, raw)) if raw.ends_with("/>") && sheet_element_matches(raw, sheet) => inner.push_str(raw),
            Some((_, raw)) => {
                let name = format!(" name=\"{}\"", escape(&sheet.name));
                let tag = rebuild_start(raw.as_bytes(), &[b"state", b"name"], &format!("{name}{state}"), true);
                inner.push_str(&String::from_utf8_lossy(&tag));
            }
            None => inner.push_str(&format!(
                "<{element_name} name=\"{}\" sheetId=\"{}\"{state} {rel_attr}=\"{}\"/>",
                escape(&sheet.name),
                sheet.sheet_id,
                escape(&sheet.rel_id)
            )),
        }
    }
    let mut out = Vec::with_capacity(xml.len() + inner.len());
    out.extend_from_slice(&xml[..from]);
    out.extend_from_slice(inner.as_bytes());
    out.extend_from_slice(&xml[to..]);
    Ok(out)
}

/// Sets `fullCalcOnLoad="1"` on `<calcPr>`, adding the element if the workbook has none.
pub(super) fn set_full_calc_on_load(xml: &[u8]) -> Vec<u8> {
    let mut reader = Reader::from_reader(xml);
    let mut out = Vec::with_capacity(xml.len() + 32);
    let last = 0;
    let mut prefix = String::new();
    loop {
        let s = reader.buffer_position() as usize;
        let Ok(ev) = reader.read_event() else { return xml.to_vec() };
        let e_pos = reader.buffer_position() as usize;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let l: &[u8] = crate::ooxml::xml::local(e);
                if l == b"workbook" {
                    let q = e.name().into_inner().to_string();
                    prefix = q.strip_suffix("workbook").unwrap_or("").to_string();
                }
                if l == b"calcPr" {
                    out.extend_from_slice(&xml[last..s]);
                    out.extend_from_slice(&rebuild_start(
                        &xml[s..e_pos],
                        &[b"fullCalcOnLoad"],
                        " fullCalcOnLoad=\"1\"",
                        matches!(ev, Event::Empty(_)),
                    ));
                    out.extend_from_slice(&xml[e_pos..]);
                    return out;
                }
            }
            Event::End(ref e) => {
                let n = e.name().into_inner().as_bytes().to_vec();
                let l = local_end(&n);
                // calcPr sits after definedNames and before oleSize/customWorkbookViews/...; placing it
                // just before the first of those that follow sheets keeps schema order.
                if l == b"workbook" {
                    out.extend_from_slice(&xml[last..s]);
                    out.extend_from_slice(format!("<{prefix}calcPr fullCalcOnLoad=\"1\"/>").as_bytes());
                    out.extend_from_slice(&xml[s..]);
                    return insert_calc_pr_in_order(out, &prefix);
                }
            }
            _ => {}
        }
        let _ = e_pos;
    }
    out.extend_from_slice(&xml[last..]);
    out
}

/// Moves a calcPr appended at the end of workbook.xml to its schema position.
pub(super) fn insert_calc_pr_in_order(xml: Vec<u8>, prefix: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(&xml).into_owned();
    let calc = format!("<{prefix}calcPr fullCalcOnLoad=\"1\"/>");
    let Some(pos) = text.rfind(&calc) else { return xml };
    let without = format!("{}{}", &text[..pos], &text[pos + calc.len()..]);
    // Elements that must come after calcPr (CT_Workbook sequence).
    for after in [
        "oleSize",
        "customWorkbookViews",
        "pivotCaches",
        "smartTagPr",
        "smartTagTypes",
        "webPublishing",
        "fileRecoveryPr",
        "webPublishObjects",
        "extLst",
    ] {
        if let Some(p) = without.find(&format!("<{prefix}{after}")) {
            return format!("{}{calc}{}", &without[..p], &without[p..]).into_bytes();
        }
    }
    xml
}
