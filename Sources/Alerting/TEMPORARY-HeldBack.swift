// TEMPORARY (lead): replaced by the queue helper's AlertQueue.heldBack/settle on merge. DELETE.
import Foundation

public struct HeldBackAlert: Sendable, Hashable {
    public var alert: Alert
    public var held: Bool
    public init(alert: Alert, held: Bool) {
        self.alert = alert
        self.held = held
    }
}

public enum Settlement: Sendable, Hashable {
    case send
    case withdraw(reason: String)
}

extension AlertQueue {
    public func heldBack() async throws -> [HeldBackAlert] { [] }
    public func settle(_ decisions: [UUID: Settlement], at now: Int64) async throws -> Set<UUID> { [] }
}
