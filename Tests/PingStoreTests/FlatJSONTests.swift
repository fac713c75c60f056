import Testing

@testable import PingStore

/// The line parser every store file is read with: strings decoded exactly, damaged bytes refused.
@Suite("FlatJSON strings")
struct FlatJSONTests {
    static func parse(_ bytes: [UInt8]) throws(FlatJSON.ParseError) -> [String: FlatJSONValue] {
        try FlatJSON.parse(bytes[...])
    }

    @Test("ASCII, multi-byte UTF-8 and escaped strings decode to their text")
    func decodes() throws {
        let line = Array(#"{"a":"plain ascii","b":"Rīga — 東京 🚀","c":"tab\tquote\" slash\/ \u00e9 \ud83d\ude80","d":""}"#.utf8)
        let fields = try Self.parse(line)
        #expect(fields["a"] == .string("plain ascii"))
        #expect(fields["b"] == .string("Rīga — 東京 🚀"))
        #expect(fields["c"] == .string("tab\tquote\" slash/ é 🚀"))
        #expect(fields["d"] == .string(""))
    }

    @Test("bytes that are not UTF-8 are refused, with or without escapes in the string; U+FFFD itself is text")
    func refusesInvalidUTF8() throws {
        for bad: [UInt8] in [[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xC0, 0xAF]] {
            let plain = Array(#"{"a":"x"#.utf8) + bad + Array(#"y"}"#.utf8)
            #expect(throws: FlatJSON.ParseError.self) { try Self.parse(plain) }
            let escaped = Array(#"{"a":"\n"#.utf8) + bad + Array(#""}"#.utf8)
            #expect(throws: FlatJSON.ParseError.self) { try Self.parse(escaped) }
        }
        let replacement = Array(#"{"a":"�"}"#.utf8)
        #expect(try Self.parse(replacement)["a"] == .string("\u{FFFD}"))
    }

    @Test("control characters and unterminated strings are refused")
    func refusesDamage() {
        #expect(throws: FlatJSON.ParseError.self) { try Self.parse(Array("{\"a\":\"x\u{01}\"}".utf8)) }
        #expect(throws: FlatJSON.ParseError.self) { try Self.parse(Array(#"{"a":"unterminated}"#.utf8)) }
        #expect(throws: FlatJSON.ParseError.self) { try Self.parse(Array(#"{"a":"x\"#.utf8)) }
    }
}
