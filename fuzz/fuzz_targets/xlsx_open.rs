#![no_main]
// The xlsx opener, and saving what it opened.
libfuzzer_sys::fuzz_target!(|data: &[u8]| book::fuzz_checks::open_and_save(data));
