//! A thin, hardened layer over quick-xml for reading package parts.
//!
//! It refuses DTD entity declarations (entity-expansion bombs), bounds element nesting, merges
//! entity and character references back into text, and matches names by local name so that
//! ISO Strict and transitional namespaces read alike.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::error::BookError;

/// Deepest element nesting accepted in any part (real files stay far below 64).
pub const MAX_DEPTH: usize = 512;

pub enum Ev<'a> {
    Start(BytesStart<'a>),
    Empty(BytesStart<'a>),
    End,
    Text(Cow<'a, str>),
    Eof,
}

pub struct XmlReader<'a> {
    inner: Reader<&'a [u8]>,
    part: &'a str,
    depth: usize,
    pending: Option<Event<'a>>,
    /// Bytes the caller read itself through `rest`/`consume`, which quick-xml's offset misses.
    consumed_by_caller: u64,
}

impl<'a> XmlReader<'a> {
    pub fn new(data: &'a [u8], part: &'a str) -> Self {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let mut inner = Reader::from_reader(data);
        let cfg = inner.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = false;
        cfg.expand_empty_elements = false;
        XmlReader { inner, part, depth: 0, pending: None, consumed_by_caller: 0 }
    }

    pub fn err(&self, msg: impl std::fmt::Display) -> BookError {
        BookError::corrupt(self.part, format!("{msg} (at byte {})", self.position()))
    }

    /// Where reading stands, in bytes from the start of the part (after any byte order mark).
    pub fn position(&self) -> u64 {
        self.inner.buffer_position() + self.consumed_by_caller
    }

    /// The bytes not read yet, when no event is held back; for callers that read the commonest
    /// shapes of markup themselves (a sheet's cells) and hand the rest to the reader.
    pub fn rest(&self) -> Option<&'a [u8]> {
        match self.pending {
            Some(_) => None,
            None => Some(self.inner.get_ref()),
        }
    }

    /// Moves past `n` bytes of `rest` that the caller has read. They must be whole, balanced
    /// markup (or text between elements): the reader's element stack is not told about them.
    pub fn consume(&mut self, n: usize) {
        let rest: &'a [u8] = self.inner.get_ref();
        *self.inner.get_mut() = &rest[n.min(rest.len())..];
        self.consumed_by_caller += n as u64;
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    fn raw(&mut self) -> Result<Event<'a>, BookError> {
        if let Some(ev) = self.pending.take() {
            return Ok(ev);
        }
        self.inner.read_event().map_err(|e| self.err(e))
    }

    pub fn next(&mut self) -> Result<Ev<'a>, BookError> {
        loop {
            match self.raw()? {
                Event::Start(e) => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(self.err("elements nested too deeply"));
                    }
                    return Ok(Ev::Start(e));
                }
                Event::Empty(e) => return Ok(Ev::Empty(e)),
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Ev::End);
                }
                Event::Text(t) => {
                    let first = t.xml10_content();
                    return self.merge_text(first);
                }
                Event::CData(c) => {
                    let s = c.into_inner().into_owned();
                    return self.merge_text(Cow::Owned(s));
                }
                Event::GeneralRef(r) => {
                    let s = resolve_ref(&r).ok_or_else(|| self.err(format!("unknown entity &{};", &*r)))?;
                    return self.merge_text(Cow::Owned(s.to_string()));
                }
                Event::DocType(d) => {
                    if d.contains("<!ENTITY") || d.contains("<!entity") {
                        return Err(BookError::Hostile(format!(
                            "{}: DTD entity declarations are not accepted",
                            self.part
                        )));
                    }
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
                Event::Eof => return Ok(Ev::Eof),
            }
        }
    }

    /// Text arrives split around entity references; join the pieces.
    fn merge_text(&mut self, first: Cow<'a, str>) -> Result<Ev<'a>, BookError> {
        let mut acc = first;
        loop {
            match self.raw()? {
                Event::Text(t) => acc.to_mut().push_str(&t.xml10_content()),
                Event::GeneralRef(r) => {
                    let s = resolve_ref(&r).ok_or_else(|| self.err(format!("unknown entity &{};", &*r)))?;
                    acc.to_mut().push(s);
                }
                Event::CData(c) => acc.to_mut().push_str(&c.into_inner()),
                other => {
                    self.pending = Some(other);
                    return Ok(Ev::Text(acc));
                }
            }
        }
    }

    /// Skips the rest of the element whose Start was just read.
    pub fn skip(&mut self) -> Result<(), BookError> {
        let target = self.depth - 1;
        loop {
            match self.next()? {
                Ev::End if self.depth == target => return Ok(()),
                Ev::Eof => return Err(self.err("unexpected end of part")),
                _ => {}
            }
        }
    }

    /// Reads all text inside the element whose Start was just read (nested text included).
    pub fn text_content(&mut self) -> Result<String, BookError> {
        self.text_content_cow().map(Cow::into_owned)
    }

    /// As `text_content`, borrowed from the part when the text is one plain piece (a cell's
    /// `<v>`, read for every cell of a sheet).
    pub fn text_content_cow(&mut self) -> Result<Cow<'a, str>, BookError> {
        let target = self.depth - 1;
        let mut out: Option<Cow<'a, str>> = None;
        loop {
            match self.next()? {
                Ev::Text(t) => match &mut out {
                    None => out = Some(t),
                    Some(acc) => acc.to_mut().push_str(&t),
                },
                Ev::End if self.depth == target => return Ok(out.unwrap_or_default()),
                Ev::Eof => return Err(self.err("unexpected end of part")),
                _ => {}
            }
        }
    }
}

