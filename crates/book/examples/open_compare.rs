//! Opening compared with calamine, the two taking turns so that this machine's drift lands on
//! both sides alike (criterion runs one side after the other).
//!
//! ```text
//! cargo run --release -p book --example open_compare [-- ROUNDS]
//! ```
//!
//! Each round opens the book once with workbookd and once with calamine (which side goes first
//! alternates), after one unmeasured warm-up round. Printed per book: the median of each side,
//! the median of the per-round ratios, and their spread.

use std::io::Cursor;
use std::time::{Duration, Instant};

use book::Workbook;

#[path = "../benches/support/mod.rs"]
mod support;

/// The baseline: calamine reading every value and every formula of the file.
fn calamine_read(bytes: &[u8]) -> usize {
    use calamine::{Reader, Xlsx};
    let mut x: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("calamine opens the book");
    let values = x.worksheet_range("Data").expect("values");
    let formulas = x.worksheet_formula("Data").expect("formulas");
    values.cells().count() + formulas.cells().count()
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn compare(name: &str, bytes: &[u8], rounds: usize) {
    let ours = || {
        std::hint::black_box(Workbook::open(bytes.to_vec()).expect("workbookd opens the book"));
    };
    let theirs = || {
        std::hint::black_box(calamine_read(bytes));
    };
    ours();
    theirs();
    let (mut ours_ms, mut theirs_ms, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = time(ours);
            (a, time(theirs))
        } else {
            let b = time(theirs);
            (time(ours), b)
        };
        let (a, b) = (a.as_secs_f64() * 1e3, b.as_secs_f64() * 1e3);
        ours_ms.push(a);
        theirs_ms.push(b);
        ratios.push(a / b);
    }
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(0.0, f64::max);
    println!(
        "{name}: workbookd {:.1} ms, calamine {:.1} ms (medians of {rounds}); ratio median {:.2}x, range {lo:.2}-{hi:.2}x",
        median(ours_ms),
        median(theirs_ms),
        median(ratios),
    );
}

fn main() {
    let rounds = std::env::args().nth(1).and_then(|r| r.parse().ok()).unwrap_or(21);
    let book = support::formulas_book();
    let million = support::million_book();
    compare("formulas book (100k values + 10k formulas)", &book, rounds);
    compare("1M book (1M values)", &million, rounds.div_ceil(3));
}
