//! The process's allocator: mimalloc, for Rust's allocations and, through its `override`
//! feature, for SQLite's (C's `malloc`) too. See `server/Cargo.toml` for why.

/// Declared here, in the library, so the binary, the benchmarks and the tests all run on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A multi-threaded runtime, with the allocator configured before it starts its threads.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    configure();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Has mimalloc hand freed pages back to the operating system at once. mimalloc 3 keeps them
/// for a second first, and at 100,000 meters the fleet benchmark's peak then rose from 181 MB
/// to 215 MB, over the platform's 200 MB budget, for a few percent of throughput (README,
/// Performance).
///
/// Called by `runtime`, before any other thread starts: mimalloc's options are plain words
/// that its allocating threads read without synchronisation.
fn configure() {
    // SAFETY: `mi_option_set` stores a value in mimalloc's option table; `runtime` calls it
    // before its threads exist, so nothing reads the word while it is written.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
}

/// `mi_option_purge_delay`: the 16th entry of `mi_option_e` in mimalloc 3's `mimalloc.h`.
/// libmimalloc-sys names the options of mimalloc 2 only, where this slot had another name.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_set_is_the_purge_delay() {
        // mimalloc 3 delays purging by 1,000 ms unless told otherwise; no other option of its
        // table starts at that value, so this is the slot `configure` means.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads one word of the option table; nothing in this test process sets it.
            assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, 1000);
        }
    }
}
