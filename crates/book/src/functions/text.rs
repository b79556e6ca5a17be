//! REGEXTEST, REGEXEXTRACT and REGEXREPLACE.
//!
//! Excel uses PCRE2; the `regex` crate covers its common syntax but has no look-around or
//! back-references. A pattern it cannot compile answers #VALUE!, as Excel does for an invalid one.

use std::cell::RefCell;
use std::collections::HashMap;

use formualizer_common::{ExcelError, ExcelErrorKind, LiteralValue};
use regex::{Regex, RegexBuilder};

use super::{Args, Outcome};

thread_local! {
    /// Compiled patterns: a formula filled down a column compiles its pattern once.
    static CACHE: RefCell<HashMap<(String, bool), Regex>> = RefCell::new(HashMap::new());
}

fn compile(pattern: &str, case_insensitive: bool) -> Result<Regex, ExcelError> {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(r) = cache.get(&(pattern.to_string(), case_insensitive)) {
            return Ok(r.clone());
        }
        let r = RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .size_limit(1 << 20)
            .build()
            .map_err(|_| ExcelError::new(ExcelErrorKind::Value))?;
        if cache.len() > 256 {
            cache.clear();
        }
        cache.insert((pattern.to_string(), case_insensitive), r.clone());
        Ok(r)
    })
}

fn case_flag(a: &Args, i: usize) -> Result<bool, ExcelError> {
    match a.number_or(i, 0.0)? {
        0.0 => Ok(false),
        1.0 => Ok(true),
        _ => Err(ExcelError::new(ExcelErrorKind::Value)),
    }
}

pub(super) fn regex_test(a: &Args) -> Outcome {
    let text = a.text(0)?;
    let pattern = a.text(1)?;
    let re = compile(&pattern, case_flag(a, 2)?)?;
    Ok(LiteralValue::Boolean(re.is_match(&text)))
}

pub(super) fn regex_extract(a: &Args) -> Outcome {
    let text = a.text(0)?;
    let pattern = a.text(1)?;
    let mode = a.number_or(2, 0.0)?.trunc();
    let re = compile(&pattern, case_flag(a, 3)?)?;
    let not_found = || ExcelError::new(ExcelErrorKind::Na);
    match mode {
        0.0 => re.find(&text).map(|m| LiteralValue::Text(m.as_str().to_string())).ok_or_else(not_found),
        1.0 => {
            let all: Vec<LiteralValue> =
                re.find_iter(&text).map(|m| LiteralValue::Text(m.as_str().to_string())).collect();
            if all.is_empty() {
                return Err(not_found());
            }
            Ok(column(all))
        }
        2.0 => {
            let caps = re.captures(&text).ok_or_else(not_found)?;
            let groups: Vec<LiteralValue> = (1..caps.len())
                .map(|i| LiteralValue::Text(caps.get(i).map(|m| m.as_str().to_string()).unwrap_or_default()))
                .collect();
            if groups.is_empty() {
                return Ok(LiteralValue::Text(caps.get(0).map(|m| m.as_str().to_string()).unwrap_or_default()));
            }
            Ok(LiteralValue::Array(vec![groups]))
        }
        _ => Err(ExcelError::new(ExcelErrorKind::Value)),
    }
}

/// All matches spill down a column.
fn column(values: Vec<LiteralValue>) -> LiteralValue {
    if values.len() == 1 {
        return values.into_iter().next().unwrap_or(LiteralValue::Empty);
    }
    LiteralValue::Array(values.into_iter().map(|v| vec![v]).collect())
}

/// PCRE2's `$1` followed by a letter is group 1 then the letter; the regex crate would read a
/// group named `1a`. Braces make the number explicit.
fn replacement_template(r: &str) -> String {
    let mut out = String::with_capacity(r.len() + 4);
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            let mut n = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                n.push(d);
                chars.next();
            }
            out.push_str(&format!("${{{n}}}"));
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn regex_replace(a: &Args) -> Outcome {
    let text = a.text(0)?;
    let pattern = a.text(1)?;
    let replacement = replacement_template(&a.text(2)?);
    let occurrence = a.number_or(3, 0.0)?.trunc() as i64;
    let re = compile(&pattern, case_flag(a, 4)?)?;
    if occurrence == 0 {
        return Ok(LiteralValue::Text(re.replace_all(&text, replacement.as_str()).into_owned()));
    }
    let matches: Vec<regex::Captures<'_>> = re.captures_iter(&text).collect();
    let index = if occurrence > 0 { occurrence - 1 } else { matches.len() as i64 + occurrence };
    let Some(caps) = usize::try_from(index).ok().and_then(|i| matches.get(i)) else {
        return Ok(LiteralValue::Text(text));
    };
    let whole = caps.get(0).expect("group 0 always matches");
    let mut expanded = String::new();
    caps.expand(&replacement, &mut expanded);
    Ok(LiteralValue::Text(format!("{}{}{}", &text[..whole.start()], expanded, &text[whole.end()..])))
}

#[cfg(test)]
mod tests {
    use super::replacement_template;

    #[test]
    fn group_numbers_are_braced() {
        assert_eq!(replacement_template("$1a-$22"), "${1}a-${22}");
        assert_eq!(replacement_template("cost $"), "cost $");
    }
}
