//! Path segments: percent-decoding, `name(args)` with quoted keys, `root:/a/b:` joined into one.

use super::*;

/// One path segment: `name` or `name(args)`; `args` are `key=value` pairs or one bare key.
/// Borrowed from the request path unless decoding changed it: resolving allocates little.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Segment<'a> {
    pub(super) name: Cow<'a, str>,
    /// The arguments in parentheses; `None` for none, empty parentheses included (`range()`,
    /// `usedRange()`, `count()`: Graph's OpenAPI spells navigation functions so, and every
    /// Kiota-generated SDK sends them that way).
    pub(super) args: Option<Vec<Arg<'a>>>,
    /// Whether the segment was written as a call, with parentheses.
    pub(super) call: bool,
}

/// `key=value`, or a bare value (`worksheets('Sheet1')`).
pub(super) type Arg<'a> = (Option<Cow<'a, str>>, Cow<'a, str>);

impl Segment<'_> {
    pub(super) fn arg(&self, key: &str) -> Option<&str> {
        self.args
            .as_ref()?
            .iter()
            .find(|(k, _)| k.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(key)))
            .map(|(_, v)| v.as_ref())
    }

    pub(super) fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// `s[from..to]`, borrowed when `s` is.
pub(super) fn slice<'a>(s: &Cow<'a, str>, from: usize, to: usize) -> Cow<'a, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(&b[from..to]),
        Cow::Owned(o) => Cow::Owned(o[from..to].to_string()),
    }
}

/// A path segment percent-decoded. A `%` not followed by two hex digits is refused (400), where
/// the percent-encoding crate would keep it as written: a client that sent one meant something
/// else, and Graph refuses it too.
pub(super) fn percent_decode(s: &str) -> Result<Cow<'_, str>, GraphError> {
    let b = s.as_bytes();
    let malformed = b.iter().enumerate().any(|(i, &c)| {
        c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if malformed {
        return Err(GraphError::bad_request("Malformed percent-encoding in the URL."));
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map_err(|_| GraphError::bad_request("The URL is not valid UTF-8."))
}

/// Unquotes `'it''s'` to `it's`; other values are kept as written.
pub(super) fn unquote<'a>(text: &Cow<'a, str>, from: usize, to: usize) -> Cow<'a, str> {
    let v = &text[from..to];
    // Blank on both sides counted once: a value of blanks only is empty, not a reversed span.
    let lead = v.len() - v.trim_start().len();
    let trail = v.trim_start().len() - v.trim().len();
    let (start, end) = (from + lead, to - trail);
    let v = &text[start..end];
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        let inner = &v[1..v.len() - 1];
        if inner.contains("''") {
            Cow::Owned(inner.replace("''", "'"))
        } else {
            slice(text, start + 1, end - 1)
        }
    } else {
        slice(text, start, end)
    }
}

/// Arguments whose separating commas are missing (`row=0column=0`): std-uritemplate 2.0.12,
/// which msgraph-sdk for Python expands its URL templates with, drops a literal `,` that follows
/// an expression, so that SDK sends `cell(row=0column=0)` and `offsetRange(rowOffset=1columnOffset=1)`.
/// A number or boolean run into a `name=` is read as two arguments: the values up to each next
/// name, with that name, in order; `None` when the value is an ordinary one.
pub(super) fn run_together(value: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut out = Vec::new();
    let mut rest = value.trim();
    loop {
        if rest.starts_with('\'') {
            break;
        }
        let literal_end = ["true", "false"]
            .iter()
            .find(|b| rest.as_bytes().get(..b.len()).is_some_and(|head| head.eq_ignore_ascii_case(b.as_bytes())))
            .map(|b| b.len())
            .unwrap_or_else(|| {
                let sign = usize::from(rest.starts_with('-'));
                sign + rest[sign..].bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count()
            });
        let after = &rest[literal_end..];
        let name_len = after.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        let starts_name = after.as_bytes().first().is_some_and(u8::is_ascii_alphabetic);
        if literal_end == 0 || !starts_name || after.as_bytes().get(name_len) != Some(&b'=') {
            break;
        }
        out.push((rest[..literal_end].to_string(), after[..name_len].to_string()));
        rest = &after[name_len + 1..];
    }
    (!out.is_empty()).then_some((out, rest))
}

pub(super) fn unquote_owned(v: &str) -> String {
    let v = v.trim();
    match v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => v.to_string(),
    }
}

