//! The fuzz targets' committed corpora (`fuzz/corpus/`) and crash reproducers
//! (`fuzz/regressions/`) replayed through the same checks the targets run, on every `cargo test`.

use book::fuzz_checks::replay;

#[test]
fn addresses() {
    replay("addresses", |b| {
        if let Ok(text) = std::str::from_utf8(b) {
            book::fuzz_checks::addresses(text);
        }
    });
}

#[test]
fn number_formats() {
    replay("number_format", book::fuzz_checks::number_format);
}

#[test]
fn xlsx_files() {
    replay("xlsx_open", book::fuzz_checks::open_and_save);
}
