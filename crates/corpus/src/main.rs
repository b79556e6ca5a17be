//! Corpus harness: runs the document core over a folder of real .xlsx files.
//!
//! For every file: open; set one cell; save; reopen the output with `book` and with calamine;
//! check that untouched parts are byte-identical and the edited cell is there. For every
//! Excel-saved file with cached formula results: recalculate everything and compare each
//! non-volatile formula cell with Excel's cached value.
//!
//! Usage: corpus CORPUS_DIR [--report docs/corpus-report.md] [--ratchet docs/corpus-ratchet.json]
//!        [--update-ratchet] [--sample N] [--only SUBSTRING]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod structure;

use book::model::FormulaKind;
use book::{CellInput, Edit, SetCells, Value, Workbook};
use serde::{Deserialize, Serialize};

const VOLATILE: [&str; 7] = ["RAND", "RANDBETWEEN", "RANDARRAY", "NOW", "TODAY", "INFO", "CELL"];
const PER_FILE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
struct ManifestRow {
    path: String,
    excel_saved: bool,
    cached: u64,
    features: String,
}

#[derive(Debug, Default, Clone, Serialize)]
struct FileResult {
    path: String,
    opened: bool,
    open_error: Option<String>,
    saved: bool,
    save_error: Option<String>,
    lossless: bool,
    loss_detail: Option<String>,
    calc_file: bool,
    compared: u64,
    matched: u64,
    cube_cells: u64,
    /// Cells that call a function of the workbook's own VBA project, and their dependents.
    macro_cells: u64,
    excluded_volatile: u64,
    mismatches: Vec<(String, String, String, String)>,
    mismatch_functions: BTreeMap<String, u64>,
    /// calamine could not read the saved file because it holds an error value that calamine
    /// does not know (such as `#SPILL!`); the file was checked with `book` only.
    calamine_unsupported: Option<String>,
    ms: u128,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
struct Figures {
    files_total: u64,
    files_opened: u64,
    files_saved_lossless: u64,
    cells_compared_all: u64,
    cells_matched_all: u64,
    cells_compared_non_ironcalc: u64,
    cells_matched_non_ironcalc: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut corpus: Option<PathBuf> = None;
    let mut report = PathBuf::from("docs/corpus-report.md");
    let mut ratchet = PathBuf::from("docs/corpus-ratchet.json");
    let mut update = false;
    let mut sample: Option<usize> = None;
    let mut only: Option<String> = None;
    let mut dump: Option<PathBuf> = None;
    let mut structure_files: Option<usize> = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--report" => report = it.next().map(PathBuf::from).unwrap_or(report),
            "--ratchet" => ratchet = it.next().map(PathBuf::from).unwrap_or(ratchet),
            "--update-ratchet" => update = true,
            "--sample" => sample = it.next().and_then(|v| v.parse().ok()),
            "--only" => only = it.next(),
            "--dump" => dump = it.next().map(PathBuf::from),
            "--structure" => structure_files = it.next().and_then(|v| v.parse().ok()),
            _ => corpus = Some(PathBuf::from(a)),
        }
    }
    let Some(corpus) = corpus else {
        eprintln!("usage: corpus CORPUS_DIR [--report FILE] [--ratchet FILE] [--update-ratchet] [--sample N] [--only SUBSTR] [--dump FILE] [--structure N]");
        std::process::exit(2);
    };
    let manifest = read_manifest(&corpus.join("MANIFEST.tsv"));
    if let Some(n) = structure_files {
        // Files Excel saved, spread over the list.
        let excel: Vec<String> = manifest.iter().filter(|r| r.excel_saved).map(|r| r.path.clone()).collect();
        let step = (excel.len() / n.max(1)).max(1);
        let paths: Vec<String> = excel.into_iter().step_by(step).take(n).collect();
        let started = Instant::now();
        let f = structure::spot_check(&corpus, &paths);
        eprintln!("{f:#?}\nin {:.1}s", started.elapsed().as_secs_f64());
        println!(
            "structure spot check: {} files, {} sheets with a row inserted mid-sheet ({} refused), {} cells compared, {} wrong, {} saves failed; {} formula values compared with a full reload, {} differ",
            f.files_tried,
            f.sheets_shifted,
            f.sheets_refused,
            f.cells_compared,
            f.cells_wrong,
            f.saves_failed,
            f.values_compared,
            f.values_differ
        );
        if f.cells_wrong > 0 || f.saves_failed > 0 || f.values_differ > 0 {
            std::process::exit(1);
        }
        return;
    }
    let mut rows: Vec<ManifestRow> =
        manifest.into_iter().filter(|r| only.as_ref().is_none_or(|o| r.path.contains(o.as_str()))).collect();
    if let Some(n) = sample {
        // A deterministic spread over the whole list.
        let step = (rows.len() / n.max(1)).max(1);
        rows = rows.into_iter().step_by(step).take(n).collect();
    }
    let started = Instant::now();
    let results = run_all(&corpus, rows.clone());
    let elapsed = started.elapsed();
    let figures = figures(&results);
    eprintln!("{:#?}\nin {:.1}s", figures, elapsed.as_secs_f64());
    if let Some(d) = dump {
        let _ = std::fs::write(d, serde_json::to_string_pretty(&results).unwrap_or_default());
    }
    let full_run = sample.is_none() && only.is_none();
    if full_run {
        if let Some(parent) = report.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(&report, render_report(&results, &figures, elapsed));
    }
    // The ratchet applies to full runs: figures only go up.
    let mut failed = false;
    if full_run {
        if let Ok(text) = std::fs::read_to_string(&ratchet) {
            if let Ok(old) = serde_json::from_str::<Figures>(&text) {
                for (name, was, now) in [
                    ("files_opened", old.files_opened, figures.files_opened),
                    ("files_saved_lossless", old.files_saved_lossless, figures.files_saved_lossless),
                    ("cells_matched_all", old.cells_matched_all, figures.cells_matched_all),
                    ("cells_matched_non_ironcalc", old.cells_matched_non_ironcalc, figures.cells_matched_non_ironcalc),
                ] {
                    if now < was {
                        eprintln!("RATCHET: {name} dropped from {was} to {now}");
                        failed = true;
                    }
                }
            }
        }
        if update && !failed {
            let _ = std::fs::write(&ratchet, serde_json::to_string_pretty(&figures).unwrap_or_default() + "\n");
        }
    }
    // Panics are failures whatever the ratchet says; timeouts count as files not opened.
    let crashed = results.iter().filter(|r| r.open_error.as_deref().is_some_and(|e| e.starts_with("PANIC"))).count();
    if crashed > 0 {
        eprintln!("{crashed} files panicked or timed out");
        failed = true;
    }
    let total = results.len();
    let bad = results.iter().filter(|r| !r.lossless || !r.opened).count();
    println!("corpus harness: {} files fully ok, {} with problems listed in the report", total - bad, bad);
    if failed {
        std::process::exit(1);
    }
}

