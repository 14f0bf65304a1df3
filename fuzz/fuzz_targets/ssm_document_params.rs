#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hastack_fuzz::ssm_document::run(data));
