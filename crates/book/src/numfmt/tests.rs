use super::*;

#[test]
fn calendar_days_round_trip_and_run_past_month_ends() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(days_from_civil(1900, 1, 0), days_from_civil(1899, 12, 31));
    assert_eq!(days_from_civil(1900, 2, 29), days_from_civil(1900, 3, 1));
    for z in (-800_000..3_000_000).step_by(997) {
        let (y, m, d) = dates::civil_from_days(z);
        assert_eq!(days_from_civil(y, m, d), z, "{y}-{m}-{d}");
    }
    let months: Vec<u32> = (1..=12).map(|m| days_in_month(2024, m)).collect();
    assert_eq!(months, [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    assert_eq!((days_in_month(1900, 2), days_in_month(2000, 2), days_in_month(2023, 2)), (28, 29, 28));
}

#[test]
fn iso_dates_map_to_excel_serials() {
    assert_eq!(iso_to_serial("1899-12-30T12:00:00"), Some(0.5));
    assert_eq!(iso_to_serial("1900-01-01"), Some(1.0));
    assert_eq!(iso_to_serial("1900-03-01"), Some(61.0));
    assert_eq!(iso_to_serial("2024-01-01T06:00:00Z"), Some(45292.25));
}

fn f(v: f64, code: &str) -> String {
    format_number(v, code, false).unwrap()
}

#[test]
fn general_shortcuts_agree_with_rounding() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..200_000 {
        // xorshift: values over many magnitudes, with short and long fractions.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mantissa = (x % 1_000_000_007) as f64 / [1.0, 8.0, 100.0, 3.0, 1e6, 7.0][i % 6];
        let v = mantissa * 10f64.powi((x >> 40) as i32 % 24 - 12) * if x & 1 == 0 { 1.0 } else { -1.0 };
        if v == 0.0 {
            continue;
        }
        if let Some(quick) = general_quick(v) {
            assert_eq!(quick, general_rounded(v), "{v:e}");
        }
    }
}

#[test]
fn general_numbers() {
    assert_eq!(general(0.1 + 0.2), "0.3");
    assert_eq!(general(1.0 / 3.0), "0.333333333");
    assert_eq!(general(123456789012.0), "1.23457E+11");
    assert_eq!(general(-1234.5), "-1234.5");
    assert_eq!(general(1e-10), "1E-10");
    assert_eq!(general(12345678901.0), "12345678901");
}

#[test]
fn placeholders_and_grouping() {
    assert_eq!(f(1234.567, "#,##0.00"), "1,234.57");
    assert_eq!(f(-1234.567, "#,##0.00"), "-1,234.57");
    assert_eq!(f(0.5, "0%"), "50%");
    assert_eq!(f(2.5, "0"), "3");
    assert_eq!(f(1.005, "0.00"), "1.01");
    assert_eq!(f(0.0, "#,##0"), "0");
    assert_eq!(f(5.0, "000"), "005");
    assert_eq!(f(1.5, "#.##"), "1.5");
    assert_eq!(f(1234567.0, "#,##0,"), "1,235");
    assert_eq!(f(1234567.0, "#,.#,"), "1.2");
    assert_eq!(f(1234567.0, "#,##0.0"), "1,234,567.0");
    assert_eq!(f(123456789.0, "000-00-0000"), "123-45-6789");
    assert_eq!(f(-5.0, "0;(0)"), "(5)");
    assert_eq!(f(0.0, "0;(0);\"zero\""), "zero");
    assert_eq!(f(1234.5, "#,##0.00 [$EUR]"), "1,234.50 EUR");
    assert_eq!(f(1234.5, "[$€-407]#,##0.00"), "€1,234.50");
    assert_eq!(f(12.0, "[Red]0.0"), "12.0");
    assert_eq!(f(150.0, "[>100]\"big\";\"small\""), "big");
    assert_eq!(f(1.0, "0.0_)"), "1.0 ");
    // Blank `?` places keep the width of the separators they would have had.
    assert_eq!(f(123.0, "?,??????"), "      123");
    assert_eq!(f(1234567.0, "?,?????????"), "    1,234,567");
}

#[test]
fn best_fractions_match_a_search_of_every_denominator() {
    // The search it replaced: every denominator, a strictly better error needed to move on.
    fn by_search(x: f64, max_den: u64) -> (u64, u64) {
        let (mut best_n, mut best_d, mut best_err) = (x.round() as u64, 1u64, (x - x.round()).abs());
        for d in 1..=max_den {
            let n = (x * d as f64).round();
            let err = (x - n / d as f64).abs();
            if err < best_err - 1e-12 {
                (best_n, best_d, best_err) = (n as u64, d, err);
            }
        }
        (best_n, best_d)
    }
    let mut x = 0.0;
    while x < 3.0 {
        for max_den in [1, 9, 16, 99, 999] {
            let (n, d) = number::best_fraction(x, max_den);
            let (sn, sd) = by_search(x, max_den);
            let (got, want) = ((x - n as f64 / d as f64).abs(), (x - sn as f64 / sd as f64).abs());
            assert!(d <= max_den && (got - want).abs() < 1e-12, "{x} ≤{max_den}: {n}/{d} vs {sn}/{sd}");
        }
        x += 0.000_731;
    }
    // Twenty `?`s: no overflow, no endless search.
    assert_eq!(number::best_fraction(0.5, u64::MAX), (1, 2));
    assert_eq!(f(0.3, "# ?/????????????????????").trim(), "3/10");
}

