import Foundation
import Synchronization

/// Starts `process`, one launch at a time across the whole test run. Foundation's
/// `Process.run()` is not safe to call from several threads at once on Linux: a CI run crashed
/// inside it (a bad pointer in its memcpy) while parallel tests launched servers, CLIs, SMTP
/// servers and PostgreSQL clusters together. The launch alone is serialized; the processes
/// still run side by side.
public func launch(_ process: Process) throws {
    try launching.withLock { _ in try process.run() }
}

private let launching = Mutex(())