/// The character an entity or character reference stands for.
pub fn resolve_entity(r: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    resolve_ref(r)
}

fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if r.is_char_ref() {
        return r.resolve_char_ref().ok().flatten();
    }
    match &**r {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// The local part of an element name (`x:row` -> `row`).
pub fn local<'b>(e: &'b BytesStart<'_>) -> &'b [u8] {
    local_name(e.name().into_inner().as_bytes())
}

/// The local part of an element or attribute name (`x:row` is `row`). On bytes: the raw
/// rewriters hold names as bytes, and quick-xml 0.42's `QName` is over `&str`.
pub fn local_name(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// An attribute by local name, unescaped.
pub fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    attr_cow(e, key).map(Cow::into_owned)
}

/// An attribute by local name, unescaped; borrowed from the element when the value needs no
/// unescaping (cell references, types and styles are read for every cell of a sheet).
pub fn attr_cow<'a>(e: &'a BytesStart<'_>, key: &[u8]) -> Option<Cow<'a, str>> {
    for a in e.attributes().with_checks(false).flatten() {
        let k = a.key.into_inner().as_bytes();
        let lk = match k.iter().rposition(|&b| b == b':') {
            Some(i) => &k[i + 1..],
            None => k,
        };
        // Namespace declarations are not attributes of interest.
        if lk == key && !k.starts_with(b"xmlns") {
            let plain = !a.value.bytes().any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'));
            return match a.value {
                Cow::Borrowed(raw) if plain => Some(Cow::Borrowed(raw)),
                _ => a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| Cow::Owned(v.into_owned())),
            };
        }
    }
    None
}

/// Several attributes in one pass over the element's attributes (a cell's `r`, `t`, `s`, …),
/// each as `attr_cow` would read it.
pub fn attrs_cow<'a, const N: usize>(e: &'a BytesStart<'_>, keys: [&[u8]; N]) -> [Option<Cow<'a, str>>; N] {
    let mut found: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
    for a in e.attributes().with_checks(false).flatten() {
        let k = a.key.into_inner().as_bytes();
        let lk = match k.iter().rposition(|&b| b == b':') {
            Some(i) => &k[i + 1..],
            None => k,
        };
        let Some(slot) = keys.iter().position(|key| *key == lk) else { continue };
        if found[slot].is_some() || k.starts_with(b"xmlns") {
            continue;
        }
        let plain = !a.value.bytes().any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'));
        found[slot] = match a.value {
            Cow::Borrowed(raw) if plain => Some(Cow::Borrowed(raw)),
            _ => a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| Cow::Owned(v.into_owned())),
        };
    }
    found
}

/// Relationship id attribute: `r:id` in any prefix bound to a relationships namespace.
pub fn rel_id(e: &BytesStart<'_>) -> Option<String> {
    for a in e.attributes().with_checks(false).flatten() {
        let k = a.key.into_inner().as_bytes();
        if k.ends_with(b":id") && !k.starts_with(b"xmlns") {
            return a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| v.into_owned());
        }
    }
    None
}

pub fn attr_bool(e: &BytesStart<'_>, key: &[u8]) -> Option<bool> {
    attr(e, key).map(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Escapes text for element content and attribute values: quick-xml's five entities, and
/// control characters (not allowed in XML 1.0) as OOXML's `_xHHHH_`.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_x_escape) {
        return quick_xml::escape::escape(s);
    }
    let visible: String =
        s.chars().map(|c| if needs_x_escape(c) { format!("_x{:04X}_", c as u32) } else { c.to_string() }).collect();
    Cow::Owned(quick_xml::escape::escape(&visible).into_owned())
}

/// Text for a place whose reader decodes `_xHHHH_` (shared strings, table column names),
/// escaped: a literal `_x` is guarded as `_x005F_x` so it is not read back as an escape. In an
/// attribute every control character is escaped, since attribute normalization would turn
/// tabs and line breaks into spaces.
pub fn escape_x(s: &str, in_attribute: bool) -> String {
    let guarded = if s.contains("_x") { Cow::Owned(s.replace("_x", "_x005F_x")) } else { Cow::Borrowed(s) };
    if in_attribute && guarded.chars().any(char::is_control) {
        let visible: String = guarded
            .chars()
            .map(|c| if c.is_control() { format!("_x{:04X}_", c as u32) } else { c.to_string() })
            .collect();
        return escape(&visible).into_owned();
    }
    escape(&guarded).into_owned()
}

