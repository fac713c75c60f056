import Foundation
import Monitoring

/// What a store's `assign` gives back: the UUID of every identity it was asked for.
public struct AssignedUUIDs: Sendable {
    /// By identity, possibly with the registry's other checks beside them.
    public let byIdentity: [CheckIdentity: UUID]
    /// The identities' UUIDs in the order they were asked for, when the store has them so (a
    /// first start on files: a million, not looked up again); nil otherwise.
    public let inOrder: [UUID]?

    public init(byIdentity: [CheckIdentity: UUID], inOrder: [UUID]? = nil) {
        self.byIdentity = byIdentity
        self.inOrder = inOrder
    }

    public subscript(identity: CheckIdentity) -> UUID? { byIdentity[identity] }
}
