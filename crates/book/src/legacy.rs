//! Implicit intersection for formulas written before dynamic arrays.
//!
//! A formula stored as a plain `<f>` (not an array formula) was entered in a version of Excel
//! where a range used where one value is expected means the cell of that range in the formula's
//! own row or column: `=A:A*2` in row 5 is `=A5*2`. The engine evaluates every formula with
//! dynamic-array semantics, where the same text spills a whole column. Excel, opening such a
//! file, shows these formulas with `@` where the intersection happens; this module inserts the
//! same `@` into the text handed to the engine (the file keeps its own text).
//!
//! Only contexts known to take a single value are rewritten: operands of operators, arguments
//! of the functions in `VALUE_ARGS`, the condition of IF and the index of CHOOSE, and the formula
//! as a whole. Arguments of every other function keep their ranges, as Excel passes them whole.

use formualizer_parse::parser::{ASTNode, ASTNodeType, BinaryOperator, ReferenceType};

/// Functions whose every argument is a single value in Excel's function reference.
const VALUE_ARGS: &[&str] = &[
    "ABS",
    "ACOS",
    "BIN2DEC",
    "BIN2HEX",
    "BIN2OCT",
    "HEX2BIN",
    "HEX2DEC",
    "HEX2OCT",
    "OCT2BIN",
    "OCT2DEC",
    "OCT2HEX",
    "ACOSH",
    "ARABIC",
    "ASIN",
    "ASINH",
    "ATAN",
    "ATAN2",
    "ATANH",
    "CEILING",
    "CEILING.MATH",
    "CEILING.PRECISE",
    "CHAR",
    "CLEAN",
    "CODE",
    "COS",
    "COSH",
    "DATE",
    "DATEVALUE",
    "DAY",
    "DAYS",
    "DEC2BIN",
    "DEC2HEX",
    "DEC2OCT",
    "DEGREES",
    "EDATE",
    "EOMONTH",
    "EVEN",
    "EXACT",
    "EXP",
    "FACT",
    "FIND",
    "FIXED",
    "FLOOR",
    "FLOOR.MATH",
    "FLOOR.PRECISE",
    "HOUR",
    "INT",
    "ISO.CEILING",
    "ISOWEEKNUM",
    "LEFT",
    "LEN",
    "LN",
    "LOG",
    "LOG10",
    "LOWER",
    "MID",
    "MINUTE",
    "MOD",
    "MONTH",
    "MROUND",
    "ODD",
    "POWER",
    "PROPER",
    "QUOTIENT",
    "RADIANS",
    "REPLACE",
    "REPT",
    "RIGHT",
    "ROMAN",
    "ROUND",
    "ROUNDDOWN",
    "ROUNDUP",
    "SEARCH",
    "SECOND",
    "SIGN",
    "SIN",
    "SINH",
    "SQRT",
    "SUBSTITUTE",
    "TAN",
    "TANH",
    "TEXT",
    "TIME",
    "TIMEVALUE",
    "TRIM",
    "TRUNC",
    "UPPER",
    "VALUE",
    "WEEKDAY",
    "WEEKNUM",
    "YEAR",
];

/// Functions that return an array or a multi-cell reference: as a whole formula, a legacy
/// cell shows the first value.
const ARRAY_RESULTS: &[&str] = &[
    "ROW",
    "COLUMN",
    "TRANSPOSE",
    "OFFSET",
    "INDEX",
    "INDIRECT",
    "MMULT",
    "MINVERSE",
    "FREQUENCY",
    "LINEST",
    "LOGEST",
    "TREND",
    "GROWTH",
];

#[derive(Clone, Copy, PartialEq)]
enum Context {
    /// One value is expected here: a multi-cell reference intersects.
    Value,
    /// Ranges and arrays are taken whole.
    Whole,
}

fn function_name(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    let mut n = upper.as_str();
    for prefix in ["_XLFN.", "_XLWS."] {
        n = n.strip_prefix(prefix).unwrap_or(n);
    }
    n.to_string()
}