fn read_manifest(path: &Path) -> Vec<ManifestRow> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("cannot read {}: {e}", path.display());
        std::process::exit(2);
    });
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (p, es, cached, feat) =
        (col("path"), col("excel_saved"), col("formula_cells_with_cached_value"), col("features"));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let get = |i: Option<usize>| i.and_then(|i| f.get(i)).copied().unwrap_or("");
            ManifestRow {
                path: get(p).to_string(),
                excel_saved: get(es) == "1",
                cached: get(cached).parse().unwrap_or(0),
                features: get(feat).to_string(),
            }
        })
        .collect()
}

fn run_all(corpus: &Path, rows: Vec<ManifestRow>) -> Vec<FileResult> {
    let queue = Arc::new(Mutex::new(rows.into_iter().enumerate().collect::<Vec<_>>()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).min(4);
    let mut handles = Vec::new();
    for _ in 0..workers {
        let queue = queue.clone();
        let results = results.clone();
        let corpus = corpus.to_path_buf();
        handles.push(std::thread::spawn(move || {
            // A function call, so that the queue's lock is released before the file is run.
            let next = || queue.lock().ok().and_then(|mut q| q.pop());
            while let Some((i, row)) = next() {
                let r = run_one_guarded(&corpus, row);
                if let Ok(mut out) = results.lock() {
                    out.push((i, r));
                }
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    let mut out = Arc::try_unwrap(results).map(|m| m.into_inner().unwrap_or_default()).unwrap_or_default();
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Runs one file on its own thread so that a panic or a hang is recorded, not fatal.
fn run_one_guarded(corpus: &Path, row: ManifestRow) -> FileResult {
    let (tx, rx) = mpsc::channel();
    let path = corpus.join(&row.path);
    let row2 = row.clone();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_one(&path, &row2)));
            let _ = tx.send(r);
        })
        .ok();
    match rx.recv_timeout(PER_FILE_TIMEOUT) {
        Ok(Ok(r)) => r,
        Ok(Err(p)) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            FileResult { path: row.path, open_error: Some(format!("PANIC: {msg}")), ..Default::default() }
        }
        Err(_) => FileResult { path: row.path, open_error: Some("TIMEOUT".into()), ..Default::default() },
    }
}

fn run_one(path: &Path, row: &ManifestRow) -> FileResult {
    let t0 = Instant::now();
    let mut res = FileResult { path: row.path.clone(), ..Default::default() };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            res.open_error = Some(format!("read: {e}"));
            return res;
        }
    };
    // Calculation against Excel's cached values.
    res.calc_file = row.excel_saved && row.cached > 0 && !row.features.contains("externalLink");
    if res.calc_file {
        if let Ok(mut wb) = Workbook::open(bytes.clone()) {
            compare_calc(&mut wb, &mut res);
        }
    }
    // Fidelity: open, set a cell, save, reopen.
    let mut wb = match Workbook::open(bytes.clone()) {
        Ok(wb) => wb,
        Err(e) => {
            res.open_error = Some(e.to_string());
            res.ms = t0.elapsed().as_millis();
            return res;
        }
    };
    res.opened = true;
    let Some(sheet_idx) = wb.model().sheets.iter().position(|s| s.kind == book::model::SheetKind::Worksheet) else {
        // A workbook of chart sheets only: nothing to edit, a plain save must still be lossless.
        check_save(&mut wb, &bytes, None, &mut res);
        res.ms = t0.elapsed().as_millis();
        return res;
    };
    let sheet = wb.model().sheets[sheet_idx].name.clone();
    let row_at = wb.model().sheets[sheet_idx]
        .cells
        .keys()
        .map(|k| k.0)
        .max()
        .map_or(0, |r| (r + 2).min(book::address::MAX_ROWS - 1));
    let edit = Edit::SetCells(SetCells {
        sheet: sheet.clone(),
        row: row_at,
        col: 0,
        rows: 1,
        cols: 2,
        inputs: Some(vec![vec![Some(CellInput::Text("workbookd edit".into())), Some(CellInput::Number(4242.5))]]),
        number_formats: None,
    });
    if let Err(e) = wb.edit(edit) {
        res.save_error = Some(format!("edit: {e}"));
        res.ms = t0.elapsed().as_millis();
        return res;
    }
    check_save(&mut wb, &bytes, Some((sheet, row_at)), &mut res);
    res.ms = t0.elapsed().as_millis();
    res
}

