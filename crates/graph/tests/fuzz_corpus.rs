//! The fuzz targets' committed corpora (`fuzz/corpus/`) and crash reproducers
//! (`fuzz/regressions/`) replayed through the same checks the targets run, on every `cargo test`.

use book::fuzz_checks::replay;

#[test]
fn resolver() {
    replay("resolve", graph::fuzz_checks::resolve);
}

#[test]
fn workbook_json_bodies() {
    let mut server = graph::fuzz_checks::Server::new();
    replay("workbook_json", |b| server.workbook_call(b));
}
