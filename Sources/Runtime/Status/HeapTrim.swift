/// Hands the heap that loading a configuration freed back to the OS: after the first deadline
/// tick at start, after the start's snapshot and after each reload. glibc keeps freed memory
/// for reuse; after a start with 10,000 checks that was 1-1.5 KB per check of resident memory
/// an idle server never needed again (SPEC §9: ≤ 2 KB per idle check).
///
/// Only for a catalog of `threshold` checks or more: `malloc_trim` holds the heap's locks while
/// it walks the heap, which in a process running many small servers (the tests) stalled
/// everything else for seconds (PostgreSQL connects and SMTP timeouts missed their limits),
/// for a few kilobytes back.
enum HeapTrim {
    static let threshold = 10_000

    static func afterLoad(checks: Int) {
        guard checks >= threshold else { return }
        #if os(Linux)
        _ = malloc_trim(0)
        #endif
    }
}

#if os(Linux)
/// glibc's `malloc_trim` (malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func malloc_trim(_ pad: Int) -> Int32
#endif