fn check_save(wb: &mut Workbook, original: &[u8], edited: Option<(String, u32)>, res: &mut FileResult) {
    let saved = match wb.save() {
        Ok(b) => b,
        Err(e) => {
            res.save_error = Some(e.to_string());
            return;
        }
    };
    res.saved = true;
    let report = wb.last_save_report().clone();
    let mut problems = Vec::new();
    // Untouched parts byte-identical (decompressed), and nothing missing.
    let before = unzip(original);
    let after = unzip(&saved);
    let changed: HashSet<String> = report.rewritten.iter().chain(report.removed.iter()).cloned().collect();
    for (name, data) in &before {
        match after.get(name) {
            None if !report.removed.contains(name) => problems.push(format!("lost part {name}")),
            Some(d) if !changed.contains(name) && d != data => problems.push(format!("changed untouched part {name}")),
            _ => {}
        }
    }
    // Reopen with ourselves.
    match Workbook::open(saved.clone()) {
        Ok(re) => {
            if let Some((sheet, row)) = &edited {
                let a = re.cell(sheet, *row, 0).map(|c| c.value).unwrap_or_default();
                let b = re.cell(sheet, *row, 1).map(|c| c.value).unwrap_or_default();
                if a != Value::Text("workbookd edit".into()) || b != Value::Number(4242.5) {
                    problems.push(format!("book reread {a:?} {b:?}"));
                }
            }
        }
        Err(e) => problems.push(format!("book reopen: {e}")),
    }
    // Reopen with an independent reader.
    if let Some((sheet, row)) = &edited {
        match calamine_cell(&saved, sheet, *row) {
            Ok((a, b)) => {
                if a != "workbookd edit" || b != "4242.5" {
                    problems.push(format!("calamine reread '{a}' '{b}'"));
                }
            }
            Err(e) if newer_error_value(&e) => res.calamine_unsupported = Some(e),
            // calamine cannot read the original either: a limit of that reader on this file.
            Err(e) if calamine_cell(original, sheet, *row).err().as_deref() == Some(e.as_str()) => {
                res.calamine_unsupported = Some(e)
            }
            Err(e) => problems.push(format!("calamine: {e}")),
        }
    }
    res.lossless = problems.is_empty();
    if !problems.is_empty() {
        res.loss_detail = Some(problems.join("; "));
    }
}

