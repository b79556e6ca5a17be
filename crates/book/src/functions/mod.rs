//! Worksheet functions written by this project where the corpus showed the engine disagreeing
//! with Excel. They are registered on each engine as that workbook's own functions, which the
//! engine consults before its built-in ones. Each one is measured by the corpus harness.

mod bonds;
mod convert;
mod lookup;
mod math;
mod matrix;
mod stats;
mod text;

use std::sync::Arc;

use formualizer_common::{ExcelError, ExcelErrorKind, LiteralValue};
use formualizer_workbook::{CustomFnOptions, Workbook as FzWorkbook};

use crate::numfmt;

type Outcome = Result<LiteralValue, ExcelError>;
type Eval = fn(&Args) -> Outcome;

/// A function written here: its arity and evaluation. `lifted` functions take scalars and are
/// applied element by element over range and array arguments, as Excel spills them.
struct Builtin {
    name: &'static str,
    min_args: usize,
    max_args: usize,
    lifted: bool,
    eval: Eval,
}

const fn lifted(name: &'static str, min_args: usize, max_args: usize, eval: Eval) -> Builtin {
    Builtin { name, min_args, max_args, lifted: true, eval }
}

const fn whole(name: &'static str, min_args: usize, max_args: usize, eval: Eval) -> Builtin {
    Builtin { name, min_args, max_args, lifted: false, eval }
}

const BUILTINS: &[Builtin] = &[
    lifted("CEILING.MATH", 1, 3, math::ceiling_math),
    lifted("FLOOR.MATH", 1, 3, math::floor_math),
    lifted("CEILING.PRECISE", 1, 2, math::ceiling_precise),
    lifted("ISO.CEILING", 1, 2, math::ceiling_precise),
    lifted("FLOOR.PRECISE", 1, 2, math::floor_precise),
    lifted("CEILING", 2, 2, math::ceiling),
    lifted("FLOOR", 2, 2, math::floor),
    lifted("CONVERT", 3, 3, convert::convert),
    lifted("COUPDAYS", 3, 4, bonds::coupdays),
    lifted("COUPDAYBS", 3, 4, bonds::coupdaybs),
    lifted("COUPDAYSNC", 3, 4, bonds::coupdaysnc),
    lifted("COUPNCD", 3, 4, bonds::coupncd),
    lifted("COUPPCD", 3, 4, bonds::couppcd),
    lifted("COUPNUM", 3, 4, bonds::coupnum),
    lifted("ACCRINT", 6, 8, bonds::accrint),
    lifted("ROMAN", 1, 2, math::roman),
    lifted("ARABIC", 1, 1, math::arabic),
    whole("GCD", 1, 255, math::gcd_fn),
    whole("XLOOKUP", 3, 6, lookup::xlookup),
    lifted("VDB", 5, 7, stats::vdb),
    whole("MMULT", 2, 2, matrix::mmult),
    whole("MDETERM", 1, 1, matrix::mdeterm),
    whole("MINVERSE", 1, 1, matrix::minverse),
    lifted("MUNIT", 1, 1, matrix::munit),
    whole("LCM", 1, 255, math::lcm_fn),
    lifted("DEC2BIN", 1, 2, math::dec2bin),
    lifted("DEC2OCT", 1, 2, math::dec2oct),
    lifted("DEC2HEX", 1, 2, math::dec2hex),
    lifted("BIN2DEC", 1, 1, math::bin2dec),
    lifted("BIN2OCT", 1, 2, math::bin2oct),
    lifted("BIN2HEX", 1, 2, math::bin2hex),
    lifted("OCT2DEC", 1, 1, math::oct2dec),
    lifted("OCT2BIN", 1, 2, math::oct2bin),
    lifted("OCT2HEX", 1, 2, math::oct2hex),
    lifted("HEX2DEC", 1, 1, math::hex2dec),
    lifted("HEX2BIN", 1, 2, math::hex2bin),
    lifted("HEX2OCT", 1, 2, math::hex2oct),
    lifted("REGEXTEST", 2, 3, text::regex_test),
    lifted("REGEXEXTRACT", 2, 4, text::regex_extract),
    lifted("REGEXREPLACE", 3, 5, text::regex_replace),
];

/// Names of the functions written here (they replace the engine's own of the same name).
pub fn names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name).chain(["TEXT", "AGGREGATE"]).collect()
}

/// Whether `name` (without `_xlfn.`) is a function the engine computes: its own or one written
/// here. Other names answer #NAME?.
pub fn engine_knows(name: &str) -> bool {
    formualizer_eval::builtins::load_builtins();
    names().iter().any(|n| n.eq_ignore_ascii_case(name)) || formualizer_eval::function_registry::get("", name).is_some()
}