/// The text to give the engine for a legacy formula (without `=`), or `None` to keep it as is.
pub fn with_implicit_intersection(formula: &str, has_names: bool) -> Option<String> {
    if !(formula.contains(':') || formula.contains('[') || has_names) {
        return None;
    }
    let text = format!("={formula}");
    let ast = formualizer_parse::parser::parse(&text).ok()?;
    let mut inserts: Vec<usize> = Vec::new();
    visit(&ast, Context::Value, &mut inserts);
    let wrap_whole = matches!(&ast.node_type, ASTNodeType::Function { name, .. }
        if ARRAY_RESULTS.contains(&function_name(name).as_str()));
    if inserts.is_empty() && !wrap_whole {
        return None;
    }
    inserts.sort_unstable();
    inserts.dedup();
    let mut out = String::with_capacity(formula.len() + inserts.len() + 3);
    let mut last = 1; // after '='
    for at in inserts {
        if at < last || at > text.len() || !text.is_char_boundary(at) {
            return None;
        }
        out.push_str(&text[last..at]);
        out.push('@');
        last = at;
    }
    out.push_str(&text[last..]);
    Some(if wrap_whole { format!("@({out})") } else { out })
}

fn visit(node: &ASTNode, ctx: Context, inserts: &mut Vec<usize>) {
    match &node.node_type {
        ASTNodeType::Reference { reference, .. } => {
            if ctx == Context::Value && may_be_multi_cell(reference) {
                if let Some(t) = &node.source_token {
                    inserts.push(t.start);
                }
            }
        }
        ASTNodeType::UnaryOp { expr, .. } => visit(expr, ctx, inserts),
        ASTNodeType::BinaryOp { op, left, right } => {
            // Reference operators build a reference; intersecting their parts would change it.
            if matches!(op, BinaryOperator::Range | BinaryOperator::Union | BinaryOperator::Intersection) {
                return;
            }
            visit(left, ctx, inserts);
            visit(right, ctx, inserts);
        }
        ASTNodeType::Function { name, args } => {
            let name = function_name(name);
            for (i, arg) in args.iter().enumerate() {
                let arg_ctx = match name.as_str() {
                    n if VALUE_ARGS.contains(&n) => Context::Value,
                    "IF" | "CHOOSE" if i == 0 => Context::Value,
                    "IF" | "CHOOSE" | "IFERROR" | "IFNA" => ctx,
                    _ => Context::Whole,
                };
                visit(arg, arg_ctx, inserts);
            }
        }
        ASTNodeType::Call { .. } | ASTNodeType::Array(_) | ASTNodeType::Literal(_) | ASTNodeType::Omitted => {}
    }
}

fn may_be_multi_cell(reference: &ReferenceType) -> bool {
    match reference {
        ReferenceType::Cell { .. } | ReferenceType::Cell3D { .. } | ReferenceType::External(_) => false,
        ReferenceType::Range { start_row, start_col, end_row, end_col, .. } => {
            !(start_row.is_some() && start_row == end_row && start_col.is_some() && start_col == end_col)
        }
        ReferenceType::Range3D { .. } => false,
        ReferenceType::Table(_) | ReferenceType::NamedRange(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::with_implicit_intersection as ii;

    #[test]
    fn ranges_in_value_positions_intersect() {
        assert_eq!(ii("A:A*2", false).as_deref(), Some("@A:A*2"));
        assert_eq!(ii("FLOOR.PRECISE($AM:$AM,U$2)", false).as_deref(), Some("FLOOR.PRECISE(@$AM:$AM,U$2)"));
        assert_eq!(ii("IF(A1:A3>1,B1:B3,0)", false).as_deref(), Some("IF(@A1:A3>1,@B1:B3,0)"));
        assert_eq!(ii("ROW(A1:A5)", false).as_deref(), Some("@(ROW(A1:A5))"));
    }

    #[test]
    fn whole_range_arguments_are_kept() {
        assert_eq!(ii("SUM(A1:A10)", false), None);
        assert_eq!(ii("VLOOKUP(A1,B:C,2,FALSE)", false), None);
        assert_eq!(ii("SUMPRODUCT(A1:A3*B1:B3)", false), None);
        assert_eq!(ii("A1+B2", false), None);
        // Without Ctrl+Shift+Enter, IF's condition intersects even inside SUM, as in Excel.
        assert_eq!(ii("SUM(IF(A1:A3>1,1,0))", false).as_deref(), Some("SUM(IF(@A1:A3>1,1,0))"));
    }
}