fn unzip(bytes: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut out = HashMap::new();
    let Ok(mut z) = zip::ZipArchive::new(Cursor::new(bytes)) else { return out };
    for i in 0..z.len() {
        if let Ok(mut f) = z.by_index(i) {
            let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
            let mut v = Vec::new();
            if f.read_to_end(&mut v).is_ok() {
                out.insert(name, v);
            }
        }
    }
    out
}

/// A formula cell (sheet, row, column) and the areas it reads (sheet, area).
type FormulaRefs = (usize, u32, u32, Vec<(usize, book::Area)>);

/// calamine refuses Excel's dynamic-array era error values; a valid file that holds one is a
/// limit of that reader, not a loss.
fn newer_error_value(message: &str) -> bool {
    ["#SPILL!", "#CALC!", "#BLOCKED!", "#FIELD!", "#CONNECT!", "#UNKNOWN!", "#BUSY!", "#GETTING_DATA"]
        .iter()
        .any(|e| message.contains("Unsupported cell error value") && message.contains(e))
}

fn calamine_cell(bytes: &[u8], sheet: &str, row: u32) -> Result<(String, String), String> {
    use calamine::{Reader, Xlsx};
    let mut x: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|e| e.to_string())?;
    let range = x.worksheet_range(sheet).map_err(|e| e.to_string())?;
    let get = |c: u32| range.get_value((row, c)).map(|v| v.to_string()).unwrap_or_default();
    Ok((get(0), get(1)))
}

/// Function names in a formula (words followed by `(`), `_xlfn.` prefixes dropped.
fn functions_in(formula: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = formula.as_bytes();
    let mut in_str = false;
    let mut start: Option<usize> = None;
    for (i, &c) in b.iter().enumerate() {
        if c == b'"' {
            in_str = !in_str;
        }
        if in_str {
            start = None;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' {
            if start.is_none() {
                start = Some(i);
            }
        } else {
            if c == b'(' {
                if let Some(s) = start {
                    let name = formula[s..i].to_ascii_uppercase();
                    let name = name.trim_start_matches("_XLFN.").trim_start_matches("_XLWS.").to_string();
                    if !name.is_empty() && !name.as_bytes()[0].is_ascii_digit() {
                        out.push(name);
                    }
                }
            }
            start = None;
        }
    }
    out.sort();
    out.dedup();
    out
}

fn is_cube(f: &str) -> bool {
    functions_in(f).iter().any(|n| n.starts_with("CUBE"))
}

