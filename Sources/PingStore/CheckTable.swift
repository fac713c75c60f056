import Foundation
import Monitoring
import Synchronization

/// A registry's table of checks by identity, or the entries it is made from until it is first
/// read: a first start writes a million checks' registry and serves them (by their UUIDs in
/// the catalog's order) without waiting for the table, which the snapshot writer then builds.
/// Shared by the copies of a registry; built once, by whichever copy reads it first.
final class CheckTable: Sendable {
    private enum State {
        case built([CheckIdentity: UUID])
        /// Each identity once.
        case entries([(key: CheckIdentity, value: UUID)])
    }

    private let state: Mutex<State>
    /// Whether it has no check, told without building it.
    let isEmpty: Bool

    init(_ table: [CheckIdentity: UUID]) {
        state = Mutex(.built(table))
        isEmpty = table.isEmpty
    }

    /// The table of `entries`, each identity once, built when it is first read.
    init(building entries: [(key: CheckIdentity, value: UUID)]) {
        state = Mutex(.entries(entries))
        isEmpty = entries.isEmpty
    }

    static let empty = CheckTable([:])

    var table: [CheckIdentity: UUID] {
        state.withLock { state in
            switch state {
            case .built(let table):
                return table
            case .entries(let entries):
                var table = [CheckIdentity: UUID](minimumCapacity: entries.count)
                for (identity, uuid) in entries { table[identity] = uuid }
                state = .built(table)
                return table
            }
        }
    }
}
