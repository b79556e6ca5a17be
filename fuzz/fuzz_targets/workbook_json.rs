#![no_main]
// JSON bodies of workbook calls, through the whole server in-process.
use std::cell::RefCell;

thread_local! {
    static SERVER: RefCell<graph::fuzz_checks::Server> = RefCell::new(graph::fuzz_checks::Server::new());
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| SERVER.with(|s| s.borrow_mut().workbook_call(data)));
