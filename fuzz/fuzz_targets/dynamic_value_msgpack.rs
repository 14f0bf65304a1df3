#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hastack_fuzz::value::msgpack(data));
