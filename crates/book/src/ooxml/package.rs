//! The OPC (zip) package: every part kept as it came, read on demand under limits.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::sync::Arc;

use zip::ZipArchive;

use crate::error::{BookError, Result};
use crate::ooxml::xml::{attr, local, Ev, XmlReader};

/// Limits applied while opening a package. Defaults suit a server holding many workbooks.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest uncompressed part.
    pub max_part_bytes: u64,
    /// Largest sum of uncompressed parts.
    pub max_total_bytes: u64,
    /// Largest uncompressed/compressed ratio for parts over 1 MiB (zip bombs).
    pub max_ratio: u64,
    /// Most zip entries.
    pub max_parts: usize,
    /// Most cells (values or formulas) in the whole workbook.
    pub max_cells: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_part_bytes: 512 << 20,
            max_total_bytes: 1 << 30,
            max_ratio: 1000,
            max_parts: 10_000,
            max_cells: 5_000_000,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    /// The name exactly as stored in the zip.
    pub name: String,
    pub index: usize,
    pub size: u64,
    pub is_dir: bool,
}

/// An opened package: the original bytes plus an index of their entries.
#[derive(Clone)]
pub struct Package {
    bytes: Arc<[u8]>,
    entries: Vec<Entry>,
    by_lower: HashMap<String, usize>,
    limits: Limits,
    content_types: ContentTypes,
}

impl std::fmt::Debug for Package {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Package").field("bytes", &self.bytes.len()).field("entries", &self.entries.len()).finish()
    }
}

const OLE2_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

impl Package {
    pub fn open(bytes: Arc<[u8]>, limits: &Limits) -> Result<Package> {
        Package::open_reading(bytes, limits, |_| true)
    }

    /// Opens a package this library just wrote: only the entries `written` names are read
    /// through (CRC and size checked); the others were copied byte for byte from a package whose
    /// entries were all checked when it was opened.
    pub(crate) fn open_written(bytes: Arc<[u8]>, limits: &Limits, written: impl Fn(&str) -> bool) -> Result<Package> {
        Package::open_reading(bytes, limits, written)
    }

    fn open_reading(bytes: Arc<[u8]>, limits: &Limits, read_through: impl Fn(&str) -> bool) -> Result<Package> {
        if bytes.starts_with(OLE2_MAGIC) {
            // Password-protected .xlsx files are OLE2 compound files holding an encrypted package.
            return Err(BookError::Encrypted);
        }
        if !bytes.starts_with(b"PK") {
            return Err(BookError::NotAPackage("no zip signature".into()));
        }
        let mut archive =
            ZipArchive::new(Cursor::new(&bytes[..])).map_err(|e| BookError::NotAPackage(e.to_string()))?;
        if archive.len() > limits.max_parts {
            return Err(BookError::Hostile(format!("{} zip entries (limit {})", archive.len(), limits.max_parts)));
        }
        let mut entries = Vec::with_capacity(archive.len());
        let mut by_lower = HashMap::new();
        let mut total: u64 = 0;
        for index in 0..archive.len() {
            let mut file = archive.by_index(index).map_err(|e| zip_error("entry", e))?;
            let name = file.name().map_err(|e| zip_error("entry name", e))?.into_owned();
            if file.encrypted() {
                return Err(BookError::Encrypted);
            }
            let size = file.size();
            check_sizes(&name, size, file.compressed_size(), limits)?;
            total = total.saturating_add(size);
            if total > limits.max_total_bytes {
                return Err(BookError::Hostile(format!("uncompressed size over {} bytes", limits.max_total_bytes)));
            }
            // Read every entry once, bounded, so that bad CRCs and lying headers show now.
            if read_through(&name) {
                let mut sink = std::io::sink();
                let copied = std::io::copy(&mut (&mut file).take(limits.max_part_bytes + 1), &mut sink)
                    .map_err(|e| BookError::corrupt(&name, e.to_string()))?;
                if copied > limits.max_part_bytes || copied != size {
                    return Err(BookError::Hostile(format!("{name}: size differs from its header")));
                }
            }
            let is_dir = file.is_dir();
            by_lower.insert(normalize(&name).to_ascii_lowercase(), entries.len());
            entries.push(Entry { name, index, size, is_dir });
        }
        drop(archive);
        let mut pkg =
            Package { bytes, entries, by_lower, limits: limits.clone(), content_types: ContentTypes::default() };
        let ct =
            pkg.read("[Content_Types].xml")?.ok_or_else(|| BookError::MissingPart("[Content_Types].xml".into()))?;
        pkg.content_types = ContentTypes::parse(&ct)?;
        Ok(pkg)
    }

