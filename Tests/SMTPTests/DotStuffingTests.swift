import Testing

@testable import SMTP

@Suite struct DotStuffingTests {
    @Test("a line starting with a dot gets another and the data ends with a dot line")
    func aLineStartingWithADotGetsAnotherAndTheDataEndsWithADotLine() {
        let stuffed = DotStuffing.terminated(Array("Subject: x\r\n\r\n.\r\n..two\r\nmid.dle\r\n.".utf8))
        #expect(String(decoding: stuffed, as: UTF8.self) == "Subject: x\r\n\r\n..\r\n...two\r\nmid.dle\r\n..\r\n.\r\n")
    }

    @Test("lone CR and LF become CRLF so nothing can end the data early")

    func loneCrAndLfBecomeCrlfSoNothingCanEndTheDataEarly() {
        let stuffed = DotStuffing.terminated(Array("a\n.\nb\r.\rc\r\n".utf8))
        #expect(String(decoding: stuffed, as: UTF8.self) == "a\r\n..\r\nb\r\n..\r\nc\r\n.\r\n")
    }

    @Test("empty data is just the end")

    func emptyDataIsJustTheEnd() {
        #expect(DotStuffing.terminated([]) == Array(".\r\n".utf8))
    }
}