/// Registers every function written here on one engine. `date1904` is the workbook's date
/// system, which TEXT needs.
pub fn register_all(wb: &mut FzWorkbook, date1904: bool) {
    // Written on the engine's function interface (it needs references, not values), which
    // registers process-wide: once is enough.
    static ENGINE_LEVEL: std::sync::Once = std::sync::Once::new();
    ENGINE_LEVEL.call_once(|| {
        use formualizer_eval::function_registry as registry;
        formualizer_eval::builtins::load_builtins();
        if let Some(builtin) = registry::get("", "AGGREGATE") {
            registry::register_function(Arc::new(stats::AggregateWithArrayForms { builtin }));
        }
    });
    for f in BUILTINS {
        let (eval, lifted_call) = (f.eval, f.lifted);
        register(wb, f.name, f.min_args, f.max_args, move |values: &[LiteralValue]| {
            let args = Args { date1904, ..Args::from_values(values) };
            Ok(if lifted_call { args.call_lifted(eval) } else { eval(&args).unwrap_or_else(LiteralValue::Error) })
        });
    }
    register(wb, "TEXT", 2, 2, move |values: &[LiteralValue]| {
        Ok(Args::from_values(values).call_lifted_with(|a| text_fn(a, date1904)))
    });
}

fn register(
    wb: &mut FzWorkbook,
    name: &str,
    min_args: usize,
    max_args: usize,
    handler: impl Fn(&[LiteralValue]) -> Outcome + Send + Sync + 'static,
) {
    let handler = Arc::new(handler);
    let options = CustomFnOptions {
        min_args,
        max_args: Some(max_args),
        volatile: false,
        thread_safe: true,
        deterministic: true,
        allow_override_builtin: true,
    };
    // Files name newer functions with Excel's `_xlfn.` prefix; the engine looks them up as written.
    for spelling in [name.to_string(), format!("_xlfn.{name}")] {
        let h = handler.clone();
        let _ = wb.register_custom_function(&spelling, options.clone(), Arc::new(move |v: &[LiteralValue]| h(v)));
    }
}

/// One argument: a single value, or a range or array (row-major) of more than one cell.
#[derive(Debug, Clone)]
enum ArgValue {
    Scalar(LiteralValue),
    Grid(Vec<Vec<LiteralValue>>),
}

/// A call's evaluated arguments.
#[derive(Debug, Clone)]
struct Args {
    values: Vec<ArgValue>,
    /// The workbook's date system, for functions that read serials as calendar dates.
    date1904: bool,
}