    pub fn bytes(&self) -> &Arc<[u8]> {
        &self.bytes
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn content_types(&self) -> &ContentTypes {
        &self.content_types
    }

    /// Finds an entry by part name, case-insensitively (OPC part names are).
    pub fn entry(&self, part: &str) -> Option<&Entry> {
        self.by_lower.get(&normalize(part).to_ascii_lowercase()).map(|&i| &self.entries[i])
    }

    /// Reads a part; `Ok(None)` when there is no such part.
    pub fn read(&self, part: &str) -> Result<Option<Vec<u8>>> {
        let Some(entry) = self.entry(part) else { return Ok(None) };
        let mut archive =
            ZipArchive::new(Cursor::new(&self.bytes[..])).map_err(|e| BookError::NotAPackage(e.to_string()))?;
        let file = archive.by_index(entry.index).map_err(|e| zip_error(&entry.name, e))?;
        let mut out = Vec::with_capacity(entry.size.min(self.limits.max_part_bytes) as usize);
        file.take(self.limits.max_part_bytes + 1)
            .read_to_end(&mut out)
            .map_err(|e| BookError::corrupt(&entry.name, e.to_string()))?;
        Ok(Some(out))
    }

    /// Relationships of a part (`xl/workbook.xml` -> `xl/_rels/workbook.xml.rels`), targets resolved.
    pub fn rels(&self, part: &str) -> Result<Vec<Rel>> {
        let rels_name = rels_part_name(part);
        let Some(data) = self.read(&rels_name)? else { return Ok(Vec::new()) };
        parse_rels(&data, &rels_name, part)
    }

    /// The target of the package's main office-document relationship.
    pub fn workbook_part(&self) -> Result<String> {
        let rels = self.rels("")?;
        rels.iter()
            .find(|r| r.rel_type.ends_with("/officeDocument") && !r.external)
            .map(|r| r.target.clone())
            .or_else(|| self.entry("xl/workbook.xml").map(|e| normalize(&e.name).to_string()))
            .ok_or_else(|| BookError::MissingPart("workbook part".into()))
    }
}

fn check_sizes(name: &str, size: u64, compressed: u64, limits: &Limits) -> Result<()> {
    if size > limits.max_part_bytes {
        return Err(BookError::Hostile(format!("{name}: {size} bytes uncompressed (limit {})", limits.max_part_bytes)));
    }
    if size > (1 << 20) && size / compressed.max(1) > limits.max_ratio {
        return Err(BookError::Hostile(format!("{name}: compression ratio over {}", limits.max_ratio)));
    }
    Ok(())
}

fn zip_error(what: &str, e: zip::result::ZipError) -> BookError {
    match e {
        zip::result::ZipError::UnsupportedArchive(m) if m.contains("ncrypt") || m.contains("assword") => {
            BookError::Encrypted
        }
        other => BookError::corrupt(what, other.to_string()),
    }
}

/// Part names without a leading slash, with `\` as `/` (some writers use it).
pub fn normalize(name: &str) -> &str {
    name.trim_start_matches('/')
}

pub fn rels_part_name(part: &str) -> String {
    let part = normalize(part);
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// Resolves a relationship target against the part that owns it.
pub fn resolve_target(source_part: &str, target: &str) -> String {
    let target = target.replace('\\', "/");
    let mut segs: Vec<&str> = Vec::new();
    if !target.starts_with('/') {
        if let Some((dir, _)) = normalize(source_part).rsplit_once('/') {
            segs.extend(dir.split('/'));
        }
    }
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            s => segs.push(s),
        }
    }
    let joined = segs.join("/");
    // Targets may be percent-encoded (IRIs); part names in the zip are not.
    percent_decode(&joined)
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rel {
    pub id: String,
    pub rel_type: String,
    /// Resolved part name for internal targets; the raw target for external ones.
    pub target: String,
    pub external: bool,
}

pub fn parse_rels(data: &[u8], rels_name: &str, source_part: &str) -> Result<Vec<Rel>> {
    let mut r = XmlReader::new(data, rels_name);
    let mut out = Vec::new();
    loop {
        match r.next()? {
            Ev::Start(e) | Ev::Empty(e) if local(&e) == b"Relationship" => {
                let id = attr(&e, b"Id").unwrap_or_default();
                let rel_type = attr(&e, b"Type").unwrap_or_default();
                let raw = attr(&e, b"Target").unwrap_or_default();
                let external = attr(&e, b"TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("External"));
                let target = if external { raw } else { resolve_target(source_part, &raw) };
                out.push(Rel { id, rel_type, target, external });
            }
            Ev::Eof => return Ok(out),
            _ => {}
        }
    }
}

/// `[Content_Types].xml`: defaults by extension, overrides by part name.
#[derive(Debug, Clone, Default)]
pub struct ContentTypes {
    pub defaults: Vec<(String, String)>,
    pub overrides: Vec<(String, String)>,
}

impl ContentTypes {
    pub fn parse(data: &[u8]) -> Result<ContentTypes> {
        let mut r = XmlReader::new(data, "[Content_Types].xml");
        let mut ct = ContentTypes::default();
        loop {
            match r.next()? {
                Ev::Start(e) | Ev::Empty(e) => match local(&e) {
                    b"Default" => ct.defaults.push((
                        attr(&e, b"Extension").unwrap_or_default().to_ascii_lowercase(),
                        attr(&e, b"ContentType").unwrap_or_default(),
                    )),
                    b"Override" => ct.overrides.push((
                        normalize(&attr(&e, b"PartName").unwrap_or_default()).to_string(),
                        attr(&e, b"ContentType").unwrap_or_default(),
                    )),
                    _ => {}
                },
                Ev::Eof => return Ok(ct),
                _ => {}
            }
        }
    }

    pub fn of(&self, part: &str) -> Option<&str> {
        let part = normalize(part);
        if let Some((_, t)) = self.overrides.iter().find(|(p, _)| p.eq_ignore_ascii_case(part)) {
            return Some(t);
        }
        let ext = part.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        self.defaults.iter().find(|(e, _)| *e == ext).map(|(_, t)| t.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_targets() {
        assert_eq!(resolve_target("xl/workbook.xml", "worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve_target("xl/workbook.xml", "/xl/worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve_target("xl/worksheets/sheet1.xml", "../tables/table1.xml"), "xl/tables/table1.xml");
        assert_eq!(resolve_target("", "xl/workbook.xml"), "xl/workbook.xml");
        assert_eq!(resolve_target("xl/workbook.xml", "my%20sheet.xml"), "xl/my sheet.xml");
        assert_eq!(rels_part_name("xl/workbook.xml"), "xl/_rels/workbook.xml.rels");
        assert_eq!(rels_part_name(""), "_rels/.rels");
    }
}
