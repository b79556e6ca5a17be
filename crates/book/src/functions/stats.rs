//! AGGREGATE: nineteen aggregations with error handling options.

use formualizer_common::{ExcelError, ExcelErrorKind, LiteralValue};
use formualizer_eval::args::ArgSchema;
use formualizer_eval::function::{FnCaps, Function};
use formualizer_eval::function_contract::FunctionDependencyContract;
use formualizer_eval::traits::{ArgumentHandle, CalcValue, FunctionContext};

use super::{Args, Outcome};

fn num_err() -> ExcelError {
    ExcelError::new(ExcelErrorKind::Num)
}

fn div_err() -> ExcelError {
    ExcelError::new(ExcelErrorKind::Div)
}

/// The numbers of `values`; errors are skipped or returned per `ignore_errors`.
fn numbers(values: &[LiteralValue], ignore_errors: bool) -> Result<Vec<f64>, ExcelError> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        match v {
            LiteralValue::Number(n) => out.push(*n),
            LiteralValue::Int(i) => out.push(*i as f64),
            LiteralValue::Error(e) if !ignore_errors => return Err(e.clone()),
            _ => {}
        }
    }
    Ok(out)
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn variance(x: &[f64], sample: bool) -> Result<f64, ExcelError> {
    let n = x.len() as f64;
    if x.is_empty() || (sample && x.len() < 2) {
        return Err(div_err());
    }
    let m = mean(x);
    let ss: f64 = x.iter().map(|v| (v - m) * (v - m)).sum();
    Ok(ss / if sample { n - 1.0 } else { n })
}

fn sorted(mut x: Vec<f64>) -> Vec<f64> {
    x.sort_by(|a, b| a.total_cmp(b));
    x
}

/// PERCENTILE.INC (exclusive = false) and PERCENTILE.EXC.
fn percentile(x: Vec<f64>, k: f64, exclusive: bool) -> Result<f64, ExcelError> {
    if x.is_empty() {
        return Err(num_err());
    }
    let x = sorted(x);
    let n = x.len() as f64;
    let rank = if exclusive {
        if k <= 0.0 || k >= 1.0 {
            return Err(num_err());
        }
        let r = k * (n + 1.0) - 1.0;
        if r < 0.0 || r > n - 1.0 {
            return Err(num_err());
        }
        r
    } else {
        if !(0.0..=1.0).contains(&k) {
            return Err(num_err());
        }
        k * (n - 1.0)
    };
    let lo = rank.floor() as usize;
    let frac = rank - rank.floor();
    let hi = (lo + 1).min(x.len() - 1);
    Ok(x[lo] + frac * (x[hi] - x[lo]))
}

pub(super) fn aggregate(a: &Args) -> Outcome {
    let function = a.number(0)?.trunc() as i64;
    let options = a.number(1)?.trunc() as i64;
    if !(1..=19).contains(&function) || !(0..=7).contains(&options) {
        return Err(ExcelError::new(ExcelErrorKind::Value));
    }
    let ignore_errors = matches!(options, 2 | 3 | 6 | 7);
    let ranges = if function >= 14 { 2..3 } else { 2..a.len() };
    let mut values = Vec::new();
    for i in ranges {
        values.extend(a.flat(i).0);
    }
    if function == 3 {
        let count = values
            .iter()
            .filter(|v| match v {
                LiteralValue::Empty => false,
                LiteralValue::Error(_) => !ignore_errors,
                _ => true,
            })
            .count();
        if !ignore_errors {
            if let Some(LiteralValue::Error(e)) = values.iter().find(|v| matches!(v, LiteralValue::Error(_))) {
                return Err(e.clone());
            }
        }
        return Ok(LiteralValue::Number(count as f64));
    }
    let x = numbers(&values, ignore_errors)?;
    let k = || a.number(3);
    let r = match function {
        1 if x.is_empty() => return Err(div_err()),
        1 => mean(&x),
        2 => x.len() as f64,
        // MAX and MIN of no numbers are 0.
        4 => x.iter().copied().reduce(f64::max).unwrap_or(0.0),
        5 => x.iter().copied().reduce(f64::min).unwrap_or(0.0),
        6 => x.iter().product(),
        7 => variance(&x, true)?.sqrt(),
        8 => variance(&x, false)?.sqrt(),
        9 => x.iter().sum(),
        10 => variance(&x, true)?,
        11 => variance(&x, false)?,
        12 => {
            if x.is_empty() {
                return Err(num_err());
            }
            percentile(x, 0.5, false)?
        }
        13 => {
            // MODE.SNGL: the most frequent value, the first to reach that count.
            let mut best: Option<(f64, usize)> = None;
            for (i, v) in x.iter().enumerate() {
                let c = x.iter().filter(|w| *w == v).count();
                if c > 1 && best.is_none_or(|(_, bc)| c > bc) && x[..i].iter().all(|w| w != v) {
                    best = Some((*v, c));
                }
            }
            best.map(|b| b.0).ok_or_else(|| ExcelError::new(ExcelErrorKind::Na))?
        }
        14 | 15 => {
            let k = k()?.ceil();
            if k < 1.0 || k as usize > x.len() {
                return Err(num_err());
            }
            let s = sorted(x);
            if function == 14 {
                s[s.len() - k as usize]
            } else {
                s[k as usize - 1]
            }
        }
        16 => percentile(x, k()?, false)?,
        17 => {
            let q = k()?.trunc();
            if !(0.0..=4.0).contains(&q) {
                return Err(num_err());
            }
            percentile(x, q / 4.0, false)?
        }
        18 => percentile(x, k()?, true)?,
        _ => {
            let q = k()?.trunc();
            if !(1.0..=3.0).contains(&q) {
                return Err(num_err());
            }
            percentile(x, q / 4.0, true)?
        }
    };
    Ok(LiteralValue::Number(r))
}

