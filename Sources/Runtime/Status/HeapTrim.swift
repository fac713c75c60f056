/// Hands the heap that loading a configuration freed back to the OS: after the first deadline
/// tick at start, and after each reload. glibc keeps freed memory for reuse; after a start with
/// 10,000 checks that was 1-1.5 KB per check of resident memory an idle server never needed
/// again (SPEC §9: ≤ 2 KB per idle check).
enum HeapTrim {
    static func afterLoad() {
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
