import Testing

@testable import SMTP

@Suite struct SMTPReplyParserTests {
    @Test("a multi-line reply is one reply with every line")
    func aMultiLineReplyIsOneReplyWithEveryLine() throws {
        var parser = SMTPReplyParser()
        let replies = try parser.feed(Array("250-mail.example.com\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n".utf8))
        #expect(replies == [SMTPReply(code: 250, lines: ["mail.example.com", "STARTTLS", "AUTH PLAIN LOGIN"])])
        #expect(!parser.hasPartialReply)
    }

    @Test("a reply split across reads completes on its last byte")

    func aReplySplitAcrossReadsCompletesOnItsLastByte() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed(Array("250-first\r\n25".utf8)).isEmpty)
        #expect(parser.hasPartialReply)
        #expect(try parser.feed(Array("0 last\r".utf8)).isEmpty)
        let replies = try parser.feed(Array("\n220 next\r\n".utf8))
        #expect(replies == [SMTPReply(code: 250, lines: ["first", "last"]), SMTPReply(code: 220, lines: ["next"])])
    }

    @Test("bare LF and a code without text are accepted")

    func bareLfAndACodeWithoutTextAreAccepted() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed(Array("354\n".utf8)) == [SMTPReply(code: 354, lines: [""])])
    }

    @Test("what is not an SMTP reply is malformed", arguments: [
        "hello\r\n", "25\r\n", "600 what\r\n", "150 early\r\n", "250x text\r\n", "250-one\r\n251 two\r\n",
    ])
    func whatIsNotAnSmtpReplyIsMalformed(input: String) {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Malformed.self) { try parser.feed(Array(input.utf8)) }
    }

    @Test("an endless line is malformed")

    func anEndlessLineIsMalformed() {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Malformed.self) { try parser.feed([UInt8](repeating: UInt8(ascii: "2"), count: 5000)) }
    }

    @Test("control characters in the text are shown as question marks")

    func controlCharactersInTheTextAreShownAsQuestionMarks() throws {
        var parser = SMTPReplyParser()
        let replies = try parser.feed(Array("550 bad\u{1B}[31m\r\n".utf8))
        #expect(replies.first?.lines == ["bad?[31m"])
        #expect(replies.first?.description == "550 bad?[31m")
    }
}
