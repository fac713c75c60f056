import Foundation
import Monitoring

extension StoreReader {
    /// `registry.json`, as `Registry.load(from:)` reads it, but parsed by a scanner made for its
    /// shape instead of Foundation's `JSONDecoder` (a fleet's registry of 100,000 checks: a few
    /// tens of milliseconds instead of a few hundred, for `kiothc status`). Whatever the scanner
    /// does not expect (a damaged file, another version, a number with a fraction, a repeated
    /// key) is handed to `Registry.load`, whose error says what is wrong; so this returns what
    /// it returns and throws what it throws.
    public func registry() throws -> Registry {
        if let bytes = try FileSystem.readAll(data.registry), let registry = RegistryScanner.parse(bytes, path: data.registry) {
            return registry
        }
        return try Registry.load(from: data)
    }
}

/// A strict JSON reader for `registry.json` version 1 (`{"v": 1, "checks": [{"project",
/// "key", "uuid"}], "retired": [{"uuid", "project", "key", "retired_us"}]}`); unknown keys are
/// skipped as `JSONDecoder` skips them. nil for anything else.
struct RegistryScanner {
    private let bytes: [UInt8]
    private var index = 0
    /// Nesting of skipped values, bounded so a hostile file cannot exhaust the stack.
    private var depth = 0

    static func parse(_ bytes: [UInt8], path: String) -> Registry? {
        var scanner = RegistryScanner(bytes: bytes)
        return scanner.document(path: path)
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func document(path: String) -> Registry? {
        var version: Int64?
        var checks: [CheckIdentity: UUID]?
        var retired: [Registry.Retired]?
        let complete = object { scanner, key in
            // A key given twice is refused: which one counts is the decoder's business.
            switch key {
            case "v" where version == nil: version = scanner.integer()
            case "checks" where checks == nil: checks = scanner.checks()
            case "retired" where retired == nil: retired = scanner.retired()
            case "v", "checks", "retired": return false
            default: return scanner.skipValue()
            }
            return true
        }
        space()
        guard complete, index == bytes.count, version == 1, let checks, let retired else { return nil }
        return Registry(checks: checks, retired: retired, path: path)
    }

    private mutating func checks() -> [CheckIdentity: UUID]? {
        var result: [CheckIdentity: UUID] = [:]
        let complete = array { scanner in
            var project: String?
            var key: String?
            var uuid: String?
            let entry = scanner.object { scanner, name in
                switch name {
                case "project" where project == nil: project = scanner.string()
                case "key" where key == nil: key = scanner.string()
                case "uuid" where uuid == nil: uuid = scanner.string()
                case "project", "key", "uuid": return false
                default: return scanner.skipValue()
                }
                return true
            }
            guard entry, let project, let key, let uuid, let parsed = UUID(uuidString: uuid) else { return false }
            result[CheckIdentity(project: project, key: key)] = parsed
            return true
        }
        return complete ? result : nil
    }

    private mutating func retired() -> [Registry.Retired]? {
        var result: [Registry.Retired] = []
        let complete = array { scanner in
            var uuid: String?
            var project: String?
            var key: String?
            var time: Int64?
            let entry = scanner.object { scanner, name in
                switch name {
                case "uuid" where uuid == nil: uuid = scanner.string()
                case "project" where project == nil: project = scanner.string()
                case "key" where key == nil: key = scanner.string()
                case "retired_us" where time == nil: time = scanner.integer()
                case "uuid", "project", "key", "retired_us": return false
                default: return scanner.skipValue()
                }
                return true
            }
            guard entry, let uuid, let project, let key, let time, let parsed = UUID(uuidString: uuid) else { return false }
            result.append(Registry.Retired(uuid: parsed, identity: CheckIdentity(project: project, key: key), time: time))
            return true
        }
        return complete ? result : nil
    }

    // MARK: JSON

    private mutating func space() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        space()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// `{ "key": value, ... }`: `field` reads each value (false: stop, not this shape).
    private mutating func object(_ field: (inout RegistryScanner, String) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            space()
            guard let key = string(), take(UInt8(ascii: ":")) else { return false }
            space()
            let end = index
            guard field(&self, key), index > end else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    /// `[ value, ... ]`, each read by `element`.
    private mutating func array(_ element: (inout RegistryScanner) -> Bool) -> Bool {
        guard take(UInt8(ascii: "[")) else { return false }
        if take(UInt8(ascii: "]")) { return true }
        repeat {
            space()
            guard element(&self) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]"))
    }

    /// A string, its escapes decoded; nil for a malformed one or one that is not valid UTF-8.
    private mutating func string() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return String(validating: bytes[start..<index], as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { return escapedString(from: start) }
            if byte < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    /// The rest of a string holding escapes, `start` just after its opening quote.
    private mutating func escapedString(from start: Int) -> String? {
        var utf16: [UInt16] = []
        guard let prefix = String(validating: bytes[start..<index], as: UTF8.self) else { return nil }
        utf16.append(contentsOf: prefix.utf16)
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                // A lone surrogate is not text: left to the decoder.
                return String(validating: utf16, as: UTF16.self)
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { return nil }
                index += 2
                switch bytes[index - 1] {
                case UInt8(ascii: "\""): utf16.append(0x22)
                case UInt8(ascii: "\\"): utf16.append(0x5C)
                case UInt8(ascii: "/"): utf16.append(0x2F)
                case UInt8(ascii: "b"): utf16.append(0x08)
                case UInt8(ascii: "f"): utf16.append(0x0C)
                case UInt8(ascii: "n"): utf16.append(0x0A)
                case UInt8(ascii: "r"): utf16.append(0x0D)
                case UInt8(ascii: "t"): utf16.append(0x09)
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count, let unit = UInt16(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                        bytes[index..<index + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
                    else { return nil }
                    utf16.append(unit)
                    index += 4
                default: return nil
                }
            default:
                guard byte >= 0x20 else { return nil }
                // Copy the run of plain bytes up to the next quote or backslash.
                let run = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 { index += 1 }
                guard let plain = String(validating: bytes[run..<index], as: UTF8.self) else { return nil }
                utf16.append(contentsOf: plain.utf16)
            }
        }
        return nil
    }

    /// An integer without fraction or exponent that fits in 64 bits; nil otherwise.
    private mutating func integer() -> Int64? {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digits = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        guard index > digits, bytes[digits] != UInt8(ascii: "0") || index == digits + 1 else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") { return nil }
        return Int64(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    /// Any JSON value, checked and passed over.
    private mutating func skipValue() -> Bool {
        guard index < bytes.count, depth < 64 else { return false }
        depth += 1
        defer { depth -= 1 }
        switch bytes[index] {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "{"): return object { scanner, _ in scanner.skipValue() }
        case UInt8(ascii: "["): return array { scanner in scanner.skipValue() }
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    private mutating func literal(_ word: String) -> Bool {
        let expected = Array(word.utf8)
        guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else { return false }
        index += expected.count
        return true
    }

    /// A JSON number (RFC 8259's grammar).
    private mutating func number() -> Bool {
        func digits(_ scanner: inout RegistryScanner) -> Int {
            let start = scanner.index
            while scanner.index < scanner.bytes.count, scanner.bytes[scanner.index] >= UInt8(ascii: "0"), scanner.bytes[scanner.index] <= UInt8(ascii: "9") {
                scanner.index += 1
            }
            return scanner.index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let first = index
        let count = digits(&self)
        guard count > 0, bytes[first] != UInt8(ascii: "0") || count == 1 else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { return false }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { return false }
        }
        return true
    }
}