/// Splits a decoded segment `name(a=1,b='x,y')` into its name and arguments.
pub(super) fn parse_segment(text: Cow<'_, str>) -> Result<Segment<'_>, GraphError> {
    let Some(open) = text.find('(') else { return Ok(Segment { name: text, args: None, call: false }) };
    if !text.ends_with(')') {
        return Err(GraphError::unknown_segment(&text));
    }
    let name = slice(&text, 0, open);
    let (inner_start, inner_end) = (open + 1, text.len() - 1);
    // Byte ranges of the comma-separated parts, commas inside quotes excepted.
    let mut parts = Vec::new();
    let (mut start, mut in_quote) = (inner_start, false);
    for (i, c) in text[inner_start..inner_end].char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            ',' if !in_quote => {
                parts.push((start, inner_start + i));
                start = inner_start + i + 1;
            }
            _ => {}
        }
    }
    if !text[start..inner_end].trim().is_empty() || !parts.is_empty() {
        parts.push((start, inner_end));
    }
    let mut args = Vec::with_capacity(parts.len());
    for (from, to) in parts {
        let part = &text[from..to];
        // `key=value`, unless the `=` is inside quotes (a bare quoted key).
        match part.find('=').filter(|&i| !part[..i].contains('\'')) {
            Some(i) => {
                let key = part[..i].trim();
                let key_start = from + (part[..i].len() - part[..i].trim_start().len());
                let key = slice(&text, key_start, key_start + key.len());
                match run_together(&part[i + 1..]) {
                    Some((more, last)) => {
                        let mut key = key;
                        for (value, next) in more {
                            args.push((Some(key), Cow::Owned(value)));
                            key = Cow::Owned(next);
                        }
                        args.push((Some(key), Cow::Owned(unquote_owned(last))));
                    }
                    None => args.push((Some(key), unquote(&text, from + i + 1, to))),
                }
            }
            None => args.push((None, unquote(&text, from, to))),
        }
    }
    let args = (!args.is_empty()).then_some(args);
    Ok(Segment { name, args, call: true })
}

/// Collections whose members may be addressed `collection('key')` as well as `collection/key`.
pub(super) const KEYED_COLLECTIONS: &[&str] = &[
    "worksheets",
    "tables",
    "names",
    "columns",
    "rows",
    "charts",
    "series",
    "points",
    "comments",
    "replies",
    "pivotTables",
    "items",
    "operations",
];

/// Splits the raw path into decoded segments, joining `root:/a/b:` into one and expanding
/// `worksheets('x')` into `worksheets`, `x`.
pub(super) fn segments(raw_path: &str) -> Result<Vec<Segment<'_>>, GraphError> {
    let raw: Vec<&str> = raw_path.split('/').filter(|s| !s.is_empty()).collect();
    let mut decoded: Vec<Cow<str>> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let seg = percent_decode(raw[i])?;
        let after_items = i > 0 && raw[i - 1].eq_ignore_ascii_case("items");
        // `items/{id}:/path/to/file.xlsx:` spans raw segments, like `root:/…:` below.
        if after_items && !seg.starts_with("root:") && seg.ends_with(':') && !seg.contains(":/") {
            let mut joined = seg.into_owned();
            loop {
                i += 1;
                let Some(next) = raw.get(i) else { return Err(GraphError::unknown_segment(&joined)) };
                joined.push('/');
                joined.push_str(&percent_decode(next)?);
                if joined.ends_with(':') {
                    break;
                }
            }
            decoded.push(Cow::Owned(joined));
            i += 1;
            continue;
        }
        // `root:/path/to/file.xlsx:` spans raw segments unless it came encoded as one. At the
        // end of the URL the closing colon is optional (`GET /me/drive/root:/a/b.xlsx`).
        if seg.starts_with("root:") && !(seg.len() > 5 && seg.ends_with(':')) {
            let mut joined = seg.into_owned();
            while !(joined.len() > 5 && joined.ends_with(':')) {
                i += 1;
                let Some(next) = raw.get(i) else {
                    if joined.len() > 6 {
                        joined.push(':');
                        break;
                    }
                    return Err(GraphError::unknown_segment(&joined));
                };
                joined.push('/');
                joined.push_str(&percent_decode(next)?);
            }
            decoded.push(Cow::Owned(joined));
        } else {
            decoded.push(seg);
        }
        i += 1;
    }
    let mut out = Vec::with_capacity(decoded.len() + 2);
    for d in decoded {
        if d.starts_with("root:") || (d.ends_with(':') && d.contains(":/")) {
            out.push(Segment { name: d, args: None, call: false });
            continue;
        }
        let mut s = parse_segment(d)?;
        match s.args.as_mut() {
            Some(args)
                if args.len() == 1
                    && args[0].0.is_none()
                    && KEYED_COLLECTIONS.iter().any(|c| s.name.eq_ignore_ascii_case(c)) =>
            {
                let key = args.pop().map(|(_, key)| key).unwrap_or_default();
                out.push(Segment { name: s.name, args: None, call: false });
                out.push(Segment { name: key, args: None, call: false });
            }
            _ => out.push(s),
        }
    }
    Ok(out)
}
