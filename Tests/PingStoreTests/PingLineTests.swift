import Foundation
import Monitoring
import Testing

@testable import PingStore

@Suite("JSON lines")
struct PingLineTests {
    @Test("a ping with every field survives encode and decode field by field")
    func roundTripFull() throws {
        let rid = try #require(UUID(uuidString: "6F9619FF-8B86-4011-B42D-00C04FC964FF"))
        let ping = Ping(n: 42, time: 1_732_700_000_123_456, kind: .fail, method: "POST", scheme: "https",
                        remoteAddress: "2001:db8::1", userAgent: "kiothc/1 \"quoted\"",
                        body: "line1\nline2\t\u{1}é😀\\end", bodySize: 31, exitStatus: 3, rid: rid, duration: 90_000_000)
        let line = PingLine.encode(ping)
        #expect(line.last == 0x0A)
        #expect(!line.dropLast().contains(0x0A), "one record is one line")
        let decoded = try PingLine.decode(line.dropLast())
        #expect(decoded.n == 42)
        #expect(decoded.time == 1_732_700_000_123_456)
        #expect(decoded.kind == .fail)
        #expect(decoded.method == "POST")
        #expect(decoded.scheme == "https")
        #expect(decoded.remoteAddress == "2001:db8::1")
        #expect(decoded.userAgent == "kiothc/1 \"quoted\"")
        #expect(decoded.body == "line1\nline2\t\u{1}é😀\\end")
        #expect(decoded.bodySize == 31)
        #expect(decoded.exitStatus == 3)
        #expect(decoded.rid == rid)
        #expect(decoded.duration == 90_000_000)
        #expect(decoded == ping)
    }

