//! Coupon schedules as Excel builds them (COUPDAYS, COUPDAYBS, COUPDAYSNC, COUPNCD, COUPPCD,
//! COUPNUM) and ACCRINT, which sums accrued interest over the quasi-coupon periods between issue
//! and settlement.
//!
//! Coupon dates are counted back (or forward) from an anchor, maturity or the first interest
//! date, by whole multiples of 12 / frequency months, each from the anchor itself so that day
//! numbers do not drift (31 → 30 → 30); an anchor on a month's last day puts every coupon on a
//! month's last day.

use formualizer_common::{ExcelError, ExcelErrorKind, LiteralValue};

use super::{Args, Outcome};
use crate::numfmt;

fn num_err() -> ExcelError {
    ExcelError::new(ExcelErrorKind::Num)
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Date {
    y: i64,
    m: u32,
    d: u32,
}

impl Date {
    fn from_serial(serial: f64, date1904: bool) -> Result<Date, ExcelError> {
        let serial = serial.trunc();
        if !(0.0..=2_958_465.0).contains(&serial) {
            return Err(num_err());
        }
        let (y, m, d, _) = numfmt::serial_to_date(serial as i64, date1904);
        Ok(Date { y, m, d })
    }

    /// A day count between dates (Excel's own serials are off by one before March 1900, which
    /// coupon arithmetic never meets).
    fn ordinal(self) -> i64 {
        numfmt::days_from_civil(self.y, self.m, self.d)
    }

    fn serial(self, date1904: bool) -> f64 {
        numfmt::date_to_serial(self.y, self.m, self.d) - if date1904 { 1462.0 } else { 0.0 }
    }

    fn is_month_end(self) -> bool {
        self.d == numfmt::days_in_month(self.y, self.m)
    }

    /// This date moved by `months`, on the same day (clamped to the month's length), or on the
    /// month's last day when `month_end`.
    fn add_months(self, months: i64, month_end: bool) -> Date {
        let total = self.y * 12 + i64::from(self.m) - 1 + months;
        let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let last = numfmt::days_in_month(y, m);
        Date { y, m, d: if month_end { last } else { self.d.min(last) } }
    }
}

/// Day-count basis: 0 US 30/360, 1 actual/actual, 2 actual/360, 3 actual/365, 4 European 30/360.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Basis(u8);

impl Basis {
    fn read(a: &Args, i: usize) -> Result<Basis, ExcelError> {
        let b = a.number(i)?.trunc();
        if !(0.0..=4.0).contains(&b) {
            return Err(num_err());
        }
        Ok(Basis(b as u8))
    }

    /// Days from `a` to `b` (negative when `b` is earlier) as the basis counts them.
    fn days(self, a: Date, b: Date) -> f64 {
        match self.0 {
            0 => {
                let feb_end = |x: Date| x.m == 2 && x.is_month_end();
                let (mut d1, mut d2) = (i64::from(a.d), i64::from(b.d));
                if feb_end(a) && feb_end(b) {
                    d2 = 30;
                }
                if feb_end(a) {
                    d1 = 30;
                }
                if d2 == 31 && d1 >= 30 {
                    d2 = 30;
                }
                if d1 == 31 {
                    d1 = 30;
                }
                days360(a, b, d1, d2)
            }
            4 => days360(a, b, i64::from(a.d.min(30)), i64::from(b.d.min(30))),
            _ => (b.ordinal() - a.ordinal()) as f64,
        }
    }

    /// The length of the coupon period from `pcd` to `ncd`.
    fn coupon_days(self, pcd: Date, ncd: Date, frequency: f64) -> f64 {
        match self.0 {
            1 => (ncd.ordinal() - pcd.ordinal()) as f64,
            3 => 365.0 / frequency,
            _ => 360.0 / frequency,
        }
    }
}

fn days360(a: Date, b: Date, d1: i64, d2: i64) -> f64 {
    ((b.y - a.y) * 360 + (i64::from(b.m) - i64::from(a.m)) * 30 + (d2 - d1)) as f64
}

/// A coupon schedule: every date `anchor` + k × `months`.
struct Schedule {
    anchor: Date,
    months: i64,
    month_end: bool,
}

impl Schedule {
    fn new(anchor: Date, frequency: f64) -> Schedule {
        Schedule { anchor, months: 12 / frequency as i64, month_end: anchor.is_month_end() }
    }

    fn date(&self, k: i64) -> Date {
        self.anchor.add_months(k * self.months, self.month_end)
    }

    /// The k whose coupon date is the last on or before `day`.
    fn index_at(&self, day: Date) -> i64 {
        let months = (day.y - self.anchor.y) * 12 + i64::from(day.m) - i64::from(self.anchor.m);
        let mut k = months.div_euclid(self.months);
        while self.date(k) > day {
            k -= 1;
        }
        while self.date(k + 1) <= day {
            k += 1;
        }
        k
    }
}

fn frequency(a: &Args, i: usize) -> Result<f64, ExcelError> {
    let f = a.number(i)?.trunc();
    if f == 1.0 || f == 2.0 || f == 4.0 {
        Ok(f)
    } else {
        Err(num_err())
    }
}

/// The arguments every COUP* function takes: settlement, maturity, frequency, [basis].
struct Coupon {
    settlement: Date,
    pcd: Date,
    ncd: Date,
    /// Coupons still to be paid, the next one included.
    remaining: i64,
    frequency: f64,
    basis: Basis,
    date1904: bool,
}

fn coupon(a: &Args) -> Result<Coupon, ExcelError> {
    let (settlement, maturity) = (a.number(0)?, a.number(1)?);
    let frequency = frequency(a, 2)?;
    let basis = Basis::read(a, 3)?;
    let settlement = Date::from_serial(settlement, a.date1904)?;
    let maturity = Date::from_serial(maturity, a.date1904)?;
    if settlement >= maturity {
        return Err(num_err());
    }
    let schedule = Schedule::new(maturity, frequency);
    let k = schedule.index_at(settlement);
    Ok(Coupon {
        settlement,
        pcd: schedule.date(k),
        ncd: schedule.date(k + 1),
        remaining: -k,
        frequency,
        basis,
        date1904: a.date1904,
    })
}

pub(super) fn coupdays(a: &Args) -> Outcome {
    let c = coupon(a)?;
    Ok(LiteralValue::Number(c.basis.coupon_days(c.pcd, c.ncd, c.frequency)))
}

pub(super) fn coupdaybs(a: &Args) -> Outcome {
    let c = coupon(a)?;
    Ok(LiteralValue::Number(c.basis.days(c.pcd, c.settlement)))
}

/// Days from settlement to the next coupon: on the 30/360 bases, what the period has left.
pub(super) fn coupdaysnc(a: &Args) -> Outcome {
    let c = coupon(a)?;
    Ok(LiteralValue::Number(match c.basis.0 {
        0 | 4 => c.basis.coupon_days(c.pcd, c.ncd, c.frequency) - c.basis.days(c.pcd, c.settlement),
        _ => (c.ncd.ordinal() - c.settlement.ordinal()) as f64,
    }))
}

pub(super) fn coupncd(a: &Args) -> Outcome {
    let c = coupon(a)?;
    Ok(LiteralValue::Number(c.ncd.serial(c.date1904)))
}

pub(super) fn couppcd(a: &Args) -> Outcome {
    let c = coupon(a)?;
    Ok(LiteralValue::Number(c.pcd.serial(c.date1904)))
}

pub(super) fn coupnum(a: &Args) -> Outcome {
    let c = coupon(a)?;
    Ok(LiteralValue::Number(c.remaining as f64))
}

/// ACCRINT(issue, first_interest, settlement, rate, par, frequency, [basis], [calc_method]).
///
/// par × rate / frequency × Σ accrued days / period length, over the quasi-coupon periods of
/// the schedule through first_interest, as measured against Excel: the period ending at
/// first_interest (or, when calc_method is TRUE and settlement has passed it, the one holding
/// settlement) counts from its start (or issue, if later) up to settlement, over the length of
/// the period ending at first_interest; each earlier period back to issue counts whole when
/// calc_method is TRUE and not at all when it is FALSE, except the one issue falls in, which
/// counts from issue.
pub(super) fn accrint(a: &Args) -> Outcome {
    let issue = Date::from_serial(a.number(0)?, a.date1904)?;
    let first_interest = Date::from_serial(a.number(1)?, a.date1904)?;
    let settlement = Date::from_serial(a.number(2)?, a.date1904)?;
    let (rate, par) = (a.number(3)?, a.number(4)?);
    let frequency = frequency(a, 5)?;
    let basis = Basis::read(a, 6)?;
    let from_issue = match a.get(7) {
        None | Some(LiteralValue::Empty) => true,
        Some(_) => a.number(7)? != 0.0,
    };
    if rate <= 0.0 || par <= 0.0 || issue >= settlement {
        return Err(num_err());
    }
    let schedule = Schedule::new(first_interest, frequency);
    // The period settlement falls in (a settlement on a coupon date ends its period), or the
    // one ending at first_interest. Either is measured against the length of the latter.
    let k = if settlement > first_interest && from_issue {
        let k = schedule.index_at(settlement);
        if schedule.date(k) == settlement {
            k - 1
        } else {
            k
        }
    } else {
        -1
    };
    let start = issue.max(schedule.date(k));
    let mut periods = basis.days(start, settlement) / basis.coupon_days(schedule.date(-1), first_interest, frequency);
    let mut j = k;
    while schedule.date(j) > issue {
        let (period_start, period_end) = (schedule.date(j - 1), schedule.date(j));
        periods += if issue <= period_start {
            if from_issue {
                1.0
            } else {
                0.0
            }
        } else {
            basis.days(issue, period_end) / basis.coupon_days(period_start, period_end, frequency)
        };
        j -= 1;
    }
    Ok(LiteralValue::Number(par * rate / frequency * periods))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: fn(&Args) -> Outcome, args: &[f64]) -> f64 {
        let values: Vec<LiteralValue> = args.iter().map(|&v| LiteralValue::Number(v)).collect();
        match f(&Args::from_values(&values)) {
            Ok(LiteralValue::Number(n)) => n,
            other => panic!("{other:?}"),
        }
    }

    fn serial(y: i64, m: u32, d: u32) -> f64 {
        numfmt::date_to_serial(y, m, d)
    }

    #[test]
    fn coupon_schedule() {
        let (settlement, maturity) = (serial(2011, 1, 25), serial(2011, 11, 15));
        assert_eq!(call(coupdaybs, &[settlement, maturity, 2.0, 1.0]), 71.0);
        assert_eq!(call(coupdays, &[settlement, maturity, 2.0, 1.0]), 181.0);
        assert_eq!(call(coupdaysnc, &[settlement, maturity, 2.0, 1.0]), 110.0);
        assert_eq!(call(coupncd, &[settlement, maturity, 2.0, 1.0]), serial(2011, 5, 15));
        assert_eq!(call(couppcd, &[settlement, maturity, 2.0, 1.0]), serial(2010, 11, 15));
        assert_eq!(call(coupnum, &[settlement, maturity, 2.0, 1.0]), 2.0);
        // A maturity on a month's end keeps coupons on month ends (February included).
        assert_eq!(call(couppcd, &[serial(2024, 3, 15), serial(2024, 8, 31), 2.0, 0.0]), serial(2024, 2, 29));
    }

    #[test]
    fn accrued_interest_over_quasi_coupon_periods() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.abs().max(1.0);
        let (issue, first) = (serial(2020, 12, 1), serial(2021, 12, 1));
        // Settlement before the period ending at first_interest: FALSE counts back from it.
        assert!(close(call(accrint, &[issue, first, serial(2021, 3, 1), 0.075, 100.0, 2.0, 0.0, 1.0]), 1.875));
        assert!(close(call(accrint, &[issue, first, serial(2021, 3, 1), 0.075, 100.0, 2.0, 0.0, 0.0]), -1.875));
        // Issue inside a period counts from issue, whatever calc_method says.
        let odd_issue = serial(2020, 12, 26);
        let v = call(accrint, &[odd_issue, first, serial(2021, 3, 1), 0.025, 5000.0, 2.0, 1.0, 0.0]);
        assert!(close(v, 22.494070137512765));
        // Settlement past first_interest, actual/actual.
        let v =
            call(accrint, &[serial(2020, 1, 1), serial(2020, 7, 1), serial(2021, 4, 1), 0.075, 100.0, 2.0, 1.0, 1.0]);
        assert!(close(v, 9.354395604395604));
    }
}
