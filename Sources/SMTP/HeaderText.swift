import Foundation

/// Text made fit for a header field: 7-bit ASCII, no line break of its own (RFC 5322), non-ASCII
/// text as RFC 2047 encoded-words, long lines folded.
enum HeaderText {
    /// `text` with every control character (CR, LF and tab included) replaced: nothing a caller
    /// passes can end a header line and start another.
    static func withoutControlCharacters(_ text: String, replacement: Character = " ") -> String {
        String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? replacement : Character($0) })
    }

    /// An unstructured value (Subject, X-…): kept as it is when it is printable ASCII with words
    /// short enough to fold, else one or more encoded-words.
    static func unstructured(_ text: String) -> String {
        let text = withoutControlCharacters(text)
        let plain = text.unicodeScalars.allSatisfy { $0.isASCII } && !text.contains("=?")
            && text.split(separator: " ").allSatisfy { $0.utf8.count <= 76 }
        return plain ? text : encodedWords(text).joined(separator: " ")
    }

    /// A display name as an RFC 5322 phrase: atoms as they are, other ASCII as a quoted string,
    /// anything else as encoded-words.
    static func phrase(_ name: String) -> String {
        guard name.unicodeScalars.allSatisfy({ $0.isASCII }), !name.contains("=?"), name.utf8.count <= 70 else {
            return encodedWords(name).joined(separator: " ")
        }
        let atext = name.utf8.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: " ") || Set("!#$%&'*+-/=?^_`{|}~".utf8).contains($0) }
        if atext { return name }
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }

    /// `text` as `=?UTF-8?B?…?=` words (RFC 2047 §2), each holding whole UTF-8 characters.
    /// Readers join adjacent encoded-words without the space between them.
    static func encodedWords(_ text: String) -> [String] {
        // 30 bytes make 52 characters (RFC 2047 allows 75), so that a word fits on the first
        // line after a field name of up to 24 characters, within 78.
        let maximumBytes = 30
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > maximumBytes {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }

    private static func word(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?\(Data(bytes).base64EncodedString())?="
    }

    /// `Name: value` folded (RFC 5322 §2.2.3): a CRLF inserted before a space wherever a line
    /// would pass 78 characters. A word longer than that stays whole on a line of its own
    /// (the callers keep words far below the 998 limit). Ends with CRLF.
    static func field(_ name: String, _ value: String) -> String {
        var remaining = Substring("\(name): \(value)")
        var lines: [Substring] = []
        // The first line keeps the value's first word: some readers (Python's email) keep the
        // space that starts a value folded right after its colon.
        var firstBreak = name.count + 3
        while remaining.utf8.count > 78 {
            // A break is a space after some non-space text, so that no line is only blanks.
            let breaks = remaining.indices.dropFirst(firstBreak).filter { index in
                remaining[index] == " " && remaining[..<index].contains { $0 != " " }
            }
            firstBreak = 1
            guard let cut = breaks.last(where: { remaining.distance(from: remaining.startIndex, to: $0) <= 78 }) ?? breaks.first else { break }
            lines.append(remaining[..<cut])
            remaining = remaining[cut...]
        }
        lines.append(remaining)
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

extension String {
    var trimmingSpaces: String { trimmingCharacters(in: .whitespaces) }
}
