//! MMULT, MDETERM, MINVERSE and MUNIT.

use formualizer_common::{ExcelError, ExcelErrorKind, LiteralValue};

use super::{ArgValue, Args, Outcome};

fn value_err() -> ExcelError {
    ExcelError::new(ExcelErrorKind::Value)
}

/// Argument `i` as a matrix of numbers; a blank, text or boolean element is #VALUE!.
fn matrix(a: &Args, i: usize) -> Result<Vec<Vec<f64>>, ExcelError> {
    let rows: Vec<Vec<LiteralValue>> = match a.values.get(i) {
        Some(ArgValue::Grid(rows)) => rows.clone(),
        Some(ArgValue::Scalar(v)) => vec![vec![v.clone()]],
        None => return Err(value_err()),
    };
    let width = rows.first().map_or(0, Vec::len);
    if width == 0 || rows.iter().any(|r| r.len() != width) {
        return Err(value_err());
    }
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    LiteralValue::Number(n) => Ok(*n),
                    LiteralValue::Int(n) => Ok(*n as f64),
                    LiteralValue::Error(e) => Err(e.clone()),
                    _ => Err(value_err()),
                })
                .collect()
        })
        .collect()
}

fn to_array(m: Vec<Vec<f64>>) -> LiteralValue {
    LiteralValue::Array(m.into_iter().map(|r| r.into_iter().map(LiteralValue::Number).collect()).collect())
}

pub(super) fn mmult(a: &Args) -> Outcome {
    let x = matrix(a, 0)?;
    let y = matrix(a, 1)?;
    if x[0].len() != y.len() {
        return Err(value_err());
    }
    let (n, m, p) = (x.len(), y.len(), y[0].len());
    let product = (0..n).map(|i| (0..p).map(|j| (0..m).map(|k| x[i][k] * y[k][j]).sum()).collect()).collect();
    Ok(to_array(product))
}

/// LU decomposition with partial pivoting: the determinant, or `None` when singular.
fn determinant_and_inverse(mut m: Vec<Vec<f64>>, want_inverse: bool) -> (f64, Option<Vec<Vec<f64>>>) {
    let n = m.len();
    let mut inv: Vec<Vec<f64>> = if want_inverse {
        (0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect()
    } else {
        Vec::new()
    };
    let mut det = 1.0;
    for col in 0..n {
        let pivot = (col..n).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs())).unwrap_or(col);
        if m[pivot][col] == 0.0 {
            return (0.0, None);
        }
        if pivot != col {
            m.swap(pivot, col);
            if want_inverse {
                inv.swap(pivot, col);
            }
            det = -det;
        }
        let p = m[col][col];
        det *= p;
        for row in 0..n {
            if row == col || (!want_inverse && row < col) {
                continue;
            }
            let factor = m[row][col] / p;
            if factor == 0.0 {
                continue;
            }
            for k in 0..n {
                m[row][k] -= factor * m[col][k];
                if want_inverse {
                    inv[row][k] -= factor * inv[col][k];
                }
            }
        }
    }
    if want_inverse {
        for (row, inv_row) in inv.iter_mut().enumerate() {
            let p = m[row][row];
            for v in inv_row.iter_mut() {
                *v /= p;
            }
        }
        (det, Some(inv))
    } else {
        (det, None)
    }
}

pub(super) fn mdeterm(a: &Args) -> Outcome {
    let m = matrix(a, 0)?;
    if m.len() != m[0].len() {
        return Err(value_err());
    }
    Ok(LiteralValue::Number(determinant_and_inverse(m, false).0))
}

pub(super) fn minverse(a: &Args) -> Outcome {
    let m = matrix(a, 0)?;
    if m.len() != m[0].len() {
        return Err(value_err());
    }
    match determinant_and_inverse(m, true) {
        (_, Some(inv)) => Ok(to_array(inv)),
        _ => Err(ExcelError::new(ExcelErrorKind::Num)),
    }
}

pub(super) fn munit(a: &Args) -> Outcome {
    let n = a.number(0)?.trunc();
    if !(1.0..=4096.0).contains(&n) {
        return Err(value_err());
    }
    let n = n as usize;
    Ok(to_array((0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect()))
}

#[cfg(test)]
mod tests {
    use super::determinant_and_inverse;

    #[test]
    fn determinant_and_inverse_of_small_matrices() {
        let m = vec![vec![4.0, 7.0], vec![2.0, 6.0]];
        let (det, inv) = determinant_and_inverse(m, true);
        assert!((det - 10.0).abs() < 1e-12);
        let inv = inv.unwrap();
        assert!((inv[0][0] - 0.6).abs() < 1e-12 && (inv[0][1] + 0.7).abs() < 1e-12);
        assert!((inv[1][0] + 0.2).abs() < 1e-12 && (inv[1][1] - 0.4).abs() < 1e-12);
        assert_eq!(determinant_and_inverse(vec![vec![1.0, 2.0], vec![2.0, 4.0]], true).1, None);
    }
}
