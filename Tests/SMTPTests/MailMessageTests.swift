import Foundation
import Testing

@testable import SMTP

@Suite struct MailMessageTests {
    private func message(
        subject: String = "DOWN | backup", text: String = "The check is down.\n", html: String? = "<p>down</p>",
        fromName: String? = "KiotHealthChecks", to: [MailAddress]? = nil, extraHeaders: [MailHeader] = []
    ) throws -> MailMessage {
        MailMessage(
            from: try MailAddress("alerts@example.com", displayName: fromName), to: try to ?? [MailAddress("ops@example.com")],
            subject: subject, text: text, html: html, extraHeaders: extraHeaders, date: Date(timeIntervalSince1970: 1_796_575_465))
    }

    private func lines(_ message: MailMessage) -> [String] {
        String(decoding: message.rendered(), as: UTF8.self).components(separatedBy: "\r\n")
    }

    @Test("every line ends with CRLF, is ASCII and at most 78 characters")

    func everyLineEndsWithCrlfIsAsciiAndAtMost78Characters() throws {
        let long = String(repeating: "Zeile mit Umlauten äöü und mehr Text, ", count: 40)
        let rendered = try message(subject: String(repeating: "très long sujet ", count: 12), text: long, html: "<p>\(long)</p>").rendered()
        #expect(rendered.allSatisfy { $0 < 128 })
        let text = String(decoding: rendered, as: UTF8.self)
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        #expect(text.hasSuffix("\r\n"))
        for line in text.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "\(line)")
        }
    }

    @Test("the date is RFC 5322 in UTC")

    func theDateIsRfc5322InUtc() throws {
        #expect(lines(try message()).contains("Date: Sun, 06 Dec 2026 16:44:25 +0000"))
    }

    @Test("the message id is random at the sender's domain")

    func theMessageIdIsRandomAtTheSenderSDomain() throws {
        let first = try message(), second = try message()
        #expect(first.messageID.hasPrefix("<") && first.messageID.hasSuffix("@example.com>"))
        #expect(first.messageID != second.messageID)
    }

    @Test("a non-ASCII subject is encoded in words of at most 75 characters")

    func aNonAsciiSubjectIsEncodedInWordsOfAtMost75Characters() throws {
        let words = HeaderText.encodedWords(String(repeating: "é€😀", count: 30))
        #expect(words.count > 1)
        for word in words {
            #expect(word.utf8.count <= 75)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
        }
        let decoded = words.map { word in
            let base64 = word.dropFirst(10).dropLast(2)
            return String(decoding: Data(base64Encoded: String(base64))!, as: UTF8.self)
        }.joined()
        #expect(decoded == String(repeating: "é€😀", count: 30))
    }

    @Test("an ASCII display name with specials is quoted, a plain one is not")

    func anAsciiDisplayNameWithSpecialsIsQuotedAPlainOneIsNot() {
        #expect(HeaderText.phrase("Ops Team") == "Ops Team")
        #expect(HeaderText.phrase("Smith, John \"JJ\"") == "\"Smith, John \\\"JJ\\\"\"")
        #expect(HeaderText.phrase("Zoë").hasPrefix("=?UTF-8?B?"))
    }

    @Test("CR and LF in a subject, a name or a header value cannot start a header")

    func crAndLfInASubjectANameOrAHeaderValueCannotStartAHeader() throws {
        let rendered = lines(
            try message(
                subject: "down\r\nBcc: victim@example.com", fromName: "Eve\r\nX-Evil: 1",
                extraHeaders: [MailHeader("X-Kiothc-Check", "backup\nX-Injected: yes")]))
        #expect(!rendered.contains { $0.hasPrefix("Bcc:") || $0.hasPrefix("X-Evil:") || $0.hasPrefix("X-Injected:") })
        #expect(rendered.contains("Subject: down  Bcc: victim@example.com"))
    }

    @Test("a long recipient list is folded between addresses")

    func aLongRecipientListIsFoldedBetweenAddresses() throws {
        let recipients = try (1...12).map { try MailAddress("person\($0)@example.com", displayName: "Person \($0)") }
        let rendered = lines(try message(to: recipients))
        let start = try #require(rendered.firstIndex { $0.hasPrefix("To: ") })
        #expect(rendered[start + 1].hasPrefix(" "))
        let unfolded = rendered[start...].prefix { $0 == rendered[start] || $0.hasPrefix(" ") }.joined()
        #expect(unfolded == "To: " + (1...12).map { "Person \($0) <person\($0)@example.com>" }.joined(separator: ", "))
    }

    @Test("the parts are quoted-printable with soft breaks and dots left for SMTP")

    func thePartsAreQuotedPrintableWithSoftBreaksAndDotsLeftForSmtp() {
        let encoded = QuotedPrintable.encode(String(repeating: "x", count: 100) + "\n.hidden\nünïcode = ok \nend")
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines[0] == String(repeating: "x", count: 75) + "=")
        #expect(lines[1] == String(repeating: "x", count: 25))
        #expect(lines[2] == ".hidden")
        #expect(lines[3] == "=C3=BCn=C3=AFcode =3D ok=20")
        #expect(lines[4] == "end")
    }

    @Test("text alone is a single text part")

    func textAloneIsASingleTextPart() throws {
        let rendered = lines(try message(html: nil))
        #expect(rendered.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(!rendered.contains { $0.contains("multipart") })
    }

    @Test("Auto-Submitted and MIME-Version are there")

    func autoSubmittedAndMimeVersionAreThere() throws {
        let rendered = lines(try message())
        #expect(rendered.contains("Auto-Submitted: auto-generated"))
        #expect(rendered.contains("MIME-Version: 1.0"))
    }

    @Test("a bad address is refused", arguments: [
        "", "plain", "two@@example.com", "a@b@example.com", "@example.com", "user@", ".user@example.com", "us..er@example.com",
        "user name@example.com", "user@exa mple.com", "user@example.com\r\nRCPT TO:<x@y>", "<user@example.com>", "user@-example.com",
        "üser@example.com", "user@exämple.com",
    ])
    func aBadAddressIsRefused(address: String) {
        #expect(throws: InvalidMailAddress.self) { try MailAddress(address) }
    }

    @Test("a good address is accepted", arguments: ["a@b", "first.last+tag@sub.example.co.uk", "o'brien@example.com", "x_y-z@example-mail.com"])
    func aGoodAddressIsAccepted(address: String) throws {
        #expect(try MailAddress(address).address == address)
    }

    @Test("a header name must be a field name and not one the message sets")

    func aHeaderNameMustBeAFieldNameAndNotOneTheMessageSets() {
        #expect(throws: InvalidMailHeader.self) { try MailHeader("X Bad", "v") }
        #expect(throws: InvalidMailHeader.self) { try MailHeader("X-Bad:", "v") }
        #expect(throws: InvalidMailHeader.self) { try MailHeader("Bcc", "v") }
        #expect(throws: InvalidMailHeader.self) { try MailHeader("", "v") }
    }

    @Test("recipients are To then Cc, each once")

    func recipientsAreToThenCcEachOnce() throws {
        var message = try message(to: [MailAddress("a@example.com"), MailAddress("b@example.com")])
        message.cc = [try MailAddress("B@example.com"), try MailAddress("c@example.com")]
        #expect(message.recipients.map(\.address) == ["a@example.com", "b@example.com", "c@example.com"])
    }
}
