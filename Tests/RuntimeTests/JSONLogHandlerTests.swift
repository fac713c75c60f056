import Foundation
import Logging
import Synchronization
import Testing

@testable import Runtime

@Suite("JSON log lines (serve --log-format json)")
struct JSONLogHandlerTests {
    /// A logger whose lines land in `lines`, at a fixed time.
    final class Captured: Sendable {
        let lines = Mutex<[String]>([])

        func logger(label: String = "kiothc", time: Int64 = 1_700_000_000_000_001) -> Logger {
            Logger(label: label) { label in
                var handler = JSONLogHandler(label: label, metadataProvider: nil, clock: { time }) { line in self.lines.withLock { $0.append(line) } }
                handler.logLevel = .trace
                return handler
            }
        }

        /// Each line parsed with JSONSerialization; fails the test for a line that is not one
        /// JSON object ending in a line feed.
        func objects() throws -> [[String: Any]] {
            try lines.withLock { $0 }.map { line in
                #expect(line.hasSuffix("\n") && line.dropLast().firstIndex(of: "\n") == nil, "one line per entry: \(line)")
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
                return try #require(object as? [String: Any], "not an object: \(line)")
            }
        }
    }

    @Test("the fixed keys and each metadata key as its own string-valued key")
    func keys() throws {
        let captured = Captured()
        captured.logger().notice("check went down", metadata: ["check": "ops/backup", "check.uuid": "0b0e4a5e-0000-4000-8000-000000000001", "lines": "3"])
        let line = try #require(captured.lines.withLock { $0.first })
        #expect(
            line
                == #"{"ts":"2023-11-14T22:13:20.000001Z","level":"notice","msg":"check went down","label":"kiothc","source":"RuntimeTests","check":"ops/backup","check.uuid":"0b0e4a5e-0000-4000-8000-000000000001","lines":"3"}"#
                + "\n")
        let object = try #require(try captured.objects().first)
        #expect(object["check.uuid"] as? String == "0b0e4a5e-0000-4000-8000-000000000001")
        #expect(object["lines"] as? String == "3", "values are strings, as in the text form")
    }

    @Test(
        "a message and metadata with quotes, backslashes, newlines, control characters and non-ASCII round-trip",
        arguments: [
            "he said \"stop\" \\ then left",
            "line one\nline two\r\n\ttabbed",
            "bell \u{07} nul \u{00} escape \u{1B}[31m del \u{7F}",
            "Zürich 東京 🚀 \u{2028} \u{2029} é",
            "{\"not\": \"nested\"}",
            "",
        ])
    func roundTrip(_ text: String) throws {
        let captured = Captured()
        captured.logger(label: "kiothc \"odd\" label").error("\(text)", metadata: ["file": "\(text)", (text.isEmpty ? "empty" : text): "key"])
        let object = try #require(try captured.objects().first)
        #expect(object["msg"] as? String == text)
        #expect(object["file"] as? String == text)
        #expect(object["label"] as? String == "kiothc \"odd\" label")
        #expect(object[text.isEmpty ? "empty" : text] as? String == "key")
        // No raw control character reaches the line: a shipper splitting on newlines sees one entry.
        let line = try #require(captured.lines.withLock { $0.first })
        #expect(!line.dropLast().unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test("every level is named as the text form names it")
    func levels() throws {
        let captured = Captured()
        let logger = captured.logger()
        for level in Logger.Level.allCases { logger.log(level: level, "x") }
        #expect(try captured.objects().map { $0["level"] as? String } == ["trace", "debug", "info", "notice", "warning", "error", "critical"])
    }

    @Test("nested metadata: a dictionary is flattened to dotted keys, an array is an array of strings")
    func nested() throws {
        let captured = Captured()
        captured.logger().info(
            "nested",
            metadata: ["alert": ["id": "42", "channel": ["name": "ops-slack"]], "tags": ["prod", .stringConvertible(7)]])
        let object = try #require(try captured.objects().first)
        #expect(object["alert.id"] as? String == "42")
        #expect(object["alert.channel.name"] as? String == "ops-slack")
        #expect(object["tags"] as? [String] == ["prod", "7"])
        #expect(object["alert"] == nil)
    }

    @Test("a metadata key named like a fixed key cannot overwrite it")
    func collisions() throws {
        let captured = Captured()
        captured.logger().warning("the message", metadata: ["msg": "spoofed", "level": "critical", "ts": "yesterday"])
        let object = try #require(try captured.objects().first)
        #expect(object["msg"] as? String == "the message")
        #expect(object["level"] as? String == "warning")
        #expect(object["ts"] as? String == "2023-11-14T22:13:20.000001Z")
        #expect(object["metadata.msg"] as? String == "spoofed")
        #expect(object["metadata.level"] as? String == "critical")
    }

    @Test("the logger's own metadata and a logged error are keys too")
    func handlerMetadataAndError() throws {
        struct Refused: Error, CustomStringConvertible { var description: String { "refused \"x\"" } }
        let captured = Captured()
        var logger = captured.logger()
        logger[metadataKey: "instance"] = "a"
        logger.error("failed", metadata: ["instance": "b", "check": "c"])
        logger.error("with error", error: Refused())
        let objects = try captured.objects()
        #expect(objects[0]["instance"] as? String == "b", "the entry's own value wins")
        #expect(objects[0]["check"] as? String == "c")
        #expect(objects[1]["instance"] as? String == "a")
        #expect(objects[1]["error.message"] as? String == "refused \"x\"")
    }

    @Test("the clock's time is written with microseconds, in UTC")
    func timestamp() throws {
        let captured = Captured()
        captured.logger(time: 0).info("epoch")
        #expect(try captured.objects().first?["ts"] as? String == "1970-01-01T00:00:00.000000Z")
        let now = JSONLogHandler.now()
        #expect(abs(now - Int64(Date().timeIntervalSince1970 * 1_000_000)) < 5_000_000)
    }
}
