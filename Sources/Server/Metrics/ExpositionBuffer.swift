import Hummingbird
import NIOCore

/// A scrape's text on its way out: lines are appended here and handed to the response's writer
/// a chunk at a time, so a scrape never holds its whole text (46.8 MB for 100,000 checks) and
/// the client reads while the rest is written.
struct ExpositionBuffer {
    /// What is handed to the writer at once: large enough that a write's cost is the bytes, not
    /// the call.
    static let chunkSize = 64 * 1024

    private var bytes: ByteBuffer
    let chunkSize: Int
    /// Chunks handed to the writer so far.
    private(set) var chunks = 0

    init(chunkSize: Int = Self.chunkSize) {
        self.chunkSize = chunkSize
        // Room for the line that crosses the chunk's size, so it rarely grows.
        bytes = ByteBufferAllocator().buffer(capacity: chunkSize + 4 * 1024)
    }

    /// Holds a chunk's worth: time to `flush`.
    var isFull: Bool { bytes.readableBytes >= chunkSize }

    mutating func write(_ text: StaticString) {
        bytes.writeStaticString(text)
    }

    mutating func write(_ text: String) {
        bytes.writeString(text)
    }

    mutating func write(_ value: Int) {
        bytes.writeString(String(value))
    }

    mutating func write(_ raw: UnsafeRawBufferPointer) {
        bytes.writeBytes(raw)
    }

    /// A label's value, escaped as the exposition format says: backslash, double quote and line
    /// feed, byte by byte (a label value is UTF-8 and these three are ASCII, so no other
    /// character's bytes can match).
    mutating func writeLabelValue(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let escaped: StaticString
                switch utf8[index] {
                case UInt8(ascii: "\\"): escaped = #"\\"#
                case UInt8(ascii: "\""): escaped = #"\""#
                case UInt8(ascii: "\n"): escaped = #"\n"#
                default: continue
                }
                bytes.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[start..<index])))
                bytes.writeStaticString(escaped)
                start = index + 1
            }
            bytes.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[start...])))
        }
    }

    /// What is buffered, as text.
    var text: String { String(buffer: bytes) }

    /// Hands what is buffered to `writer` (nothing when empty).
    mutating func flush(to writer: inout any ResponseBodyWriter) async throws {
        guard bytes.readableBytes > 0 else { return }
        try await writer.write(bytes)
        chunks += 1
        // Fresh storage when the writer still holds the chunk (copy-on-write), else reused.
        bytes.clear()
    }
}
