/// A server's reply (RFC 5321 §4.2): a three-digit code and one or more lines of text
/// (`250-…` continues, `250 …` ends).
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public let code: Int
    /// The text of each line, after the code and its separator.
    public let lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// `250 2.0.0 Ok: queued as 4F1A` (the lines of a multi-line reply joined by " / ").
    public var description: String {
        let text = lines.joined(separator: " / ")
        return text.isEmpty ? "\(code)" : "\(code) \(text.prefix(500))"
    }

    /// 2xx.
    var isPositive: Bool { (200...299).contains(code) }
}

/// Bytes from the server -> replies. Pure, so the odd cases are tested without a socket.
struct SMTPReplyParser {
    struct Malformed: Error, Equatable {
        let reason: String
    }

    /// Lines longer than this are not a mail server talking (RFC 5321 allows 512).
    static let maximumLineLength = 4096
    static let maximumLinesPerReply = 200

    private var partialLine: [UInt8] = []
    private var pending: (code: Int, lines: [String])?

    /// Whether bytes of an unfinished reply wait: after the reply to STARTTLS there must be
    /// none, or a man in the middle could have injected them before the TLS handshake.
    var hasPartialReply: Bool { !partialLine.isEmpty || pending != nil }

    /// The replies these bytes complete, in order.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(Malformed) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        for byte in bytes {
            guard byte == UInt8(ascii: "\n") else {
                partialLine.append(byte)
                guard partialLine.count <= Self.maximumLineLength else {
                    throw Malformed(reason: "a reply line longer than \(Self.maximumLineLength) bytes")
                }
                continue
            }
            if partialLine.last == UInt8(ascii: "\r") { partialLine.removeLast() }
            let line = partialLine
            partialLine = []
            if let reply = try take(line) { replies.append(reply) }
        }
        return replies
    }

    private mutating func take(_ line: [UInt8]) throws(Malformed) -> SMTPReply? {
        let digits = line.prefix(3)
        guard digits.count == 3, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let first = digits.first, (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(first)
        else {
            throw Malformed(reason: "a reply line that does not start with a code from 200 to 599: '\(Self.text(line.prefix(80)))'")
        }
        let code = Int(String(decoding: digits, as: UTF8.self))!
        let separator = line.count > 3 ? line[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw Malformed(reason: "a reply line with '\(Self.text([separator]))' after its code")
        }
        if let pending, pending.code != code {
            throw Malformed(reason: "a multi-line reply whose code changes from \(pending.code) to \(code)")
        }
        var lines = pending?.lines ?? []
        lines.append(Self.text(line.dropFirst(4)))
        guard lines.count <= Self.maximumLinesPerReply else {
            throw Malformed(reason: "a reply of more than \(Self.maximumLinesPerReply) lines")
        }
        if separator == UInt8(ascii: "-") {
            pending = (code, lines)
            return nil
        }
        pending = nil
        return SMTPReply(code: code, lines: lines)
    }

    /// The server's text as UTF-8, control characters as '?' (it ends up in logs and errors).
    private static func text(_ bytes: some Collection<UInt8>) -> String {
        String(String(decoding: bytes, as: UTF8.self).unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
    }
}
