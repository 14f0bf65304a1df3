#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hastack_fuzz::emulator::json11(data));
