import Foundation
import Synchronization
import Testing

@testable import BlockingWork

@Suite("inParts and mapInParts")
struct InPartsTests {
    @Test("mapInParts is map: every element in its place, for no item, one part, and several of uneven size", arguments: [0, 1, 49_999, 50_000, 250_001])
    func mapInPartsIsMap(count: Int) {
        // Strings (each its own storage past 15 bytes): an element must be initialized, once.
        let made = mapInParts(count) { "element number \($0) of the fleet" }
        #expect(made == (0..<count).map { "element number \($0) of the fleet" })
    }

    @Test("inParts covers every index once, in parts handed back in order")
    func inPartsCoversOnce() {
        let seen = Mutex([Int](repeating: 0, count: 300_007))
        let ranges = inParts(300_007) { range in
            seen.withLock { seen in for index in range { seen[index] += 1 } }
            return range
        }
        #expect(seen.withLock { $0 }.allSatisfy { $0 == 1 })
        #expect(ranges.count > 1)
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == 300_007)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
    }
}
