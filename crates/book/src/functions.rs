//! Worksheet functions written by this project and registered over the engine's own where the
//! corpus showed the engine disagreeing with Excel. Each one is measured by the corpus harness.

use std::sync::{Arc, LazyLock, Once};

use formualizer_common::{ExcelError, ExcelErrorKind, LiteralValue};
use formualizer_eval::args::ArgSchema;
use formualizer_eval::function::Function;
use formualizer_eval::function_registry::register_function;
use formualizer_eval::traits::{ArgumentHandle, CalcValue, FunctionContext};

use crate::numfmt;

static REGISTER: Once = Once::new();

/// Registers every override once per process (the engine's registry is global).
pub fn register_all() {
    REGISTER.call_once(|| {
        register_function(Arc::new(Text));
    });
}

static TWO_ANY: LazyLock<Vec<ArgSchema>> = LazyLock::new(|| vec![ArgSchema::any(), ArgSchema::any()]);

fn scalar(arg: &ArgumentHandle<'_, '_>) -> Result<LiteralValue, ExcelError> {
    Ok(match arg.value()? {
        CalcValue::Scalar(v) | CalcValue::AnnotatedScalar(v, _) => v,
        CalcValue::Range(rv) => rv.get_cell(0, 0),
        CalcValue::Callable(_) => LiteralValue::Error(ExcelError::new(ExcelErrorKind::Calc)),
    })
}

fn ok(v: LiteralValue) -> Result<CalcValue<'static>, ExcelError> {
    Ok(CalcValue::Scalar(v))
}

fn err(kind: ExcelErrorKind) -> Result<CalcValue<'static>, ExcelError> {
    ok(LiteralValue::Error(ExcelError::new(kind)))
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
#[derive(Debug)]
struct Text;

impl Function for Text {
    fn name(&self) -> &'static str {
        "TEXT"
    }
    fn min_args(&self) -> usize {
        2
    }
    fn arg_schema(&self) -> &'static [ArgSchema] {
        &TWO_ANY
    }
    fn eval<'a, 'b, 'c>(
        &self,
        args: &'c [ArgumentHandle<'a, 'b>],
        ctx: &dyn FunctionContext<'b>,
    ) -> Result<CalcValue<'b>, ExcelError> {
        if args.len() != 2 {
            return err(ExcelErrorKind::Value);
        }
        let value = scalar(&args[0])?;
        let format = match scalar(&args[1])? {
            LiteralValue::Error(e) => return ok(LiteralValue::Error(e)),
            other => literal_text(&other),
        };
        let date1904 = ctx.date_system() == formualizer_eval::engine::DateSystem::Excel1904;
        let number = match value {
            LiteralValue::Error(e) => return ok(LiteralValue::Error(e)),
            LiteralValue::Number(n) => n,
            LiteralValue::Int(i) => i as f64,
            LiteralValue::Boolean(b) => {
                return ok(LiteralValue::Text(numfmt::format_text(if b { "TRUE" } else { "FALSE" }, &format)))
            }
            LiteralValue::Empty => 0.0,
            LiteralValue::Text(t) => match t.trim().parse::<f64>() {
                Ok(n) => n,
                Err(_) => return ok(LiteralValue::Text(numfmt::format_text(&t, &format))),
            },
            _ => return err(ExcelErrorKind::Value),
        };
        match numfmt::format_number(number, &format, date1904) {
            Ok(s) => ok(LiteralValue::Text(s)),
            Err(_) => err(ExcelErrorKind::Value),
        }
    }
}