    @Test("bodies with every ASCII byte, escapes at the start, the end and in runs read back the same through Foundation's JSON parser")
    func escapingAgainstFoundation() throws {
        let everyASCII = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self)
        let bodies = [
            everyASCII, "\"", "\\", "\u{0}", "\u{7F}", "\"start", "end\n", "a\u{1}b\u{1F}c\u{7F}d", "é😀\té", String(repeating: "0123456789abcdef", count: 64),
            String(repeating: "x\"", count: 300), "",
        ]
        for body in bodies {
            var ping = samplePing(3)
            ping.body = body
            let line = PingLine.encode(ping)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            #expect(object["body"] as? String == body)
            #expect(try PingLine.decode(line.dropLast()).body == body)
            #expect(!line.dropLast().contains(where: { $0 < 0x20 || $0 == 0x7F }), "control bytes are escaped")
        }
        var ping = samplePing(4)
        ping.body = "q\"b\\n\nt\tc\u{1}d\u{7F}"
        let text = String(decoding: PingLine.encode(ping), as: UTF8.self)
        #expect(text.hasSuffix(#","body":"q\"b\\n\nt\tc\u0001d\u007f"}"# + "\n"))
    }

    @Test("absent optional fields are left out of the line and come back nil")
    func roundTripMinimal() throws {
        let ping = samplePing(1)
        let text = String(decoding: PingLine.encode(ping), as: UTF8.self)
        #expect(text == #"{"v":1,"n":1,"time_us":1732700001000000,"kind":"success","method":"GET","scheme":"http","remote_addr":"127.0.0.1","ua":"curl/8.5.0","body_size":0}"# + "\n")
        let decoded = try PingLine.decode(Array(text.utf8).dropLast())
        #expect(decoded == ping)
        #expect(decoded.body == nil && decoded.rid == nil && decoded.exitStatus == nil && decoded.duration == nil)
    }

    @Test("a body that was not UTF-8 is noted by its size alone")
    func bodySizeOnly() throws {
        var ping = samplePing(2)
        ping.bodySize = 512
        let decoded = try PingLine.decode(PingLine.encode(ping).dropLast())
        #expect(decoded.body == nil && decoded.bodySize == 512)
    }

    @Test("escaped input written by other tools decodes, surrogate pairs included")
    func escapes() throws {
        let line = #"{"v":1,"n":1,"time_us":5,"kind":"log","method":"GET","scheme":"http","remote_addr":"","ua":"\u00e9\ud83d\ude00\/","body_size":0}"#
        let decoded = try PingLine.decode(ArraySlice(line.utf8))
        #expect(decoded.userAgent == "é😀/")
    }

    static let badLines: [String] = [
        "",
        "not json",
        #"{"v":1"#,
        #"{"v":2,"n":1,"time_us":5,"kind":"log","method":"GET","scheme":"http","remote_addr":"","ua":"","body_size":0}"#,
        #"{"v":1,"n":1,"time_us":5,"kind":"weird","method":"GET","scheme":"http","remote_addr":"","ua":"","body_size":0}"#,
        #"{"v":1,"n":"1","time_us":5,"kind":"log","method":"GET","scheme":"http","remote_addr":"","ua":"","body_size":0}"#,
        #"{"v":1,"n":1.5,"time_us":5,"kind":"log","method":"GET","scheme":"http","remote_addr":"","ua":"","body_size":0}"#,
        #"{"v":1,"n":1,"time_us":5,"kind":"log","method":"GET","scheme":"http","remote_addr":"","ua":"","body_size":0,"rid":"nope"}"#,
        #"{"v":1,"n":1,"time_us":5,"kind":"log","method":"GET","scheme":"http","remote_addr":"","ua":"\ud800","body_size":0}"#,
        #"{"v":1,"n":1,"time_us":5,"kind":"log","method":"GET","scheme":"http","remote_addr":"","ua":"","body_size":0} x"#,
        #"{"v":1,"n":99999999999999999999,"time_us":5,"kind":"log","method":"GET","scheme":"http","remote_addr":"","ua":"","body_size":0}"#,
        #"{"v":1,"time_us":5,"kind":"log","method":"GET","scheme":"http","remote_addr":"","ua":"","body_size":0}"#,
    ]

    @Test("damaged or foreign lines are rejected, not half-read", arguments: badLines)
    func badLine(_ line: String) {
        #expect(throws: LineError.self) { try PingLine.decode(ArraySlice(line.utf8)) }
    }

    @Test("flips round-trip and reject unknown statuses")
    func flipLine() throws {
        let stored = StoredFlip(n: 3, flip: Flip(time: 77, old: .up, new: .down, reason: .timeout))
        let line = FlipLine.encode(stored)
        #expect(String(decoding: line, as: UTF8.self) == #"{"v":1,"n":3,"time_us":77,"old":"up","new":"down","reason":"timeout"}"# + "\n")
        #expect(try FlipLine.decode(line.dropLast()) == stored)
        let bad = #"{"v":1,"n":3,"time_us":77,"old":"grace","new":"down","reason":"timeout"}"#
        #expect(throws: LineError.self) { try FlipLine.decode(ArraySlice(bad.utf8)) }
    }

    @Test("a marked flip (SPEC §14) writes maintenance and suppressed_by only when set, and reads them back")
    func markedFlipLine() throws {
        let stored = StoredFlip(
            n: 4, flip: Flip(time: 78, old: .up, new: .down, reason: .fail, maintenance: true, suppressedBy: ["ops/db", "a \"quoted\"\\key"]))
        let line = FlipLine.encode(stored)
        #expect(
            String(decoding: line, as: UTF8.self)
                == #"{"v":1,"n":4,"time_us":78,"old":"up","new":"down","reason":"fail","maintenance":true,"suppressed_by":["ops/db","a \"quoted\"\\key"]}"#
                + "\n")
        #expect(try FlipLine.decode(line.dropLast()) == stored)
        let onlyDependencies = StoredFlip(n: 5, flip: Flip(time: 79, old: .down, new: .up, reason: .ping, suppressedBy: ["ops/db"]))
        #expect(!String(decoding: FlipLine.encode(onlyDependencies), as: UTF8.self).contains("maintenance"))
        #expect(try FlipLine.decode(FlipLine.encode(onlyDependencies).dropLast()) == onlyDependencies)
        // Spaces inside the array, an empty array, an explicit false: read as written.
        let spaced = #"{"v":1,"n":6,"time_us":80,"old":"up","new":"down","reason":"timeout","maintenance":false,"suppressed_by":[ "x" , "y" ]}"#
        #expect(try FlipLine.decode(ArraySlice(spaced.utf8)).flip.suppressedBy == ["x", "y"])
        #expect(try FlipLine.decode(ArraySlice(spaced.utf8)).flip.maintenance == false)
        let empty = #"{"v":1,"n":6,"time_us":80,"old":"up","new":"down","reason":"timeout","suppressed_by":[]}"#
        #expect(try FlipLine.decode(ArraySlice(empty.utf8)).flip.suppressedBy == [])
    }

    @Test("a flip line with a bad mark is rejected", arguments: [
        #"{"v":1,"n":3,"time_us":77,"old":"up","new":"down","reason":"timeout","maintenance":"yes"}"#,
        #"{"v":1,"n":3,"time_us":77,"old":"up","new":"down","reason":"timeout","suppressed_by":"ops/db"}"#,
        #"{"v":1,"n":3,"time_us":77,"old":"up","new":"down","reason":"timeout","suppressed_by":[1]}"#,
        #"{"v":1,"n":3,"time_us":77,"old":"up","new":"down","reason":"timeout","suppressed_by":["a",]}"#,
        #"{"v":1,"n":3,"time_us":77,"old":"up","new":"down","reason":"timeout","suppressed_by":["a""b"]}"#,
        #"{"v":1,"n":3,"time_us":77,"old":"up","new":"down","reason":"timeout","suppressed_by":["a"}"#,
        #"{"v":1,"n":3,"time_us":77,"old":"up","new":"down","reason":"timeout","suppressed_by":[["a"]]}"#,
        #"{"v":1,"n":3,"time_us":77,"old":"up","new":"down","reason":"timeout","suppressed_by":["#,
    ])
    func badMarkedFlipLine(_ line: String) {
        #expect(throws: LineError.self) { try FlipLine.decode(ArraySlice(line.utf8)) }
    }

    @Test("the journal parser skips an unterminated tail and malformed lines")
    func journalParse() {
        var bytes: [UInt8] = []
        Journal.append(.pings, checkA, PingLine.encode(samplePing(1)), to: &bytes)
        bytes += Array("garbage line\n".utf8)
        Journal.append(.flips, checkB, FlipLine.encode(StoredFlip(n: 1, flip: Flip(time: 1, old: .new, new: .up, reason: .ping))), to: &bytes)
        bytes += Array("P \(checkA.uuidString.lowercased()) {\"v\":1,".utf8)
        let (entries, skipped) = Journal.parse(bytes)
        #expect(entries.map(\.log) == [.pings, .flips])
        #expect(entries.map(\.check) == [checkA, checkB])
        #expect(skipped == 2)
    }

    @Test("a segment ends where its zero-filled space begins: trailing zeros are no torn line, a torn batch before them is")
    func journalParseZeros() {
        var bytes: [UInt8] = []
        Journal.append(.pings, checkA, PingLine.encode(samplePing(1)), to: &bytes)
        Journal.append(.pings, checkB, PingLine.encode(samplePing(2)), to: &bytes)
        let complete = bytes
        let prepared = complete + [UInt8](repeating: 0, count: 4096)
        let clean = Journal.parse(prepared)
        #expect(clean.entries.map(\.check) == [checkA, checkB])
        #expect(clean.skipped == 0)

        // A batch cut short inside the prepared space: its head reached the disk, its end not.
        var torn = complete
        torn += Array("P \(checkA.uuidString.lowercased()) {\"v\":1,".utf8)
        torn += [UInt8](repeating: 0, count: 4096)
        let cut = Journal.parse(torn)
        #expect(cut.entries.count == 2)
        #expect(cut.skipped == 1)

        // A batch whose first sector never reached the disk but a later one did: never
        // acknowledged (a batch is acknowledged after its sync), so nothing after the zeros counts.
        var hole = complete + [UInt8](repeating: 0, count: 512)
        Journal.append(.pings, checkA, PingLine.encode(samplePing(3)), to: &hole)
        hole += [UInt8](repeating: 0, count: 4096)
        let holed = Journal.parse(hole)
        #expect(holed.entries.count == 2)
        #expect(holed.skipped == 1)
        #expect(Journal.parse([UInt8](repeating: 0, count: 100)).entries.isEmpty)
        #expect(Journal.parse([UInt8](repeating: 0, count: 100)).skipped == 0)
    }
}
