import Dispatch
import Foundation
import Synchronization
import Testing

@testable import CheckCatalog

@Suite("parallelMap")
struct ParallelMapTests {
    @Test("in order: every result is handed over once, in index order, whatever order they finish in")
    func inOrder() {
        for count in [0, 1, 2, 7, 200] {
            var seen: [Int] = []
            parallelMap(count, { index in
                // Early items take longest, so later ones are done first.
                if index < 5 { usleep(UInt32(2_000 * (5 - index))) }
                return [index, index * index]
            }, inOrder: { index, result in
                #expect(result == [index, index * index])
                seen.append(result.removeFirst())
            })
            #expect(seen == Array(0..<count))
        }
    }

    @Test("in order: the consumer takes the first result while the last is still being made")
    func overlaps() {
        guard ProcessInfo.processInfo.activeProcessorCount > 1 else {
            // One core: the items are made and handed over one after another.
            var order: [Int] = []
            parallelMap(3, { $0 }, inOrder: { index, _ in order.append(index) })
            #expect(order == [0, 1, 2])
            return
        }
        let firstConsumed = DispatchSemaphore(value: 0)
        let waitedFor = Mutex(false)
        parallelMap(2, { index in
            // The last item is made only once the first was handed over (or after 10 s).
            if index == 1 { waitedFor.withLock { $0 = firstConsumed.wait(timeout: .now() + 10) == .success } }
            return index
        }, inOrder: { index, _ in
            if index == 0 { firstConsumed.signal() }
        })
        #expect(waitedFor.withLock { $0 }, "the first result was handed over only after the last was made")
    }
}
