#![no_main]
// The number-format renderer: a number and a format code.
libfuzzer_sys::fuzz_target!(|data: &[u8]| book::fuzz_checks::number_format(data));