fn compare_calc(wb: &mut Workbook, res: &mut FileResult) {
    // Excel's cached results, before recalculation.
    let model = wb.model().clone();
    let volatile_names: HashSet<String> = model
        .names
        .iter()
        .filter(|n| functions_in(&n.formula).iter().any(|f| VOLATILE.contains(&f.as_str())))
        .map(|n| n.name.to_ascii_uppercase())
        .collect();
    let mut volatile_cells: HashSet<(usize, u32, u32)> = HashSet::new();
    let mut macro_cells: HashSet<(usize, u32, u32)> = HashSet::new();
    // Functions written in the workbook's VBA project (user-defined functions): their names are
    // in the project's source, and the engine, like Excel with macros off, answers #NAME?.
    let vba =
        wb.package().read("xl/vbaProject.bin").ok().flatten().map(|b| String::from_utf8_lossy(&b).to_ascii_uppercase());
    let calls_macro = |f: &str| {
        vba.as_ref().is_some_and(|source| {
            functions_in(f).iter().any(|n| !book::functions::engine_knows(n) && contains_word(source, n))
        })
    };
    for (si, sheet) in model.sheets.iter().enumerate() {
        for (&(r, c), cell) in &sheet.cells {
            if let Some(f) = &cell.formula {
                let upper = f.to_ascii_uppercase();
                let direct = functions_in(f).iter().any(|n| VOLATILE.contains(&n.as_str()));
                let via_name = volatile_names.iter().any(|n| contains_word(&upper, n));
                if direct || via_name {
                    volatile_cells.insert((si, r, c));
                } else if calls_macro(f) {
                    macro_cells.insert((si, r, c));
                }
            }
        }
    }
    // Dependents of volatile and macro cells, by static references (fixed point).
    for uncomputable in [&mut volatile_cells, &mut macro_cells] {
        if uncomputable.is_empty() {
            continue;
        }
        let sheet_of: HashMap<String, usize> =
            model.sheets.iter().enumerate().map(|(i, s)| (s.name.to_ascii_uppercase(), i)).collect();
        let formulas: Vec<FormulaRefs> = model
            .sheets
            .iter()
            .enumerate()
            .flat_map(|(si, s)| {
                let sheet_of = &sheet_of;
                s.cells.iter().filter_map(move |(&(r, c), cell)| {
                    cell.formula.as_ref().map(|f| (si, r, c, ref_areas(f, si, sheet_of)))
                })
            })
            .collect();
        loop {
            let mut grew = false;
            for (si, r, c, areas) in &formulas {
                if uncomputable.contains(&(*si, *r, *c)) {
                    continue;
                }
                let hit =
                    areas.iter().any(|(s, a)| uncomputable.iter().any(|(vs, vr, vc)| vs == s && a.contains(*vr, *vc)));
                if hit {
                    uncomputable.insert((*si, *r, *c));
                    grew = true;
                }
            }
            if !grew {
                break;
            }
        }
    }
    if wb.full_recalc().is_err() {
        // Counted as all mismatched below: the engine's values stay the cached ones? No: record.
    }
    for (si, sheet) in model.sheets.iter().enumerate() {
        for (&(r, c), cell) in &sheet.cells {
            let Some(f) = &cell.formula else { continue };
            if matches!(cell.kind, FormulaKind::DataTable) || cell.value.is_empty() {
                continue;
            }
            if volatile_cells.contains(&(si, r, c)) {
                res.excluded_volatile += 1;
                continue;
            }
            if macro_cells.contains(&(si, r, c)) {
                res.macro_cells += 1;
                continue;
            }
            if is_cube(f) {
                res.cube_cells += 1;
                continue;
            }
            let ours = wb.value(si, r, c);
            res.compared += 1;
            if ours.matches_excel(&cell.value) {
                res.matched += 1;
            } else {
                for name in functions_in(f) {
                    *res.mismatch_functions.entry(name).or_default() += 1;
                }
                if res.mismatches.len() < mismatch_cap() {
                    res.mismatches.push((
                        format!("{}!{}", sheet.name, book::address::cell_name(r, c)),
                        f.clone(),
                        format!("{:?}", cell.value),
                        format!("{:?}", ours),
                    ));
                }
            }
        }
    }
}

