import Foundation
import Testing
import PingClient

@Suite("kiothc run's ping URLs")
struct PingTargetTests {
    let rid = UUID(uuidString: "0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c")!

    @Test("from a full ping URL, a UUID, or a ping key and slug")
    func forms() throws {
        let url = try PingTarget(pingURL: "https://hc.example.com/ping/6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01/")
        #expect(url.start(rid: rid).absoluteString == "https://hc.example.com/ping/6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01/start?rid=0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c")
        let uuid = try PingTarget(server: "http://127.0.0.1:8000/", uuid: "6AE2B7A5-39D6-4B1F-9A62-2D8C1B2A6E01")
        #expect(uuid.exitStatus(0, rid: rid).absoluteString == "http://127.0.0.1:8000/ping/6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01/0?rid=0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c")
        let slug = try PingTarget(server: "http://h:1", pingKey: "Key_1", slug: "db-backup")
        #expect(slug.exitStatus(3, rid: rid).absoluteString == "http://h:1/ping/Key_1/db-backup/3?rid=0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c")
        #expect(slug.exitStatus(300, rid: rid).path.hasSuffix("/255"))
    }

    @Test("bad input is refused with a message")
    func badInput() {
        #expect(throws: PingTargetError.self) { try PingTarget(pingURL: "ftp://x/ping/1") }
        #expect(throws: PingTargetError.self) { try PingTarget(pingURL: "not a url") }
        #expect(throws: PingTargetError.self) { try PingTarget(server: "http://h", uuid: "nope") }
        #expect(throws: PingTargetError.self) { try PingTarget(server: "http://h", pingKey: "k", slug: "Db Backup") }
        #expect(throws: PingTargetError.self) { try PingTarget(server: "http://h", pingKey: "a/b", slug: "db") }
    }
}

@Suite("The output tail")
struct OutputTailTests {
    @Test("keeps the last bytes, counts all of them")
    func last() {
        var tail = OutputTail(capacity: 10)
        for chunk in ["hello ", "wonderful ", "world\n"] { tail.append(Array(chunk.utf8)) }
        #expect(tail.text(limit: 10) == "ful world\n")
        #expect(tail.total == 22)
        #expect(tail.text(limit: 4) == "rld\n")
    }

    @Test("never starts with half a character, and stays within the limit with invalid bytes")
    func boundaries() {
        var tail = OutputTail(capacity: 5)
        tail.append(Array("aé€".utf8))  // 1 + 2 + 3 bytes
        #expect(tail.text(limit: 5) == "é€")
        #expect(tail.text(limit: 4) == "€", "the last 4 bytes split é: its half is dropped")
        var binary = OutputTail(capacity: 6)
        binary.append([0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0xFA])
        let text = binary.text(limit: 6)
        #expect(text.utf8.count <= 6)
        #expect(text == "\u{FFFD}\u{FFFD}")
    }

    @Test("large outputs are trimmed without holding them whole")
    func large() {
        var tail = OutputTail(capacity: 100)
        for _ in 0..<10_000 { tail.append(Array(repeating: UInt8(ascii: "x"), count: 100)) }
        #expect(tail.total == 1_000_000)
        #expect(tail.text(limit: 100).utf8.count == 100)
    }
}
