import Foundation
import Testing

@testable import CheckCatalog

@Suite("Content hash: whether a file's bytes changed")
struct ContentHashTests {
    @Test("equal bytes hash alike, whether in an array or a slice of one")
    func equalBytes() {
        let text = Array("checks:\n  nightly-backup:\n    schedule: '0 3 * * *'\n".utf8)
        #expect(ContentHash.of(text) == ContentHash.of(Array(text)))
        #expect(ContentHash.of(([0] + text + [0])[1...text.count]) == ContentHash.of(text))
    }

    /// Replicas compare config hashes (`kiothc_config_hash`), which are made from these: the
    /// values are fixed, the same on every machine. These were computed by an independent
    /// implementation of the same steps (Python, little-endian words, 128-bit products).
    @Test("its values are fixed: no bytes, exactly one step's 16, and three steps and a tail")
    func fixedValues() {
        #expect(ContentHash.of([UInt8]()) == 0xba3c_0d63_137c_a47f)
        #expect(ContentHash.of(Array("checks:\n  a: {}\n".utf8)) == 0xea3b_7791_f98e_df57)
        #expect(ContentHash.of(Array("checks:\n  nightly-backup:\n    schedule: '0 3 * * *'\n".utf8)) == 0x16bc_e480_614f_9ae0)
    }

    @Test("every one-byte change, at every place of files of 0 to 70 bytes, and every length, hash differently")
    func oneByteChanges() {
        let base = Array((0..<70).map { UInt8(ascii: "a") + UInt8($0 % 26) })
        var seen: Set<UInt64> = []
        for length in 0...70 {
            let bytes = Array(base.prefix(length))
            #expect(seen.insert(ContentHash.of(bytes)).inserted, "length \(length)")
            for place in bytes.indices {
                for replacement: UInt8 in [0, bytes[place] ^ 1, 0xff] {
                    var changed = bytes
                    changed[place] = replacement
                    #expect(ContentHash.of(changed) != ContentHash.of(bytes), "length \(length), byte \(place) -> \(replacement)")
                }
            }
        }
    }

    @Test("trailing zero bytes, or two halves swapped, change the hash")
    func paddingAndOrder() {
        for length in 0...33 {
            let bytes = [UInt8](repeating: 0, count: length)
            #expect(ContentHash.of(bytes) != ContentHash.of(bytes + [0]), "\(length) zeros")
        }
        let first = Array("0123456789abcdef".utf8), second = Array("fedcba9876543210".utf8)
        #expect(ContentHash.of(first + second) != ContentHash.of(second + first))
    }

    @Test("100,000 random 71-byte files: no two hash alike")
    func noCollisions() {
        var generator = SystemRandomNumberGenerator()
        var seen = Set<UInt64>(minimumCapacity: 100_000)
        var collisions = 0
        var bytes = [UInt8](repeating: 0, count: 71)
        for _ in 0..<100_000 {
            for index in bytes.indices { bytes[index] = generator.next() }
            if !seen.insert(ContentHash.of(bytes)).inserted { collisions += 1 }
        }
        #expect(collisions == 0)
    }
}
