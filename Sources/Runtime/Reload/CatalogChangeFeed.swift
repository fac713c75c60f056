import Foundation
import Synchronization

/// A successful load as the services that keep per-check state see it (the deadline
/// scheduler, alerting): what changed and the catalog now serving.
struct CatalogUpdate: Sendable {
    let change: CatalogChange
    let serving: ServingCatalog
}

/// Delivers every successful reload to its subscribers, in order. Subscribe before the
/// service group runs; a subscriber that falls behind gets every update, none is dropped.
final class CatalogChangeFeed: Sendable {
    private let subscribers = Mutex<[AsyncStream<CatalogUpdate>.Continuation]>([])

    init() {}

    func subscribe() -> AsyncStream<CatalogUpdate> {
        let (stream, continuation) = AsyncStream<CatalogUpdate>.makeStream()
        subscribers.withLock { $0.append(continuation) }
        return stream
    }

    func publish(_ update: CatalogUpdate) {
        let current = subscribers.withLock { $0 }
        for subscriber in current { subscriber.yield(update) }
    }

    func finish() {
        let current = subscribers.withLock { subscribers in
            defer { subscribers = [] }
            return subscribers
        }
        for subscriber in current { subscriber.finish() }
    }
}
