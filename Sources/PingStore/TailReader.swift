/// Reads a JSON-lines file backwards, newest line first, a chunk at a time, so the startup scan
/// and "last N pings" touch only the end of each file.
///
/// An unterminated last line (a torn write, or an append in progress) is skipped.
struct TailReader {
    private let file: RawFile
    private let chunkSize: Int
    /// Bytes of the file from `bufferOffset`, ending just after the newline of the next line
    /// to return (`cursor == buffer.count` at first).
    private var buffer: [UInt8] = []
    private var bufferOffset: Int
    private var cursor: Int = 0
    /// Bytes read so far, to let callers bound their work.
    private(set) var bytesRead = 0

    init(file: RawFile, size: Int, chunkSize: Int = 4 * 1024) throws {
        self.file = file
        self.chunkSize = chunkSize
        self.bufferOffset = size
        try trimTornTail()
    }

    /// The previous complete line, without its newline; nil at the start of the file.
    mutating func previousLine() throws -> ArraySlice<UInt8>? {
        guard cursor > 0 else { return nil }
        var lineEnd = cursor - 1  // the newline ending this line
        var searchEnd = lineEnd
        while true {
            if let newline = buffer[..<searchEnd].lastIndex(of: 0x0A) {
                cursor = newline + 1
                return buffer[(newline + 1)..<lineEnd]
            }
            if bufferOffset == 0 {
                cursor = 0
                return buffer[0..<lineEnd]
            }
            // Nothing before `searchEnd` had a newline: only the new bytes need a look.
            let grown = try prepend()
            lineEnd += grown
            searchEnd = grown
        }
    }

    /// Read the chunk before the buffer, keeping only the unconsumed bytes; returns how many
    /// bytes were added in front.
    private mutating func prepend() throws -> Int {
        // Grow the reads: the first is small (most callers want a line or two), later ones
        // amortize over long walks.
        let count = min(max(chunkSize, buffer.count), bufferOffset)
        let start = bufferOffset - count
        let chunk = try file.read(at: start, count: count)
        guard chunk.count == count else {
            throw StoreError(.corrupt, operation: "read", path: file.path, detail: "the file shrank while being read")
        }
        bytesRead += count
        buffer = chunk + buffer[..<cursor]
        cursor += count
        bufferOffset = start
        return count
    }

    /// Length of the file's complete lines: a torn tail starts here.
    private(set) var completeLength = 0

    /// Position the cursor after the last newline of the file.
    private mutating func trimTornTail() throws {
        while bufferOffset > 0 {
            _ = try prepend()
            if let last = buffer[..<cursor].lastIndex(of: 0x0A) {
                cursor = last + 1
                completeLength = bufferOffset + cursor
                return
            }
        }
        cursor = 0
    }
}
