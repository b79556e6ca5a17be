#![no_main]
// A1 and R1C1 addresses and formulas.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        book::fuzz_checks::addresses(text);
    }
});
