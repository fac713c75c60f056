import Foundation
import Testing

@testable import Monitoring

@Suite("UUID text: canonical form without sprintf/sscanf")
struct UUIDTextTests {
    @Test("written as Foundation writes it, lower-cased, for 10,000 random UUIDs and the extremes")
    func writesLikeFoundation() {
        var samples = (0..<10_000).map { _ in UUID() }
        samples.append(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        samples.append(UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        for uuid in samples {
            #expect(uuid.lowercasedText == uuid.uuidString.lowercased())
            #expect(UUID(canonicalText: uuid.lowercasedText) == uuid)
            var bytes = Array("x".utf8)
            uuid.appendLowercased(to: &bytes)
            #expect(bytes == Array(("x" + uuid.uuidString.lowercased()).utf8))
        }
    }

    @Test("reads exactly what Foundation reads, among canonical lower-case forms")
    func readsLikeFoundation() {
        let text = "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e0001"
        #expect(UUID(canonicalText: text) == UUID(uuidString: text))
        #expect(UUID(canonicalText: "00000000-0000-0000-0000-000000000000") == UUID(uuidString: "00000000-0000-0000-0000-000000000000"))
        #expect(UUID(canonicalText: "ffffffff-ffff-ffff-ffff-ffffffffffff") == UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"))
    }

    @Test(
        "anything but the canonical lower-case form is no UUID",
        arguments: [
            "",
            "5D1F6E7A-0B0E-4A5E-9A21-3F2C4C8E0001",  // upper case: Django's converter does not match
            "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e000",  // 35 characters
            "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e00011",  // 37
            "5d1f6e7a0b0e-4a5e-9a21-3f2c4c8e00011",  // hyphen missing, length kept
            "5d1f6e7a-0b0e-4a5e-9a213-f2c4c8e0001",  // hyphen moved
            "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e000g",  // not hex
            "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e00/1",
            "{d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e0001",
            "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e00é",  // 36 UTF-8 bytes with a two-byte character
            "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e00\u{0}1",
            "------------------------------------",
        ])
    func rejects(_ text: String) {
        #expect(UUID(canonicalText: text) == nil)
    }
}
