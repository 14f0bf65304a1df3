//! The fuzz targets' logic: each `fuzz_targets/<name>.rs` calls one `run` here, so a crashing
//! input replays through exactly this code (`scripts/fuzz.sh` replays `regressions/`).
//!
//! Every target drives public entry points of `tfplugin` and `hastack-local` the way their
//! servers do, and checks what must hold whatever the input: no panic, and the round trips
//! a server relies on (a value it decoded encodes again and decodes to itself). Errors are fine.
//!
//! `HASTACK_FUZZ_VERBOSE=1` prints what each input did (useful when writing seeds).
#![forbid(unsafe_code)]

pub mod emulator;
pub mod sigv4;
pub mod ssm_document;
pub mod value;

/// Whether to print what each input did (`HASTACK_FUZZ_VERBOSE` set).
pub fn verbose() -> bool {
    static V: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *V.get_or_init(|| std::env::var_os("HASTACK_FUZZ_VERBOSE").is_some())
}

/// Print `what` when verbose.
pub fn note(what: impl FnOnce() -> String) {
    if verbose() {
        eprintln!("{}", what());
    }
}

/// A deterministic pick among `n` choices from arbitrary bytes (an unknown name still reaches
/// some entry, so a mutated name keeps exercising handlers).
pub fn pick(bytes: &[u8], n: usize) -> usize {
    let h = bytes.iter().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(*b))
    });
    h % n.max(1)
}
