import Foundation

/// A message as the alerts send it: a text part and, usually, an HTML part of the same content
/// (multipart/alternative), with the headers RFC 5322 wants (Date, From, Message-ID) and
/// `Auto-Submitted: auto-generated` (RFC 3834), so auto-responders leave it alone.
///
/// `rendered()` gives the bytes SMTP's DATA carries: 7-bit ASCII, CRLF line endings, headers
/// folded at 78 characters, non-ASCII names and subjects as RFC 2047 encoded-words, the parts
/// quoted-printable (UTF-8).
public struct MailMessage: Sendable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var subject: String
    public var text: String
    /// The HTML alternative; nil sends the text alone (text/plain).
    public var html: String?
    /// More fields, after the standard ones (e.g. `X-Kiothc-Check`).
    public var extraHeaders: [MailHeader]
    public var date: Date
    /// `<random@domain-of-from>`, angle brackets included.
    public var messageID: String

    public init(
        from: MailAddress, to: [MailAddress], cc: [MailAddress] = [], subject: String, text: String, html: String? = nil,
        extraHeaders: [MailHeader] = [], date: Date = Date(), messageID: String? = nil
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.subject = subject
        self.text = text
        self.html = html
        self.extraHeaders = extraHeaders
        self.date = date
        self.messageID = messageID ?? "<\(Self.randomHex(16))@\(from.domain)>"
    }

    /// Every recipient: To, then Cc, each once.
    public var recipients: [MailAddress] {
        var seen = Set<String>()
        return (to + cc).filter { seen.insert($0.address.lowercased()).inserted }
    }

    /// The message as DATA carries it (before dot-stuffing, which the client does).
    public func rendered() -> [UInt8] {
        var head = HeaderText.field("Date", MailDate.format(date))
        head += HeaderText.field("From", Self.mailbox(from))
        if !to.isEmpty { head += HeaderText.field("To", to.map(Self.mailbox).joined(separator: ", ")) }
        if !cc.isEmpty { head += HeaderText.field("Cc", cc.map(Self.mailbox).joined(separator: ", ")) }
        head += HeaderText.field("Subject", HeaderText.unstructured(subject))
        head += HeaderText.field("Message-ID", HeaderText.withoutControlCharacters(messageID))
        head += HeaderText.field("MIME-Version", "1.0")
        head += HeaderText.field("Auto-Submitted", "auto-generated")
        for header in extraHeaders {
            head += HeaderText.field(header.name, HeaderText.unstructured(header.value))
        }
        guard let html else {
            return Array((head + Self.textPart("plain", text)).utf8)
        }
        // "=_" cannot occur in quoted-printable text, so the boundary cannot occur in a part.
        let boundary = "=_kiothc_\(Self.randomHex(12))"
        var body = HeaderText.field("Content-Type", "multipart/alternative; boundary=\"\(boundary)\"")
        body += "\r\n"
        for (subtype, content) in [("plain", text), ("html", html)] {
            body += "--\(boundary)\r\n" + Self.textPart(subtype, content) + "\r\n"
        }
        body += "--\(boundary)--\r\n"
        return Array((head + body).utf8)
    }

    /// The headers and body of one text part; the body ends without a line break.
    private static func textPart(_ subtype: String, _ content: String) -> String {
        HeaderText.field("Content-Type", "text/\(subtype); charset=utf-8")
            + HeaderText.field("Content-Transfer-Encoding", "quoted-printable")
            + "\r\n" + QuotedPrintable.encode(content)
    }

    private static func mailbox(_ address: MailAddress) -> String {
        address.displayName.map { "\(HeaderText.phrase($0)) <\(address.address)>" } ?? address.address
    }

    private static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16).leftPadded }.joined()
    }
}

/// An extra header field. The name is checked (printable ASCII without ':' or spaces); the
/// value may hold any text: control characters become spaces and non-ASCII text is encoded.
public struct MailHeader: Sendable, Equatable {
    public let name: String
    public let value: String

    public init(_ name: String, _ value: String) throws(InvalidMailHeader) {
        let standard = [
            "date", "from", "to", "cc", "bcc", "subject", "message-id", "mime-version", "content-type", "content-transfer-encoding", "auto-submitted",
        ]
        guard !name.isEmpty, name.utf8.count <= 76, name.utf8.allSatisfy({ (33...126).contains($0) && $0 != UInt8(ascii: ":") }) else {
            let shown = HeaderText.withoutControlCharacters(name, replacement: "?").prefix(80)
            throw InvalidMailHeader(description: "invalid header name '\(shown)': use 1 to 76 printable ASCII characters without ':' or spaces")
        }
        guard !standard.contains(name.lowercased()) else {
            throw InvalidMailHeader(description: "the header '\(name)' is set by the message itself and cannot be added")
        }
        self.name = name
        self.value = value
    }
}

public struct InvalidMailHeader: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
}

extension String {
    fileprivate var leftPadded: String { count == 1 ? "0" + self : self }
}
