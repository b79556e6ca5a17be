//! Graph's workbook functions (`POST …/workbook/functions/{name}`): the request's named
//! arguments, put in the order Excel takes them, become a formula the workbook evaluates.

use std::sync::LazyLock;

use book::address::quote_sheet_name;
use book::{SheetArea, Value};
use serde_json::Value as Json;

use crate::dto::{property, Body};
use crate::error::GraphError;

/// One function as Graph names it and the parameters it takes, in Excel's order.
pub struct Signature {
    pub name: &'static str,
    pub params: Vec<&'static str>,
    /// The last parameter (`values`) is a list of arguments: Excel's value1, value2, ….
    pub variadic: bool,
}

static FUNCTIONS: LazyLock<Vec<Signature>> = LazyLock::new(|| {
    include_str!("functions.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            let name = f.next()?;
            let mut params: Vec<&'static str> = f.collect();
            let variadic = params.last().is_some_and(|p| p.ends_with('*'));
            if let Some(last) = params.last_mut() {
                *last = last.trim_end_matches('*');
            }
            Some(Signature { name, params, variadic })
        })
        .collect()
});

/// A function by its Graph name, in any case.
pub fn signature(name: &str) -> Option<&'static Signature> {
    FUNCTIONS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// The Excel name of a Graph function: `t_Dist_2T` is `T.DIST.2T`.
pub fn excel_name(sig: &Signature) -> String {
    sig.name.to_ascii_uppercase().replace('_', ".")
}

/// One argument, before the workbook is at hand: references still name their sheet as given.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Omitted,
    Literal(String),
    Reference(SheetArea),
}

/// The arguments of a call, in Excel's order; trailing omitted ones dropped.
pub fn arguments(sig: &Signature, body: &Body) -> Result<Vec<Arg>, GraphError> {
    for key in body.keys() {
        if !sig.params.iter().any(|p| p.eq_ignore_ascii_case(key)) {
            return Err(GraphError::invalid_argument(format!(
                "'{key}' is not a parameter of {}, which takes: {}.",
                sig.name,
                if sig.params.is_empty() { "nothing".to_string() } else { sig.params.join(", ") }
            )));
        }
    }
    let mut args = Vec::new();
    for (i, param) in sig.params.iter().enumerate() {
        let given = body.get(param);
        let last = i + 1 == sig.params.len();
        match given {
            Some(Json::Array(items)) if last && sig.variadic => {
                for item in items {
                    args.push(argument(param, item)?);
                }
            }
            Some(v) => args.push(argument(param, v)?),
            None => args.push(Arg::Omitted),
        }
    }
    while args.last() == Some(&Arg::Omitted) {
        args.pop();
    }
    Ok(args)
}

fn argument(param: &str, v: &Json) -> Result<Arg, GraphError> {
    match v {
        Json::Null => Ok(Arg::Omitted),
        Json::Object(o) => {
            let address = property(o, "address");
            match address {
                Some(Json::String(text)) => SheetArea::parse(text).map(Arg::Reference).map_err(|e| {
                    GraphError::invalid_argument(format!("{param}: the address '{text}' is not valid: {e}."))
                }),
                _ => Err(GraphError::invalid_argument(format!(
                    "{param}: a range is given as {{\"address\": \"Sheet1!A1:B2\"}}."
                ))),
            }
        }
        Json::Array(rows) => array_constant(param, rows).map(Arg::Literal),
        scalar => scalar_text(param, scalar).map(Arg::Literal),
    }
}

/// A JSON array as an Excel array constant: `[1, 2]` is `{1,2}`, `[[1, 2], [3, 4]]` `{1,2;3,4}`.
fn array_constant(param: &str, rows: &[Json]) -> Result<String, GraphError> {
    let bad = || GraphError::invalid_argument(format!("{param}: an array holds numbers, text or logical values."));
    if rows.is_empty() {
        return Err(bad());
    }
    let two_d = rows.iter().all(Json::is_array);
    let mut width = None;
    let mut out = String::from("{");
    for (r, row) in rows.iter().enumerate() {
        let cells: Vec<&Json> =
            if two_d { row.as_array().map(|a| a.iter().collect()).unwrap_or_default() } else { vec![row] };
        if two_d {
            if cells.is_empty() || width.is_some_and(|w| w != cells.len()) {
                return Err(GraphError::invalid_argument(format!(
                    "{param}: the rows of an array are as long as each other."
                )));
            }
            width = Some(cells.len());
            if r > 0 {
                out.push(';');
            }
        } else if r > 0 {
            out.push(',');
        }
        for (c, cell) in cells.iter().enumerate() {
            if c > 0 {
                out.push(',');
            }
            if matches!(cell, Json::Array(_) | Json::Object(_) | Json::Null) {
                return Err(bad());
            }
            out.push_str(&scalar_text(param, cell)?);
        }
    }
    out.push('}');
    Ok(out)
}

