import Foundation
import Testing

@testable import PingStore

@Suite("JSONLineWriter")
struct JSONLineWriterTests {
    @Test("objects written one after another into one buffer read back as written, in that buffer's own storage")
    func continuesABuffer() throws {
        let uuids = (0..<3).map { _ in UUID() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4096)
        let storage = bytes.withUnsafeBufferPointer { $0.baseAddress }
        for (index, uuid) in uuids.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: "\n")) }
            var object = JSONLineWriter(continuing: consume bytes)
            object.field("key", "job \"\(index)\"\n")
            object.field("uuid", uuid)
            bytes = object.object()
        }
        // (Moved in and out: the storage reserved first holds every object, none was copied.)
        #expect(bytes.withUnsafeBufferPointer { $0.baseAddress } == storage)
        let lines = bytes.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == uuids.count)
        for (index, line) in lines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: String])
            #expect(object == ["key": "job \"\(index)\"\n", "uuid": uuids[index].uuidString.lowercased()])
        }
    }
}
