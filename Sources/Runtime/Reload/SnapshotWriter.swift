import CheckCatalog
import Foundation
import Logging
import Monitoring
import PingStore
import Synchronization

/// Writes `catalog.json` after a start has swapped its catalog in, so the server answers pings
/// while it is written: for a million checks, building and writing the snapshot was a quarter
/// of the start (6 s of 25). Each write waits for the one before it, a reload's inline write
/// waits for them all, and the store is closed only after the last (`finished`), so a stop
/// never leaves a snapshot older than what was applied. A crash meanwhile leaves the previous
/// file whole (it is replaced by a rename): the next start then compares against it.
final class SnapshotWriter: Sendable {
    private let pending = Mutex<Task<Void, Never>?>(nil)

    /// `uuids` and `source` are made here, off the start's path.
    func write(
        _ catalog: Catalog, uuids: @escaping @Sendable () -> [CheckIdentity: UUID], source: @escaping @Sendable () -> AppliedCatalog.Source?,
        at time: Int64, to store: any CheckStore, logger: Logger
    ) {
        enqueue(failure: "cannot write the snapshot of the applied catalog; the next plan cannot see renames", logger: logger) {
            try await store.saveSnapshot(of: catalog, uuids: uuids(), source: source(), at: time)
            // A fleet's snapshot leaves freed heap a settled server does not need again.
            HeapTrim.afterLoad(checks: catalog.checks.count)
        }
    }

    /// Runs `save` once every save asked for before it is done; logs `failure` and the error
    /// if it throws.
    func enqueue(failure: String, logger: Logger, _ save: @escaping @Sendable () async throws -> Void) {
        pending.withLock { pending in
            let before = pending
            pending = Task.detached(priority: .utility) {
                await before?.value
                do {
                    try await save()
                } catch {
                    logger.error("\(failure): \(error)")
                }
            }
        }
    }

    /// Returns once every write asked for so far is done.
    func finished() async {
        await pending.withLock { $0 }?.value
    }
}
