import NIOCore
import Runtime

/// The part of a ping's request body that is kept: the first `limit` bytes when they are UTF-8
/// text, cut on a character boundary (SPEC §2). The rest is counted and discarded as it
/// streams in, never buffered whole.
struct PingBody {
    static let storedLimit = 10_000

    private(set) var prefix: [UInt8] = []
    private(set) var size = 0

    init() {}

    mutating func append(_ buffer: ByteBuffer) {
        size += buffer.readableBytes
        let room = Self.storedLimit - prefix.count
        guard room > 0 else { return }
        buffer.withUnsafeReadableBytes { bytes in
            prefix.append(contentsOf: bytes.prefix(room))
        }
    }

    /// The stored text: nil for an empty body or one that is not UTF-8.
    var text: String? {
        guard !prefix.isEmpty else { return nil }
        var end = prefix.count
        // A cut at the limit may split a character: drop its lead and continuation bytes.
        if size > prefix.count {
            end = Self.characterBoundary(before: end, in: prefix)
        }
        return String(validating: prefix[..<end], as: UTF8.self)
    }

    /// The largest index ≤ `end` that does not split a UTF-8 sequence.
    static func characterBoundary(before end: Int, in bytes: [UInt8]) -> Int {
        var index = end
        var continuation = 0
        while index > 0, continuation < 4, bytes[index - 1] & 0xC0 == 0x80 {
            index -= 1
            continuation += 1
        }
        guard index > 0 else { return end }
        let lead = bytes[index - 1]
        let length: Int
        switch lead {
        case 0x00..<0x80: return end
        case 0xC0..<0xE0: length = 2
        case 0xE0..<0xF0: length = 3
        case 0xF0..<0xF8: length = 4
        default: return end  // not UTF-8 anyway; validation will refuse it
        }
        return continuation + 1 >= length ? end : index - 1
    }
}