impl Args {
    fn from_values(values: &[LiteralValue]) -> Args {
        Args {
            date1904: false,
            values: values
                .iter()
                .map(|v| match v {
                    LiteralValue::Array(rows) if rows.len() * rows.first().map_or(0, Vec::len) > 1 => {
                        ArgValue::Grid(rows.clone())
                    }
                    LiteralValue::Array(rows) => {
                        ArgValue::Scalar(rows.first().and_then(|r| r.first()).cloned().unwrap_or(LiteralValue::Empty))
                    }
                    other => ArgValue::Scalar(other.clone()),
                })
                .collect(),
        }
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    /// The scalar value of argument `i` (top-left of a grid), `None` when absent.
    fn get(&self, i: usize) -> Option<&LiteralValue> {
        match self.values.get(i)? {
            ArgValue::Scalar(v) => Some(v),
            ArgValue::Grid(rows) => rows.first().and_then(|r| r.first()),
        }
    }

    /// Argument `i` as a number, with Excel's scalar coercions (blank is 0, TRUE is 1, numeric
    /// text is read); a missing argument is 0.
    fn number(&self, i: usize) -> Result<f64, ExcelError> {
        match self.get(i) {
            None => Ok(0.0),
            Some(v) => coerce_number(v),
        }
    }

    /// Like `number`, but an absent argument takes `default` (a blank cell is 0).
    fn number_given_or(&self, i: usize, default: f64) -> Result<f64, ExcelError> {
        match self.get(i) {
            None => Ok(default),
            Some(v) => coerce_number(v),
        }
    }

    /// Like `number`, but an absent or empty (omitted) argument takes `default`.
    fn number_or(&self, i: usize, default: f64) -> Result<f64, ExcelError> {
        match self.get(i) {
            None | Some(LiteralValue::Empty) => Ok(default),
            Some(v) => coerce_number(v),
        }
    }

    /// Argument `i` as text (numbers in General format); errors propagate.
    fn text(&self, i: usize) -> Result<String, ExcelError> {
        match self.get(i) {
            None => Ok(String::new()),
            Some(LiteralValue::Error(e)) => Err(e.clone()),
            Some(v) => Ok(literal_text(v)),
        }
    }

    /// Every value of argument `i`, flattened row-major, and whether it came from a grid.
    fn flat(&self, i: usize) -> (Vec<LiteralValue>, bool) {
        match self.values.get(i) {
            None => (Vec::new(), false),
            Some(ArgValue::Scalar(v)) => (vec![v.clone()], false),
            Some(ArgValue::Grid(rows)) => (rows.iter().flatten().cloned().collect(), true),
        }
    }

    /// The shape a lifted call takes: the largest grid among the arguments, if any.
    fn lifted_shape(&self) -> Option<(usize, usize)> {
        self.values
            .iter()
            .filter_map(|v| match v {
                ArgValue::Grid(rows) => Some((rows.len(), rows.first().map_or(0, Vec::len))),
                ArgValue::Scalar(_) => None,
            })
            .reduce(|a, b| (a.0.max(b.0), a.1.max(b.1)))
    }

    fn call_lifted(&self, eval: Eval) -> LiteralValue {
        self.call_lifted_with(eval)
    }

    /// Calls `eval` once, or once per element when an argument is a grid: a grid of one row or
    /// column repeats along the other axis; outside a smaller grid the element is #N/A.
    fn call_lifted_with(&self, eval: impl Fn(&Args) -> Outcome) -> LiteralValue {
        let Some((rows, cols)) = self.lifted_shape() else {
            return eval(self).unwrap_or_else(LiteralValue::Error);
        };
        LiteralValue::Array(
            (0..rows)
                .map(|r| (0..cols).map(|c| eval(&self.element(r, c)).unwrap_or_else(LiteralValue::Error)).collect())
                .collect(),
        )
    }

    fn element(&self, r: usize, c: usize) -> Args {
        let values = self
            .values
            .iter()
            .map(|v| match v {
                ArgValue::Scalar(s) => ArgValue::Scalar(s.clone()),
                ArgValue::Grid(rows) => {
                    let height = rows.len();
                    let width = rows.first().map_or(0, Vec::len);
                    let rr = if height == 1 { 0 } else { r };
                    let cc = if width == 1 { 0 } else { c };
                    ArgValue::Scalar(
                        rows.get(rr)
                            .and_then(|row| row.get(cc))
                            .cloned()
                            .unwrap_or(LiteralValue::Error(ExcelError::new(ExcelErrorKind::Na))),
                    )
                }
            })
            .collect();
        Args { values, date1904: self.date1904 }
    }
}

/// Excel's coercion of a single value to a number.
fn coerce_number(v: &LiteralValue) -> Result<f64, ExcelError> {
    match v {
        LiteralValue::Number(n) => Ok(*n),
        LiteralValue::Int(i) => Ok(*i as f64),
        LiteralValue::Boolean(b) => Ok(if *b { 1.0 } else { 0.0 }),
        LiteralValue::Empty => Ok(0.0),
        LiteralValue::Error(e) => Err(e.clone()),
        LiteralValue::Text(t) => parse_number_text(t).ok_or_else(|| ExcelError::new(ExcelErrorKind::Value)),
        _ => Err(ExcelError::new(ExcelErrorKind::Value)),
    }
}

/// Numeric text as Excel reads it in a calculation: `12`, ` 1.5e3 `, `50%`, `1,234`, ISO dates.
fn parse_number_text(t: &str) -> Option<f64> {
    let s = t.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(p) = s.strip_suffix('%') {
        return parse_number_text(p).map(|n| n / 100.0);
    }
    if let Ok(n) = s.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    if s.contains(',') {
        if let Ok(n) = s.replace(',', "").parse::<f64>() {
            return Some(n);
        }
    }
    // Unlike a number, a date may not have leading spaces: " 2024-01-10 " is #VALUE!.
    numfmt::iso_to_serial(t)
}

fn literal_text(v: &LiteralValue) -> String {
    match v {
        LiteralValue::Text(s) => s.clone(),
        LiteralValue::Empty => String::new(),
        LiteralValue::Boolean(b) => (if *b { "TRUE" } else { "FALSE" }).into(),
        LiteralValue::Int(i) => i.to_string(),
        LiteralValue::Number(n) => numfmt::general(*n),
        other => other.to_string(),
    }
}

/// TEXT(value, format_text), rendered by the same formatter as the `text` property.
fn text_fn(a: &Args, date1904: bool) -> Outcome {
    let format = a.text(1)?;
    let number = match a.get(0).cloned().unwrap_or(LiteralValue::Empty) {
        LiteralValue::Error(e) => return Err(e),
        LiteralValue::Number(n) => n,
        LiteralValue::Int(i) => i as f64,
        LiteralValue::Boolean(b) => {
            return Ok(LiteralValue::Text(numfmt::format_text(if b { "TRUE" } else { "FALSE" }, &format)))
        }
        LiteralValue::Empty => 0.0,
        LiteralValue::Text(t) => match parse_number_text(&t) {
            Some(n) => n,
            None => return Ok(LiteralValue::Text(numfmt::format_text(&t, &format))),
        },
        _ => return Err(ExcelError::new(ExcelErrorKind::Value)),
    };
    numfmt::format_number(number, &format, date1904)
        .map(LiteralValue::Text)
        .map_err(|_| ExcelError::new(ExcelErrorKind::Value))
}

#[cfg(test)]
mod tests {
    use formualizer_common::LiteralValue;
    use formualizer_workbook::{Workbook, WorkbookConfig};

