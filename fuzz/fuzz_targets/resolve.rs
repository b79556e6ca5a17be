#![no_main]
// The URL resolver: any method and path.
libfuzzer_sys::fuzz_target!(|data: &[u8]| graph::fuzz_checks::resolve(data));
