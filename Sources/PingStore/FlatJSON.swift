/// A value of a flat JSON object, as the store's lines hold them.
enum FlatJSONValue: Equatable {
    case string(String)
    case integer(Int64)
    case null
    case bool(Bool)
    /// An array of strings (a flip's `suppressed_by`).
    case strings([String])
    /// An object of strings (a check's settings in `catalog.json`); only where the caller
    /// allows it (`parse(_:allowingStringObjects:)`).
    case stringObject([String: String])
}

/// Strict parser for one line holding a flat JSON object (string, integer, null and boolean
/// values, and arrays of strings; no other nesting): all the store writes. Anything else is an error, so a damaged line is
/// noticed rather than half-read.
struct FlatJSON {
    struct ParseError: Error, Equatable {
        let offset: Int
        let reason: String
    }

    static func parse(_ line: ArraySlice<UInt8>) throws(ParseError) -> [String: FlatJSONValue] {
        var parser = FlatJSON(bytes: line, keeping: nil)
        return try parser.object()
    }

    /// Only the named fields; the others are checked for syntax but not decoded (the startup
    /// scan skips bodies this way).
    static func parse(_ line: ArraySlice<UInt8>, keeping names: Set<String>) throws(ParseError) -> [String: FlatJSONValue] {
        var parser = FlatJSON(bytes: line, keeping: names)
        return try parser.object()
    }

    /// As `parse(_:)`, and values may also be objects of strings (one level deep).
    static func parse(_ line: ArraySlice<UInt8>, allowingStringObjects: Bool) throws(ParseError) -> [String: FlatJSONValue] {
        var parser = FlatJSON(bytes: line, keeping: nil, stringObjects: allowingStringObjects)
        return try parser.object()
    }

    private let bytes: ArraySlice<UInt8>
    private var index: Int
    private let keeping: Set<String>?
    private let stringObjects: Bool

    private init(bytes: ArraySlice<UInt8>, keeping: Set<String>?, stringObjects: Bool = false) {
        self.bytes = bytes
        self.index = bytes.startIndex
        self.keeping = keeping
        self.stringObjects = stringObjects
    }

    private mutating func skipString() throws(ParseError) {
        try expect(UInt8(ascii: "\""))
        while let byte = peek() {
            index += 1
            if byte == UInt8(ascii: "\"") { return }
            if byte == UInt8(ascii: "\\") {
                guard peek() != nil else { break }
                index += 1
            } else if byte < 0x20 {
                throw fail("control character in string")
            }
        }
        throw fail("unterminated string")
    }

    private mutating func object() throws(ParseError) -> [String: FlatJSONValue] {
        skipSpace()
        try expect(UInt8(ascii: "{"))
        var fields: [String: FlatJSONValue] = [:]
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipSpace()
                let name = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                if let keeping, !keeping.contains(name) {
                    if peek() == UInt8(ascii: "\"") { try skipString() } else { _ = try value() }
                } else {
                    fields[name] = try value()
                }
                skipSpace()
                guard let next = peek() else { throw fail("unterminated object") }
                index += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw fail("expected ',' or '}'") }
            }
        }
        skipSpace()
        guard index == bytes.endIndex else { throw fail("text after the object") }
        return fields
    }

    private mutating func value() throws(ParseError) -> FlatJSONValue {
        guard let byte = peek() else { throw fail("missing value") }
        switch byte {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .integer(try integer())
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "["): return .strings(try strings())
        case UInt8(ascii: "{") where stringObjects: return .stringObject(try stringObject())
        default: throw fail("unsupported value")
        }
    }

    private mutating func strings() throws(ParseError) -> [String] {
        try expect(UInt8(ascii: "["))
        var values: [String] = []
        skipSpace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return values
        }
        while true {
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string in the array") }
            values.append(try string())
            skipSpace()
            guard let next = peek() else { throw fail("unterminated array") }
            index += 1
            if next == UInt8(ascii: "]") { return values }
            guard next == UInt8(ascii: ",") else { throw fail("expected ',' or ']'") }
        }
    }

    private mutating func stringObject() throws(ParseError) -> [String: String] {
        try expect(UInt8(ascii: "{"))
        var fields: [String: String] = [:]
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return fields
        }
        while true {
            skipSpace()
            let name = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string value in the object") }
            fields[name] = try string()
            skipSpace()
            guard let next = peek() else { throw fail("unterminated object") }
            index += 1
            if next == UInt8(ascii: "}") { return fields }
            guard next == UInt8(ascii: ",") else { throw fail("expected ',' or '}'") }
        }
    }

    private mutating func integer() throws(ParseError) -> Int64 {
        var negative = false
        if peek() == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var value: Int64 = 0
        var digits = 0
        while let byte = peek(), byte >= 0x30, byte <= 0x39 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - 0x30))
            guard !overflow1, !overflow2 else { throw fail("integer out of range") }
            value = sum
            digits += 1
            index += 1
        }
        guard digits > 0 else { throw fail("expected digits") }
        if let byte = peek(), byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            throw fail("expected an integer")
        }
        return negative ? -value : value
    }

    private mutating func string() throws(ParseError) -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        // Fast path: no escapes, decode the run directly; ASCII (most text here: keys, UUIDs,
        // slugs) needs no validation.
        var ascii = true
        while let byte = peek(), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 0x20 else { throw fail("control character in string") }
            ascii = ascii && byte < 0x80
            index += 1
        }
        guard let stop = peek() else { throw fail("unterminated string") }
        if stop == UInt8(ascii: "\""), ascii {
            let text = bytes[start..<index].withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
            index += 1
            return text
        }
        var decoded = Array(bytes[start..<index])
        if stop == UInt8(ascii: "\"") {
            index += 1
            return try utf8(decoded)
        }
        while true {
            guard let byte = peek() else { throw fail("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try utf8(decoded)
            case UInt8(ascii: "\\"):
                guard let escaped = peek() else { throw fail("unterminated escape") }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escaped)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard peek() == UInt8(ascii: "\\") else { throw fail("lone surrogate") }
                        index += 1
                        guard peek() == UInt8(ascii: "u") else { throw fail("lone surrogate") }
                        index += 1
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    decoded.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw fail("invalid escape")
                }
            default:
                guard byte >= 0x20 else { throw fail("control character in string") }
                decoded.append(byte)
            }
        }
    }

    private mutating func hex4() throws(ParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw fail("short \\u escape") }
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private func utf8(_ bytes: [UInt8]) throws(ParseError) -> String {
        // (Validated by decoding: replacement characters mean the bytes were not UTF-8.
        // `String(validating:as:)` went through generic metadata lookups on every call.)
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.count == bytes.count, text.utf8.elementsEqual(bytes) else { throw fail("invalid UTF-8") }
        return text
    }

    private mutating func literal(_ word: StaticString) throws(ParseError) {
        let expected = word.withUTF8Buffer { Array($0) }
        guard bytes.endIndex - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else {
            throw fail("invalid literal")
        }
        index += expected.count
    }

    private mutating func expect(_ byte: UInt8) throws(ParseError) {
        guard peek() == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    private func peek() -> UInt8? {
        index < bytes.endIndex ? bytes[index] : nil
    }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A { index += 1 }
    }

    private func fail(_ reason: String) -> ParseError {
        ParseError(offset: index - bytes.startIndex, reason: reason)
    }
}