    fn eval(formula: &str) -> Option<LiteralValue> {
        let mut wb = Workbook::new_with_config(WorkbookConfig::interactive());
        super::register_all(&mut wb, false);
        wb.add_sheet("S").unwrap();
        let formula = crate::formula::for_engine(formula).unwrap_or_else(|| formula.to_string());
        wb.set_formula("S", 1, 1, &formula).unwrap();
        wb.evaluate_all().unwrap();
        wb.get_value("S", 1, 1)
    }

    #[test]
    fn overrides_are_used() {
        assert_eq!(eval("=ROMAN(499,1)"), Some(LiteralValue::Text("LDVLIV".into())));
        assert_eq!(eval("=CEILING(-2.5,-2)"), Some(LiteralValue::Number(-4.0)));
        assert_eq!(eval("=_xlfn.CEILING.MATH(-23.5,1,1)"), Some(LiteralValue::Number(-24.0)));
    }

    #[test]
    fn rounding_to_multiples_reads_blanks_and_text_as_excel_does() {
        let number = |n: f64| Some(LiteralValue::Number(n));
        // A blank significance cell is 0 (the result is 0); only an absent one defaults to 1.
        assert_eq!(eval("=_xlfn.CEILING.MATH(10.5,Z9)"), number(0.0));
        assert_eq!(eval("=_xlfn.FLOOR.PRECISE(10.5)"), number(10.0));
        // Numeric text may have spaces around it; a date written as text may not.
        assert_eq!(eval(r#"=FLOOR(" 10 ",3)"#), number(9.0));
        assert_eq!(eval(r#"=FLOOR("2024-01-10",1)"#), number(45301.0));
        assert!(matches!(eval(r#"=FLOOR(" 2024-01-10 ",1)"#), Some(LiteralValue::Error(_))));
    }

    #[test]
    fn aggregate_array_forms() {
        assert_eq!(eval("=AGGREGATE(14,6,{1,5,3},2)"), Some(LiteralValue::Number(3.0)));
        assert_eq!(eval("=_xlfn.AGGREGATE(12,6,{1,5,3})"), Some(LiteralValue::Number(3.0)));
        assert_eq!(eval("=_xlfn.AGGREGATE(9,6,{1,5,3})"), Some(LiteralValue::Number(9.0)));
    }

    #[test]
    fn xlookup_modes() {
        let text = |s: &str| Some(LiteralValue::Text(s.into()));
        assert_eq!(eval(r#"=XLOOKUP(3,{1,2,3},{"a","b","c"})"#), text("c"));
        assert_eq!(eval(r#"=XLOOKUP(2.5,{1,2,3},{"a","b","c"},"none",-1)"#), text("b"));
        assert_eq!(eval(r#"=XLOOKUP(2.5,{1,2,3},{"a","b","c"},"none",1)"#), text("c"));
        assert_eq!(eval(r#"=XLOOKUP(9,{1,2,3},{"a","b","c"},"none")"#), text("none"));
        // Approximate matches cross types in Excel's order: text sorts after numbers.
        assert_eq!(eval(r#"=XLOOKUP(10,{1,"x",3},{"a","b","c"},"none",1)"#), text("b"));
        // Binary search over descending data lands on the last of equal keys.
        assert_eq!(eval(r#"=XLOOKUP(7,{9,7,7,7,5},{"a","b","c","d","e"},"none",0,-2)"#), text("d"));
        assert_eq!(eval(r#"=XLOOKUP(6,{1,3,5,7},{"a","b","c","d"},"none",-1,2)"#), text("c"));
        assert_eq!(eval(r#"=XLOOKUP("B*",{"apple","banana"},{1,2},"none",2)"#), Some(LiteralValue::Number(2.0)));
        // A key row returns columns of a taller return array; mismatched sizes are #VALUE!.
        assert_eq!(eval(r#"=XLOOKUP(2,{1,2},{"a","b";"c","d"})"#), text("b"));
        assert_eq!(eval(r#"=INDEX(XLOOKUP(2,{1,2},{"a","b";"c","d"}),2,1)"#), text("d"));
        assert!(matches!(eval(r#"=XLOOKUP(2,{1,2,3},{"a","b"})"#), Some(LiteralValue::Error(_))));
    }
}