fn needs_x_escape(c: char) -> bool {
    (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r'
}

/// Decodes OOXML's `_xHHHH_` escapes in shared and inline strings.
pub fn decode_x_escapes(s: &str) -> Cow<'_, str> {
    if !s.contains("_x") {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'_' && i + 7 <= b.len() && b[i + 1] == b'x' && b[i + 6] == b'_' {
            let hex = &s[i + 2..i + 6];
            if hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                if let Some(ch) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                    i += 7;
                    continue;
                }
            }
        }
        let ch = s[i..].chars().next().unwrap_or('\u{FFFD}');
        out.push(ch);
        i += ch.len_utf8();
    }
    Cow::Owned(out)
}

// ---------------------------------------------------------------------------------------------
// Rewriting a part in place: raw events and start tags

/// An event, the bytes it was written as, and where they start.
pub(crate) type RawEvent<'a> = (Event<'a>, &'a [u8], usize);

/// A part's events, each with the bytes it was written as and where they start: the rewriters
/// copy what they do not change.
pub(crate) struct RawEvents<'a> {
    reader: Reader<&'a [u8]>,
    data: &'a [u8],
    part: &'a str,
    pos: usize,
}

impl<'a> RawEvents<'a> {
    pub(crate) fn new(data: &'a [u8], part: &'a str) -> Self {
        let mut reader = Reader::from_reader(data);
        reader.config_mut().trim_text(false);
        RawEvents { reader, data, part, pos: 0 }
    }

    /// The next event, its bytes and their offset; `None` at the end of the part.
    pub(crate) fn next(&mut self) -> Result<Option<RawEvent<'a>>, BookError> {
        let start = self.pos;
        let ev = self.reader.read_event().map_err(|e| BookError::corrupt(self.part, e.to_string()))?;
        if matches!(ev, Event::Eof) {
            return Ok(None);
        }
        self.pos = self.reader.buffer_position() as usize;
        Ok(Some((ev, &self.data[start..self.pos], start)))
    }

    /// What follows the last event read.
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }
}

/// The byte span of an attribute's value in a raw start tag (matched by local name).
pub(crate) fn attr_span(tag: &[u8], key: &[u8]) -> Option<(usize, usize, usize)> {
    let mut i = 1;
    while i < tag.len() && !tag[i].is_ascii_whitespace() && tag[i] != b'>' && tag[i] != b'/' {
        i += 1;
    }
    loop {
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        let ks = i;
        while i < tag.len() && tag[i] != b'=' && !tag[i].is_ascii_whitespace() && tag[i] != b'>' && tag[i] != b'/' {
            i += 1;
        }
        if i == ks {
            return None;
        }
        let k = &tag[ks..i];
        while i < tag.len() && (tag[i].is_ascii_whitespace() || tag[i] == b'=') {
            i += 1;
        }
        let q = *tag.get(i)?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let vs = i + 1;
        let ve = vs + tag[vs..].iter().position(|&b| b == q)?;
        if local_name(k) == key && !k.starts_with(b"xmlns") {
            return Some((ks, vs, ve));
        }
        i = ve + 1;
    }
}

/// The tag with an attribute set to `value` (escaped already), added when missing, removed when
/// `None`.
pub(crate) fn set_attr(tag: &[u8], key: &[u8], value: Option<&str>) -> Vec<u8> {
    match (value, attr_in(tag, key)) {
        (Some(v), true) => replace_attr(tag, key, v),
        (Some(v), false) => add_attr(tag, key, v),
        (None, true) => remove_attr(tag, key),
        (None, false) => tag.to_vec(),
    }
}

pub(crate) fn attr_in(tag: &[u8], key: &[u8]) -> bool {
    attr_span(tag, key).is_some()
}

/// The tag with one attribute's value replaced (`value` already escaped).
pub(crate) fn replace_attr(tag: &[u8], key: &[u8], value: &str) -> Vec<u8> {
    match attr_span(tag, key) {
        Some((_, vs, ve)) => {
            let mut out = Vec::with_capacity(tag.len() + value.len());
            out.extend_from_slice(&tag[..vs]);
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(&tag[ve..]);
            out
        }
        None => tag.to_vec(),
    }
}

pub(crate) fn remove_attr(tag: &[u8], key: &[u8]) -> Vec<u8> {
    match attr_span(tag, key) {
        Some((ks, _, ve)) => {
            let mut from = ks;
            while from > 0 && tag[from - 1].is_ascii_whitespace() {
                from -= 1;
            }
            let mut out = tag[..from].to_vec();
            out.extend_from_slice(&tag[ve + 1..]);
            out
        }
        None => tag.to_vec(),
    }
}

pub(crate) fn add_attr(tag: &[u8], key: &[u8], value: &str) -> Vec<u8> {
    let mut i = 1;
    while i < tag.len() && !tag[i].is_ascii_whitespace() && tag[i] != b'>' && tag[i] != b'/' {
        i += 1;
    }
    let mut out = tag[..i].to_vec();
    out.push(b' ');
    out.extend_from_slice(key);
    out.extend_from_slice(b"=\"");
    out.extend_from_slice(value.as_bytes());
    out.push(b'"');
    out.extend_from_slice(&tag[i..]);
    out
}