/// VDB(cost, salvage, life, start, end, [factor], [no_switch]): declining balance over the
/// periods from `start` to `end`, switching to straight line when that is larger (unless
/// `no_switch`). Periods cut by a fractional start or end count in proportion.
pub(super) fn vdb(a: &Args) -> Outcome {
    let cost = a.number(0)?;
    let salvage = a.number(1)?;
    let life = a.number(2)?;
    let start = a.number(3)?;
    let end = a.number(4)?;
    let factor = a.number_or(5, 2.0)?;
    let no_switch = match a.get(6) {
        None | Some(LiteralValue::Empty) => false,
        Some(LiteralValue::Boolean(b)) => *b,
        Some(_) => a.number(6)? != 0.0,
    };
    if cost < 0.0 || salvage < 0.0 || life <= 0.0 || start < 0.0 || end < start || end > life || factor <= 0.0 {
        return Err(num_err());
    }
    let periods = life.ceil() as usize;
    if periods > 100_000 {
        return Err(num_err());
    }
    let mut book = cost;
    let mut total = 0.0;
    for p in 0..periods {
        let (from, to) = (p as f64, (p + 1) as f64);
        let ddb = book * factor / life;
        let remaining = life - from;
        let sl = if remaining > 0.0 { (book - salvage) / remaining } else { 0.0 };
        let mut dep = if !no_switch && sl > ddb { sl } else { ddb };
        dep = dep.min(book - salvage).max(0.0);
        let overlap = (end.min(to) - start.max(from)).max(0.0);
        total += dep * overlap;
        book -= dep;
        if to >= end {
            break;
        }
    }
    Ok(LiteralValue::Number(total))
}

/// AGGREGATE as the engine sees it: functions 1–11 go to the engine's own AGGREGATE; 12–19
/// (MEDIAN, MODE, LARGE, SMALL, percentiles, quartiles), which it does not have, are computed
/// here. Both read the references themselves, so the options that skip hidden rows (odd ones)
/// and nested SUBTOTAL/AGGREGATE cells (0–3) are honoured.
pub(super) struct AggregateWithArrayForms {
    /// The engine's own AGGREGATE.
    pub(super) builtin: std::sync::Arc<dyn Function>,
}

impl Function for AggregateWithArrayForms {
    fn caps(&self) -> FnCaps {
        self.builtin.caps()
    }

    fn name(&self) -> &'static str {
        crate::formula::ENGINE_RENAMES[0].1
    }

    fn min_args(&self) -> usize {
        3
    }

    fn variadic(&self) -> bool {
        true
    }

    fn arg_schema(&self) -> &'static [ArgSchema] {
        self.builtin.arg_schema()
    }

    fn dependency_contract(&self, arity: usize) -> Option<FunctionDependencyContract> {
        self.builtin.dependency_contract(arity)
    }

    fn eval<'a, 'b, 'c>(
        &self,
        args: &'c [ArgumentHandle<'a, 'b>],
        ctx: &dyn FunctionContext<'b>,
    ) -> Result<CalcValue<'b>, ExcelError> {
        let scalar = |i: usize| match args.get(i).map(|a| a.value().map(CalcValue::into_literal)) {
            Some(Ok(v)) => super::coerce_number(&v).ok(),
            _ => None,
        };
        let (Some(function), Some(options)) = (scalar(0), scalar(1)) else {
            return self.builtin.eval(args, ctx);
        };
        if !(12.0..20.0).contains(&function) || !(0.0..8.0).contains(&options) {
            return self.builtin.eval(args, ctx);
        }
        let options = options.trunc() as i64;
        let values: Vec<LiteralValue> = args
            .iter()
            .enumerate()
            .map(|(i, a)| match a.value() {
                Ok(CalcValue::Range(view)) if i >= 2 => {
                    LiteralValue::Array(vec![counted_cells(&view, ctx, options % 2 == 1, options <= 3)])
                }
                Ok(v) => v.into_literal(),
                Err(e) => LiteralValue::Error(e),
            })
            .collect();
        Ok(CalcValue::Scalar(aggregate(&Args::from_values(&values)).unwrap_or_else(LiteralValue::Error)))
    }
}

/// The values of a referenced range that AGGREGATE counts, row by row: hidden rows left out when
/// `skip_hidden`, cells holding SUBTOTAL or AGGREGATE formulas when `skip_nested`.
fn counted_cells(
    view: &formualizer_eval::engine::range_view::RangeView<'_>,
    ctx: &dyn FunctionContext<'_>,
    skip_hidden: bool,
    skip_nested: bool,
) -> Vec<LiteralValue> {
    use arrow_array::Array;
    let hidden = if skip_hidden {
        ctx.get_row_visibility_mask(view, formualizer_eval::engine::VisibilityMaskMode::ExcludeManualOrFilterHidden)
    } else {
        None
    };
    // (column, first row, last row) runs, sorted.
    let nested = if skip_nested { ctx.get_nested_subtotal_cells(view, true).unwrap_or_default() } else { Vec::new() };
    let (rows, cols) = view.dims();
    let mut out = Vec::new();
    for r in 0..rows {
        if hidden.as_ref().is_some_and(|m| r < m.len() && !m.is_null(r) && !m.value(r)) {
            continue;
        }
        for c in 0..cols {
            if nested.iter().any(|&(col, lo, hi)| col == c && (lo..=hi).contains(&r)) {
                continue;
            }
            out.push(view.get_cell(r, c));
        }
    }
    out
}
