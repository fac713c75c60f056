/// Quoted-printable (RFC 2045 §6.7) for the text parts: every line 76 characters at most, so
/// a body of any width, language or line ending travels through 7-bit relays unchanged.
enum QuotedPrintable {
    /// `text` encoded, its line breaks (CRLF, LF or CR) as CRLF; no final CRLF.
    static func encode(_ text: String) -> String {
        lines(of: text).map(encodeLine).joined(separator: "\r\n")
    }

    /// The lines of `text` as UTF-8, whatever its line endings.
    static func lines(of text: String) -> [ArraySlice<UInt8>] {
        let bytes = Array(text.utf8)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\r"):
                lines.append(bytes[start..<index])
                index += index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n") ? 2 : 1
                start = index
            case UInt8(ascii: "\n"):
                lines.append(bytes[start..<index])
                index += 1
                start = index
            default:
                index += 1
            }
        }
        lines.append(bytes[start...])
        return lines
    }

    private static func encodeLine(_ line: ArraySlice<UInt8>) -> String {
        var output = ""
        var current = ""
        for (offset, byte) in zip(line.indices, line) {
            let isLast = offset == line.index(before: line.endIndex)
            let blank = byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
            // A blank at the end of a line would be lost in transit (RFC 2045 §6.7 rule 3).
            let literal = (33...126).contains(byte) && byte != UInt8(ascii: "=") || blank && !isLast
            let piece = literal ? String(UnicodeScalar(byte)) : "=" + hex(byte)
            // A soft break ("=" at the end) keeps each encoded line within 76 characters.
            if current.utf8.count + piece.utf8.count > (isLast ? 76 : 75) {
                output += current + "=\r\n"
                current = ""
            }
            current += piece
        }
        return output + current
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