fn contains_word(hay: &str, word: &str) -> bool {
    let b = hay.as_bytes();
    let mut from = 0;
    while let Some(p) = hay[from..].find(word) {
        let s = from + p;
        let e = s + word.len();
        let before_ok = s == 0 || !(b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_' || b[s - 1] == b'.');
        let after_ok = e >= b.len() || !(b[e].is_ascii_alphanumeric() || b[e] == b'_' || b[e] == b'(');
        if before_ok && after_ok {
            return true;
        }
        from = s + 1;
    }
    false
}

/// Referenced areas of a formula, with their sheets (unqualified: the formula's own sheet).
fn ref_areas(formula: &str, own: usize, sheet_of: &HashMap<String, usize>) -> Vec<(usize, book::Area)> {
    use book::formula::{references, RefPart};
    let refs = references(formula);
    let b = formula.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < refs.len() {
        let r = refs[i];
        // A following `:ref` forms a range.
        let (end_part, next) = if i + 1 < refs.len() && refs[i + 1].start == r.end + 1 && b.get(r.end) == Some(&b':') {
            (refs[i + 1].part, i + 2)
        } else {
            (r.part, i + 1)
        };
        let sheet =
            sheet_prefix(formula, r.start).and_then(|s| sheet_of.get(&s.to_ascii_uppercase()).copied()).unwrap_or(own);
        let corners = |p: RefPart| match p {
            RefPart::Cell { row, col, .. } => (row, col, row, col),
            RefPart::Col { col, .. } => (0, col, book::address::MAX_ROWS - 1, col),
            RefPart::Row { row, .. } => (row, 0, row, book::address::MAX_COLS - 1),
        };
        let (r1, c1, _, _) = corners(r.part);
        let (_, _, r2, c2) = corners(end_part);
        out.push((sheet, book::Area::cells(r1, c1, r2.max(r1), c2.max(c1))));
        i = next;
    }
    out
}

fn sheet_prefix(formula: &str, start: usize) -> Option<String> {
    let b = formula.as_bytes();
    if start == 0 || b[start - 1] != b'!' {
        return None;
    }
    let end = start - 1;
    if end > 0 && b[end - 1] == b'\'' {
        let s = formula[..end - 1].rfind('\'')?;
        return Some(formula[s + 1..end - 1].replace("''", "'"));
    }
    let mut s = end;
    while s > 0 && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_' || b[s - 1] == b'.' || b[s - 1] >= 0x80) {
        s -= 1;
    }
    Some(formula[s..end].to_string())
}

fn figures(results: &[FileResult]) -> Figures {
    let mut f = Figures { files_total: results.len() as u64, ..Default::default() };
    for r in results {
        f.files_opened += u64::from(r.opened);
        f.files_saved_lossless += u64::from(r.opened && r.lossless);
        f.cells_compared_all += r.compared;
        f.cells_matched_all += r.matched;
        if !r.path.starts_with("files/ironcalc/") {
            f.cells_compared_non_ironcalc += r.compared;
            f.cells_matched_non_ironcalc += r.matched;
        }
    }
    f
}

fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        "n/a".into()
    } else {
        format!("{:.2}%", 100.0 * a as f64 / b as f64)
    }
}

