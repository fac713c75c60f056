import Foundation
import Monitoring

/// Builds one flat JSON object as bytes, fields in the order written. Hand-rolled because the
/// hot path writes one per ping and Foundation's encoder costs microseconds we do not have.
public struct JSONLineWriter {
    private(set) var bytes: [UInt8] = []
    private var first = true

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// A writer whose object follows `bytes`: many objects written into one buffer (moved in,
    /// and out again by `object()`), none allocating one of its own.
    public init(continuing bytes: consuming [UInt8]) {
        self.bytes = consume bytes
        self.bytes.append(UInt8(ascii: "{"))
    }

    public mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func field(_ name: StaticString, _ value: Int) {
        field(name, Int64(value))
    }

    public mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        appendString(value)
    }

    public mutating func field(_ name: StaticString, _ value: UUID) {
        key(name)
        bytes.append(UInt8(ascii: "\""))
        value.appendLowercased(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// `null` when the value is absent (the PostgreSQL store's records).
    public mutating func field(_ name: StaticString, _ value: Int64?) {
        if let value { field(name, value) } else { null(name) }
    }

    public mutating func field(_ name: StaticString, _ value: String?) {
        if let value { field(name, value) } else { null(name) }
    }

    public mutating func field(_ name: StaticString, _ value: UUID?) {
        if let value { field(name, value) } else { null(name) }
    }

    public mutating func null(_ name: StaticString) {
        key(name)
        bytes.append(contentsOf: "null".utf8)
    }

    /// A nested JSON value written as is.
    public mutating func field(_ name: StaticString, json: [UInt8]) {
        key(name)
        bytes.append(contentsOf: json)
    }

    /// A nested object of strings, keys sorted (as `catalog.json` holds check settings).
    public mutating func field(_ name: StaticString, strings: [String: String]) {
        key(name)
        bytes.append(UInt8(ascii: "{"))
        for (index, (key, value)) in strings.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendString(key)
            bytes.append(UInt8(ascii: ":"))
            appendString(value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// An array of strings, in order (a flip's `suppressed_by`).
    public mutating func field(_ name: StaticString, strings: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in strings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendString(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The object so far, closed, without a newline (an element of a larger document).
    public mutating func object() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// The finished line, with its newline.
    public mutating func line() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    private mutating func key(_ name: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// JSON string escaping: quote, backslash and control characters; everything else is
    /// UTF-8 as is (so bodies stay readable with `jq` and `less`). Runs of bytes that need no
    /// escape are copied whole (a 1 KB body byte by byte showed in the ping path's profile).
    private mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var run = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index]))
                appendEscaped(byte)
                run = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        default:
            bytes.append(contentsOf: Array("\\u00".utf8))
            bytes.append(Self.hex[Int(byte >> 4)])
            bytes.append(Self.hex[Int(byte & 0xF)])
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)
}
