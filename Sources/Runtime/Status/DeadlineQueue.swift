import Foundation
import HeapModule
import Synchronization

/// Every check's next down deadline in a priority queue (SPEC §6: down detection is driven by
/// each check's own deadline, not by scanning all checks).
///
/// A ping only marks its check `touched` (a set insert under a short lock: the hot path stays
/// lean); the scheduler recomputes touched checks' deadlines on its next tick. A changed
/// deadline is pushed anew and the old heap entry is left behind (lazy deletion): `current` says
/// which entry is live. The heap is rebuilt when stale entries outnumber live ones, so memory
/// stays O(checks) and every change O(log n).
final class DeadlineQueue: Sendable {
    struct Item: Comparable {
        let deadline: Int64
        let uuid: UUID
        static func < (a: Item, b: Item) -> Bool { a.deadline < b.deadline }
    }

    private struct State {
        var heap = Heap<Item>()
        var current: [UUID: Int64] = [:]
        var touched: Set<UUID> = []
    }

    private let state = Mutex(State())

    /// Marks a check whose deadline may have changed; true when it is the first since the last
    /// `takeTouched` (the caller then wakes the scheduler once).
    @discardableResult
    func touch(_ uuid: UUID) -> Bool {
        state.withLock { state in
            let wasEmpty = state.touched.isEmpty
            state.touched.insert(uuid)
            return wasEmpty
        }
    }

    @discardableResult
    func touch<S: Sequence>(all uuids: S) -> Bool where S.Element == UUID {
        state.withLock { state in
            let wasEmpty = state.touched.isEmpty
            state.touched.formUnion(uuids)
            return wasEmpty
        }
    }

    func takeTouched() -> Set<UUID> {
        state.withLock { state in
            defer { state.touched = [] }
            return state.touched
        }
    }

    /// Sets (or clears, with nil) a check's deadline.
    func set(_ deadlines: [(UUID, Int64?)]) {
        state.withLock { state in
            for (uuid, deadline) in deadlines {
                if state.current[uuid] == deadline { continue }
                state.current[uuid] = deadline
                if let deadline { state.heap.insert(Item(deadline: deadline, uuid: uuid)) }
            }
            if state.heap.count > 2 * state.current.count + 1_024 {
                state.heap = Heap(state.current.map { Item(deadline: $0.value, uuid: $0.key) })
            }
        }
    }

    func set(_ uuid: UUID, deadline: Int64?) { set([(uuid, deadline)]) }

    /// Removes and returns the checks whose deadline is at or before `now`, earliest first.
    func popDue(at now: Int64) -> [(uuid: UUID, deadline: Int64)] {
        state.withLock { state in
            var due: [(uuid: UUID, deadline: Int64)] = []
            while let top = state.heap.min, top.deadline <= now {
                state.heap.removeMin()
                guard state.current[top.uuid] == top.deadline else { continue }  // stale
                state.current[top.uuid] = nil
                due.append((top.uuid, top.deadline))
            }
            return due
        }
    }

    /// The earliest live deadline.
    var nextDeadline: Int64? {
        state.withLock { state in
            while let top = state.heap.min {
                if state.current[top.uuid] == top.deadline { return top.deadline }
                state.heap.removeMin()
            }
            return nil
        }
    }

    func deadline(of uuid: UUID) -> Int64? { state.withLock { $0.current[uuid] } }

    /// Live deadlines and heap entries (live + stale), for tests.
    var counts: (live: Int, heap: Int) { state.withLock { ($0.current.count, $0.heap.count) } }
}
