import Foundation

/// The byte layer of the decoded-config cache (`ParsedFiles.persisted`): little-endian
/// integers, LEB128 lengths, UTF-8 strings. Nothing here trusts its input: a reader past
/// the end, or reading something that is not what was written, fails rather than guesses.
struct CacheWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func unsigned(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Zig-zag, so small negative numbers stay short.
    mutating func signed(_ value: Int64) {
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func int(_ value: Int) { signed(Int64(value)) }

    mutating func fixed(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            unsigned(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func raw(_ value: some Collection<UInt8>) { bytes.append(contentsOf: value) }

    mutating func uuid(_ value: UUID) {
        withUnsafeBytes(of: value.uuid) { bytes.append(contentsOf: $0) }
    }
}

/// Reads what `CacheWriter` wrote, from a buffer it does not own (valid while it reads).
struct CacheReader {
    struct Malformed: Error {}

    private let buffer: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ buffer: UnsafeRawBufferPointer, from offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    var isAtEnd: Bool { offset == buffer.count }

    mutating func byte() throws(Malformed) -> UInt8 {
        guard offset < buffer.count else { throw Malformed() }
        defer { offset += 1 }
        return buffer[offset]
    }

    mutating func unsigned() throws(Malformed) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw Malformed() }
            value |= UInt64(next & 0x7f) << shift
            if next < 0x80 { return value }
            shift += 7
        }
    }

    mutating func signed() throws(Malformed) -> Int64 {
        let raw = try unsigned()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func int() throws(Malformed) -> Int { Int(try signed()) }

    /// A count of things still to read, each at least a byte: no more than the bytes left.
    mutating func count() throws(Malformed) -> Int {
        let value = try unsigned()
        guard value <= UInt64(buffer.count - offset) else { throw Malformed() }
        return Int(value)
    }

    mutating func fixed() throws(Malformed) -> UInt64 {
        guard buffer.count - offset >= 8 else { throw Malformed() }
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + 8])) }
        offset += 8
        return UInt64(littleEndian: value)
    }

    mutating func range(_ count: Int) throws(Malformed) -> Range<Int> {
        guard count >= 0, buffer.count - offset >= count else { throw Malformed() }
        defer { offset += count }
        return offset..<offset + count
    }

    mutating func string() throws(Malformed) -> String {
        let range = try range(try count())
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[range]), as: UTF8.self)
    }

    mutating func uuid() throws(Malformed) -> UUID {
        let range = try range(16)
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[range])) }
        return UUID(uuid: value)
    }

    mutating func bool() throws(Malformed) -> Bool {
        switch try byte() {
        case 0: false
        case 1: true
        default: throw Malformed()
        }
    }
}
