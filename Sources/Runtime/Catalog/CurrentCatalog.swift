import Synchronization

/// The catalog now serving. A reload builds a complete new `ServingCatalog` and swaps it in
/// one step; the ping path takes the current reference under a lock held for a pointer copy.
public final class CurrentCatalog: Sendable {
    private let current: Mutex<ServingCatalog>

    public init(_ catalog: ServingCatalog) {
        current = Mutex(catalog)
    }

    public var snapshot: ServingCatalog { current.withLock { $0 } }

    public func swap(_ catalog: ServingCatalog) {
        current.withLock { $0 = catalog }
    }
}
