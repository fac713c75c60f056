import Foundation
import Testing

@testable import Monitoring

@Suite("UUID index: check UUIDs to positions, without hashing them with SipHash")
struct UUIDIndexTests {
    /// UUIDs as config pins them: differing in a few bits, in either half.
    static let structured: [UUID] = {
        var uuids = [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))]
        for value in 1...2_000 {
            let byte = UInt8(value & 0xff), next = UInt8(value >> 8)
            uuids.append(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, next, byte)))
            uuids.append(UUID(uuid: (next, byte, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
            uuids.append(UUID(uuid: (0, 0, 0, 0, 0, 0, next, byte, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)))
        }
        uuids.append(UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        return uuids
    }()

    @Test("finds what a Dictionary finds: 100,000 random UUIDs and 6,002 structured ones, from an empty table and a sized one")
    func agreesWithDictionary() {
        let uuids = (0..<100_000).map { _ in UUID() } + Self.structured
        #expect(Set(uuids).count == uuids.count)
        for minimumCapacity in [0, uuids.count] {
            var index = UUIDIndex(minimumCapacity: minimumCapacity)
            var dictionary: [UUID: Int] = [:]
            for (position, uuid) in uuids.enumerated() {
                #expect(index.insert(uuid, at: position) == nil)
                dictionary[uuid] = position
            }
            #expect(index.count == uuids.count)
            #expect(uuids.allSatisfy { index.position(of: $0) == dictionary[$0] })
            #expect(index.position(of: uuids[0]) == 0)
            let absent = (0..<10_000).map { _ in UUID() }
            #expect(absent.allSatisfy { index.position(of: $0) == nil })
        }
    }

    @Test("a UUID inserted again keeps its first position, and is counted once")
    func repeatKeepsFirst() {
        var index = UUIDIndex()
        let uuid = UUID()
        #expect(index.insert(uuid, at: 7) == nil)
        #expect(index.insert(uuid, at: 9) == 7)
        #expect(index.position(of: uuid) == 7)
        #expect(index.count == 1)
        for (position, other) in Self.structured.enumerated() { index.insert(other, at: 100 + position) }
        #expect(index.insert(Self.structured[0], at: 1) == 100)
        #expect(index.count == 1 + Self.structured.count)
    }

    @Test("an empty table finds nothing, the all-zero UUID included")
    func emptyFindsNothing() {
        let index = UUIDIndex(minimumCapacity: 10)
        #expect(index.position(of: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))) == nil)
        #expect(index.position(of: UUID()) == nil)
        #expect(index.count == 0)
    }
}
