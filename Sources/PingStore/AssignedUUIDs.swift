import Foundation
import Monitoring

/// What a store's `assign` gives back: the UUID of every identity it was asked for.
public struct AssignedUUIDs: Sendable {
    private let table: @Sendable () -> [CheckIdentity: UUID]
    /// The identities' UUIDs in the order they were asked for, when the store has them so (a
    /// first start on files: a million, not looked up again); nil otherwise.
    public let inOrder: [UUID]?

    public init(byIdentity: [CheckIdentity: UUID], inOrder: [UUID]? = nil) {
        table = { byIdentity }
        self.inOrder = inOrder
    }

    /// The registry's checks, its table read only when asked for (after a first assignment it
    /// is built then: `inOrder` answers without it).
    public init(registry: Registry, inOrder: [UUID]?) {
        table = { registry.checks }
        self.inOrder = inOrder
    }

    /// By identity, possibly with the registry's other checks beside them.
    public var byIdentity: [CheckIdentity: UUID] { table() }

    public subscript(identity: CheckIdentity) -> UUID? { byIdentity[identity] }
}