fn scalar_text(param: &str, v: &Json) -> Result<String, GraphError> {
    Ok(match v {
        Json::Bool(true) => "TRUE".into(),
        Json::Bool(false) => "FALSE".into(),
        Json::Number(n) => match n.as_f64() {
            Some(f) if f.is_finite() => format!("{f}"),
            _ => return Err(GraphError::invalid_argument(format!("{param}: {n} is not a number Excel holds."))),
        },
        Json::String(s) => format!("\"{}\"", s.replace('"', "\"\"")),
        _ => return Err(GraphError::invalid_argument(format!("{param}: not a value."))),
    })
}

/// The formula for a call: references get their sheet (`home` when they name none).
pub fn formula(excel: &str, args: &[Arg], home: &str) -> String {
    let texts: Vec<String> = args
        .iter()
        .map(|a| match a {
            Arg::Omitted => String::new(),
            Arg::Literal(t) => t.clone(),
            Arg::Reference(r) => {
                format!("{}!{}", quote_sheet_name(r.sheet.as_deref().unwrap_or(home)), r.area.to_a1())
            }
        })
        .collect();
    format!("{excel}({})", texts.join(","))
}

/// `workbookFunctionResult`'s `error` and `value`: an Excel error is the error's text with a
/// null value.
pub fn result(v: &Value) -> (Json, Json) {
    match v {
        Value::Error(e) => (Json::String(e.as_str().to_string()), Json::Null),
        // A function giving an empty cell shows 0, as the cell holding it would.
        Value::Empty => (Json::Null, Json::from(0)),
        other => (Json::Null, crate::items::value_json(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(name: &str, body: Json) -> Result<String, GraphError> {
        let sig = signature(name).expect("a function");
        let args = arguments(sig, &Body::parse(body.to_string().as_bytes())?)?;
        Ok(formula(&excel_name(sig), &args, "Home"))
    }

    #[test]
    fn named_arguments_take_excels_order() {
        // The documented vlookup body, its keys in another order, `Address` capitalised.
        let f = call(
            "vlookup",
            json!({"rangeLookup": false, "colIndexNum": 2, "tableArray": {"Address": "Sheet1!E1:G5"}, "lookupValue": "Temperature"}),
        );
        assert_eq!(f.unwrap(), "VLOOKUP(\"Temperature\",Sheet1!E1:G5,2,FALSE)");
        // Lists of arguments; references on the home sheet; quoted sheets.
        assert_eq!(
            call("MEDIAN", json!({"values": [{"address": "'My Data'!A1:A5"}, 3, {"address": "B2"}]})).unwrap(),
            "MEDIAN('My Data'!A1:A5,3,Home!B2)"
        );
        assert_eq!(
            call("sumIfs", json!({"sumRange": {"address": "A1:A3"}, "values": [{"address": "B1:B3"}, ">1"]})).unwrap(),
            "SUMIFS(Home!A1:A3,Home!B1:B3,\">1\")"
        );
        // Omitted arguments in the middle stay as gaps, at the end they go.
        assert_eq!(
            call("pmt", json!({"rate": 0.01, "nper": 12, "pv": 1000, "type": 1})).unwrap(),
            "PMT(0.01,12,1000,,1)"
        );
        assert_eq!(
            call("pmt", json!({"rate": 0.01, "nper": 12, "pv": 1000, "fv": null})).unwrap(),
            "PMT(0.01,12,1000)"
        );
        // Array constants, dotted names, text with quotes, no arguments.
        assert_eq!(call("irr", json!({"values": [-100, 30, 40, 50]})).unwrap(), "IRR({-100,30,40,50})");
        assert_eq!(call("sum", json!({"values": [[[1, 2], [3, 4]]]})).unwrap(), "SUM({1,2;3,4})");
        assert_eq!(call("t_Dist_2T", json!({"x": 1.5, "degFreedom": 10})).unwrap(), "T.DIST.2T(1.5,10)");
        assert_eq!(call("len", json!({"text": "say \"hi\""})).unwrap(), "LEN(\"say \"\"hi\"\"\")");
        assert_eq!(call("pi", json!({})).unwrap(), "PI()");
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(call("abs", json!({"num": 1})).is_err());
        assert!(call("abs", json!({"number": {"range": "A1"}})).is_err());
        assert!(call("abs", json!({"number": {"address": "A1:"}})).is_err());
        assert!(call("sum", json!({"values": [[[1, 2], [3]]]})).is_err());
        assert!(call("sum", json!({"values": [[{"a": 1}]]})).is_err());
        assert!(signature("nosuchfunction").is_none());
        assert_eq!(FUNCTIONS.len(), 366);
    }
}
