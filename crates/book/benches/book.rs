//! Criterion benchmarks of the document core; the results and the command are in BENCHMARKS.md.
//!
//! `cargo bench -p book --bench book`

mod support;

use std::io::Cursor;

use book::{CellInput, Edit, SetCells, Workbook};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

fn set_value(row: u32, col: u32, v: f64) -> Edit {
    Edit::SetCells(SetCells {
        sheet: "Data".into(),
        row,
        col,
        rows: 1,
        cols: 1,
        inputs: Some(vec![vec![Some(CellInput::Number(v))]]),
        number_formats: None,
    })
}

/// The baseline for opening: calamine reading every value and every formula of the file.
fn calamine_read(bytes: &[u8]) -> usize {
    use calamine::{Reader, Xlsx};
    let mut x: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let values = x.worksheet_range("Data").unwrap();
    let formulas = x.worksheet_formula("Data").unwrap();
    values.cells().count() + formulas.cells().count()
}

fn benches(c: &mut Criterion) {
    let book = support::formulas_book();
    let million = support::million_book();

    let mut g = c.benchmark_group("open");
    g.sample_size(10);
    g.bench_function("book: 100k values + 10k formulas", |b| b.iter(|| Workbook::open(book.clone()).unwrap()));
    g.bench_function("calamine: 100k values + 10k formulas", |b| b.iter(|| calamine_read(&book)));
    g.bench_function("book: 1M values", |b| b.iter(|| Workbook::open(million.clone()).unwrap()));
    g.bench_function("calamine: 1M values", |b| b.iter(|| calamine_read(&million)));
    g.finish();

    let mut g = c.benchmark_group("recalc");
    g.sample_size(10);
    let mut wb = Workbook::open(book.clone()).unwrap();
    g.bench_function("full recalc, 10k formulas", |b| b.iter(|| wb.full_recalc().unwrap()));
    let mut wb = Workbook::open(book.clone()).unwrap();
    wb.recalc().unwrap();
    let mut v = 1.0;
    g.bench_function("1-cell edit + recalc, 10k formulas", |b| {
        b.iter(|| {
            v += 1.0;
            wb.edit(set_value(4, 0, v)).unwrap();
        })
    });
    g.finish();

    // Issue 4's goal: a row inserted at the top of the 10k-formula sheet, every reference
    // shifted and the engine reloaded and recalculated (≤ 50 ms), beside a full recalculation
    // of the same book, its largest part.
    let mut g = c.benchmark_group("structure");
    g.sample_size(10);
    let top_row = Edit::ShiftCells(book::Shift {
        sheet: "Data".into(),
        axis: book::Axis::Rows,
        at: 0,
        count: 1,
        insert: true,
        band: (0, book::address::MAX_COLS - 1),
    });
    g.bench_function("insert a row at the top, 10k formulas", |b| {
        b.iter_batched(
            || {
                let mut wb = Workbook::open(book.clone()).unwrap();
                wb.recalc().unwrap();
                wb
            },
            |mut wb| {
                wb.edit(top_row.clone()).unwrap();
                wb
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("then save, 10k formulas", |b| {
        b.iter_batched(
            || {
                let mut wb = Workbook::open(book.clone()).unwrap();
                wb.edit(top_row.clone()).unwrap();
                wb
            },
            |mut wb| wb.save().unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("save");
    g.sample_size(10);
    // 1,000 cells changed by one edit (one PATCH of a 100×10 range), one recalculation, save.
    g.bench_function("book: 1k cells in one edit, recalc, save", |b| {
        b.iter_batched(
            || Workbook::open(book.clone()).unwrap(),
            |mut wb| {
                let inputs = (0..100u32)
                    .map(|r| (0..10u32).map(|c| Some(CellInput::Number(f64::from(r * 10 + c)))).collect())
                    .collect();
                wb.edit(Edit::SetCells(SetCells {
                    sheet: "Data".into(),
                    row: 20,
                    col: 0,
                    rows: 100,
                    cols: 10,
                    inputs: Some(inputs),
                    number_formats: None,
                }))
                .unwrap();
                wb.save().unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    // The save alone, after 1,000 single-cell edits made (and recalculated) beforehand.
    g.bench_function("book: save after 1k single-cell edits", |b| {
        b.iter_batched(
            || {
                let mut wb = Workbook::open(book.clone()).unwrap();
                for i in 0..1_000u32 {
                    wb.edit(set_value(i * 7 % support::ROWS, i % 10, f64::from(i))).unwrap();
                }
                wb
            },
            |mut wb| wb.save().unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("rust_xlsxwriter: write the same book fresh", |b| b.iter(support::formulas_book));
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
