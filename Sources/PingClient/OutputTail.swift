/// The last bytes a job wrote (stdout and stderr interleaved as they arrived), kept so the
/// final ping can carry them as its body without holding the whole output.
public struct OutputTail: Sendable {
    public let capacity: Int
    private var bytes: [UInt8] = []
    /// Everything the job wrote, including what fell out of the tail.
    public private(set) var total = 0

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    public mutating func append(_ chunk: some Collection<UInt8>) {
        total += chunk.count
        bytes.append(contentsOf: chunk)
        // Trim in bulk once the buffer doubles: amortised O(1) per byte.
        if bytes.count > 2 * capacity { bytes.removeFirst(bytes.count - capacity) }
    }

    /// The tail as UTF-8 text of at most `limit` bytes, so the server stores it as text:
    /// a character split by the cut is dropped, invalid bytes become U+FFFD.
    public func text(limit: Int) -> String {
        var window = bytes.suffix(min(limit, capacity))[...]
        while let first = window.first, first & 0xC0 == 0x80 { window = window.dropFirst() }
        let text = String(decoding: window, as: UTF8.self)
        // Each replacement character is 3 bytes, so the text may outgrow the limit.
        var excess = text.utf8.count - limit
        guard excess > 0 else { return text }
        var start = text.unicodeScalars.startIndex
        while excess > 0, start < text.unicodeScalars.endIndex {
            excess -= text.unicodeScalars[start].utf8.count
            start = text.unicodeScalars.index(after: start)
        }
        return String(text.unicodeScalars[start...])
    }
}
