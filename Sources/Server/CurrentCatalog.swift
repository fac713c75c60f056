import Synchronization

/// The catalog now serving. A reload builds a complete new `ServingCatalog` and swaps it in
/// one step; the ping path takes the current reference under a lock held for a pointer copy.
final class CurrentCatalog: Sendable {
    private let current: Mutex<ServingCatalog>

    init(_ catalog: ServingCatalog) {
        current = Mutex(catalog)
    }

    var snapshot: ServingCatalog { current.withLock { $0 } }

    func swap(_ catalog: ServingCatalog) {
        current.withLock { $0 = catalog }
    }
}
