import Foundation
import Synchronization

/// Starts `process`, one launch at a time across the whole test run. Foundation's
/// `Process.run()` is not safe to call from several threads at once on Linux: a CI run crashed
/// inside it (a bad pointer in its memcpy) while parallel tests launched servers, CLIs, SMTP
/// servers and PostgreSQL clusters together. The launch alone is serialized; the processes
/// still run side by side.
///
/// It also over-reads (swift-corelibs-foundation PR #5472): to find the highest open descriptor
/// it copies all 256 bytes of each `/proc/self/fd` entry's name out of glibc's 32 KB `readdir`
/// buffer; once some 1,350 descriptors are open the last entries sit at that buffer's end, and
/// when the next page is unmapped the copy crashes the test run (reproduced outside the tests:
/// 3,000 open descriptors, 400 launches, one run in six crashed). Tests keep the number of files
/// they hold open well below that (a fleet test pings a few hundred checks, not thousands).
public func launch(_ process: Process) throws {
    try launching.withLock { _ in try process.run() }
}

private let launching = Mutex(())