fn render_report(results: &[FileResult], f: &Figures, elapsed: Duration) -> String {
    let mut s = String::new();
    s.push_str("# Corpus report\n\n");
    s.push_str(
        "Generated by `cargo run --release -p corpus -- ../shared/corpus` (see `.ci/run`). Do not edit by hand.\n\n",
    );
    s.push_str("| figure | value |\n|---|---|\n");
    s.push_str(&format!(
        "| files opened / total | {} / {} ({}) |\n",
        f.files_opened,
        f.files_total,
        pct(f.files_opened, f.files_total)
    ));
    let crashed = results
        .iter()
        .filter(|r| r.open_error.as_deref().is_some_and(|e| e.starts_with("PANIC") || e == "TIMEOUT"))
        .count();
    let refused = results.iter().filter(|r| !r.opened).count() - crashed;
    s.push_str(&format!("| files refused with a typed error (listed below) | {refused} |\n"));
    s.push_str(&format!("| files that panicked or timed out | {crashed} |\n"));
    s.push_str(&format!(
        "| files saved without loss / opened | {} / {} ({}) |\n",
        f.files_saved_lossless,
        f.files_opened,
        pct(f.files_saved_lossless, f.files_opened)
    ));
    s.push_str(&format!(
        "| formula cells matching Excel, all calc files | {} / {} ({}) |\n",
        f.cells_matched_all,
        f.cells_compared_all,
        pct(f.cells_matched_all, f.cells_compared_all)
    ));
    s.push_str(&format!(
        "| formula cells matching Excel, outside `files/ironcalc/` | {} / {} ({}) |\n",
        f.cells_matched_non_ironcalc,
        f.cells_compared_non_ironcalc,
        pct(f.cells_matched_non_ironcalc, f.cells_compared_non_ironcalc)
    ));
    let cube: u64 = results.iter().map(|r| r.cube_cells).sum();
    let vol: u64 = results.iter().map(|r| r.excluded_volatile).sum();
    let macros: u64 = results.iter().map(|r| r.macro_cells).sum();
    let calc_files = results.iter().filter(|r| r.calc_file).count();
    s.push_str(&format!("| calc files (Excel-saved, cached results, no external links) | {calc_files} |\n"));
    s.push_str(&format!("| excluded: volatile cells and their static dependents | {vol} |\n"));
    s.push_str(&format!("| excluded: CUBE* cells (need an OLAP connection) | {cube} |\n"));
    s.push_str(&format!(
        "| excluded: cells calling the workbook's own VBA functions, and their dependents (need macros) | {macros} |\n"
    ));
    let unread = results.iter().filter(|r| r.calamine_unsupported.is_some()).count();
    s.push_str(&format!(
        "| saved files calamine cannot read (#SPILL!/#CALC! values it does not support, or an original it cannot read either; checked with book only) | {unread} |\n"
    ));
    s.push_str(&format!("| run time (2 worker threads) | {:.1} s |\n\n", elapsed.as_secs_f64()));

    let mut funcs: BTreeMap<String, u64> = BTreeMap::new();
    for r in results {
        for (k, v) in &r.mismatch_functions {
            *funcs.entry(k.clone()).or_default() += v;
        }
    }
    let mut top: Vec<(String, u64)> = funcs.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    s.push_str("## The 20 functions with the most mismatches\n\nA cell counts once for each distinct function in its formula.\n\n| function | mismatched cells |\n|---|---|\n");
    for (name, n) in top.iter().take(20) {
        s.push_str(&format!("| {name} | {n} |\n"));
    }
    s.push_str("\n## Files not opened\n\n| file | error |\n|---|---|\n");
    for r in results.iter().filter(|r| !r.opened) {
        s.push_str(&format!("| {} | {} |\n", r.path, r.open_error.clone().unwrap_or_default().replace('|', "\\|")));
    }
    s.push_str("\n## Files opened but not saved without loss\n\n| file | problem |\n|---|---|\n");
    for r in results.iter().filter(|r| r.opened && !r.lossless) {
        let why = r.save_error.clone().or_else(|| r.loss_detail.clone()).unwrap_or_default();
        s.push_str(&format!("| {} | {} |\n", r.path, why.replace('|', "\\|")));
    }
    let mut worst: Vec<&FileResult> = results.iter().filter(|r| r.compared > r.matched).collect();
    worst.sort_by_key(|r| std::cmp::Reverse(r.compared - r.matched));
    s.push_str("\n## Files with the most mismatched formula cells\n\n| file | mismatched / compared |\n|---|---|\n");
    for r in worst.iter().take(30) {
        s.push_str(&format!("| {} | {} / {} |\n", r.path, r.compared - r.matched, r.compared));
    }
    s
}

/// Mismatches kept per file in `--dump` output (`CORPUS_MISMATCHES` raises it when studying one file).
fn mismatch_cap() -> usize {
    std::env::var("CORPUS_MISMATCHES").ok().and_then(|v| v.parse().ok()).unwrap_or(20)
}