#[test]
fn scientific() {
    assert_eq!(f(12345.0, "0.00E+00"), "1.23E+04");
    assert_eq!(f(0.00012, "0.00E+00"), "1.20E-04");
    assert_eq!(f(12345.0, "##0.0E+0"), "12.3E+3");
    // The E keeps its case; the sign goes with the exponent's digits, after any literal.
    assert_eq!(f(123456.789, "#.#|e-|#"), "1.2|e|5");
    assert_eq!(f(0.0000123456789, "0.0|E+|0"), "1.2|E|-5");
    // A percent sign is shown but does not scale; commas after the exponent vanish.
    assert_eq!(f(123456.789, "#%e-#"), "1%e5");
    assert_eq!(f(123456.789, "#e-#,"), "1e5");
    assert_eq!(f(0.0, "#,###.##E+0"), "0,000.E+0");
    assert_eq!(f(1.2e142, "0.0E+##0"), "1.2E+142");
    assert_eq!(f(1.2e42, "0.0E+??0"), "1.2E+ 42");
    assert_eq!(f(1.2e42, "0.0E+000"), "1.2E+042");
}

#[test]
fn fractions() {
    assert_eq!(f(1.5, "# ?/?"), "1 1/2");
    assert_eq!(f(0.75, "?/?"), "3/4");
    assert_eq!(f(3.1414, "# ??/??"), "3 14/99");
    assert_eq!(f(0.5, "# ?/8"), " 4/8");
    // Literals between the parts; a zero whole part takes its separator with it.
    assert_eq!(f(23.75, "|#\\:#=/=#|"), "|23:3=/=4|");
    assert_eq!(f(23.75, "|#-#-#\\:#/#|"), "|-2-3:3/4|");
    assert_eq!(f(0.75, "|#\\:#=/=?|"), "|3=/=4|");
    assert_eq!(f(0.75, "|?\\:?0=/=#|"), "|   3=/=4|");
    // A zero fraction vanishes, leaving spaces where `?` aligns, unless a `0` shows it.
    assert_eq!(f(1.0, "|#\\:#=/=#|"), "|1|");
    assert_eq!(f(1.0, "|#\\:#=/=?|"), "|1      |");
    assert_eq!(f(1.0, "|#\\:0=/=#|"), "|1:0=/=1|");
    assert_eq!(f(0.0, "|#\\:0=/=?|"), "|0=/=1|");
    // No whole part: an improper fraction; `_x` is a space.
    assert_eq!(f(3.75, "|#_#/#|"), "|15 /4|");
    assert_eq!(f(23.75, "|#\\:? ?0#/000"), "|2:3  03/004");
}

#[test]
fn dates_and_times() {
    let serial = date_to_serial(2024, 3, 1);
    assert_eq!(serial, 45352.0);
    assert_eq!(f(serial, "yyyy-mm-dd"), "2024-03-01");
    assert_eq!(f(serial, "[$-409]mmmm d, yyyy"), "March 1, 2024");
    assert_eq!(f(serial, "dddd"), "Friday");
    // 13:45 is the classic rounding trap: 0.5729166666... must not show 13:44.
    let t = serial + (13.0 * 3600.0 + 45.0 * 60.0) / 86400.0;
    assert_eq!(f(t, "dd/mm/yyyy hh:mm"), "01/03/2024 13:45");
    assert_eq!(f(t, "h:mm AM/PM"), "1:45 PM");
    assert_eq!(f(1.5, "[h]:mm:ss"), "36:00:00");
    assert_eq!(f(0.4791666666, "hh:mm:ss"), "11:30:00");
    assert_eq!(f(60.0, "yyyy-mm-dd"), "1900-02-29");
    assert_eq!(f(0.0, "m/d/yyyy"), "1/0/1900");
    assert_eq!(format_number(0.0, "yyyy-mm-dd", true).unwrap(), "1904-01-01");
    assert_eq!(f(45352.25, "mm:ss.0"), "00:00.0");
    assert!(format_number(-1.0, "yyyy", false).is_err());
}

#[test]
fn text_sections() {
    assert_eq!(format_text("abc", "0;0;0;\"<\"@\">\""), "<abc>");
    assert_eq!(format_text("abc", "0.00"), "abc");
    assert_eq!(format_text("abc", "@"), "abc");
}
