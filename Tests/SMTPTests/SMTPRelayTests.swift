import Testing

@testable import SMTP

@Suite struct SMTPRelayTests {
    @Test("smtp URL requires STARTTLS on port 587 and decodes the credentials")
    func smtpUrlRequiresStarttlsOnPort587AndDecodesTheCredentials() throws {
        let relay = try SMTPRelay(url: "smtp://al%40ice:p%40ss%3Aw%2Frd%20%C3%A9@Mail.Example.com")
        #expect(relay.security == .startTLS)
        #expect(relay.host == "mail.example.com")
        #expect(relay.port == 587)
        #expect(relay.credentials == SMTPRelay.Credentials(user: "al@ice", password: "p@ss:w/rd é"))
    }

    @Test("smtps URL is implicit TLS on port 465")

    func smtpsUrlIsImplicitTlsOnPort465() throws {
        let relay = try SMTPRelay(url: "SMTPS://relay.example.net:2465/")
        #expect(relay.security == .implicitTLS)
        #expect(relay.port == 2465)
        #expect(relay.credentials == nil)
    }

    @Test("smtp+plain is allowed to loopback", arguments: ["localhost", "127.0.0.1", "127.8.9.10", "[::1]"])
    func smtpPlainIsAllowedToLoopback(host: String) throws {
        let relay = try SMTPRelay(url: "smtp+plain://\(host):2525")
        #expect(relay.security == .plain)
        #expect(relay.port == 2525)
        #expect(relay.host == host.trimmingCharacters(in: ["[", "]"]))
    }

    @Test("smtp+plain to another host is refused", arguments: ["mail.example.com", "10.0.0.1", "[2001:db8::1]", "128.0.0.1", "localhost.example.com"])
    func smtpPlainToAnotherHostIsRefused(host: String) {
        let error = #expect(throws: InvalidSMTPRelay.self) { try SMTPRelay(url: "smtp+plain://\(host)") }
        #expect(error?.reason.contains("only allowed to a loopback host") == true)
    }

    @Test("an IPv6 host keeps its brackets in the description only")

    func anIpv6HostKeepsItsBracketsInTheDescriptionOnly() throws {
        let relay = try SMTPRelay(url: "smtps://u:p@[2001:DB8::1]:465")
        #expect(relay.host == "2001:db8::1")
        #expect(relay.description == "smtps://u@[2001:db8::1]:465")
    }

    @Test("the description shows the user and never the password")

    func theDescriptionShowsTheUserAndNeverThePassword() throws {
        let relay = try SMTPRelay(url: "smtp://ops%40example.com:hunter2@mail.example.com")
        #expect(relay.description == "smtp://ops%40example.com@mail.example.com:587")
        #expect(!"\(relay)".contains("hunter2"))
    }

    @Test("a bad URL is refused saying what is wrong", arguments: [
        ("mail.example.com", "it has no scheme"),
        ("http://mail.example.com", "the scheme 'http' is not smtp, smtps or smtp+plain"),
        ("smtp://", "the host is missing"),
        ("smtp://mail.example.com:0", "the port '0' is not a number from 1 to 65535"),
        ("smtp://mail.example.com:99999", "the port '99999' is not a number from 1 to 65535"),
        ("smtp://mail.example.com:25x", "the port '25x' is not a number from 1 to 65535"),
        ("smtp://mail.example.com/path", "a path, query or fragment is not allowed"),
        ("smtp://mail.example.com?x=1", "a path, query or fragment is not allowed"),
        ("smtp://user@mail.example.com", "the user 'user' has no password"),
        ("smtp://user:@mail.example.com", "the password of 'user' is empty"),
        ("smtp://:secret@mail.example.com", "the user name is empty or not percent-encoded correctly"),
        ("smtp://user:bad%zzsecret@mail.example.com", "the password is not percent-encoded correctly"),
        ("smtp://mail_relay.example.com", "'mail_relay.example.com' is not a host name or IP address"),
        ("smtp://[::1", "the IPv6 address has no closing ']'"),
        ("smtp://[nothing]:25", "'nothing' is not an IPv6 address"),
    ])
    func aBadURLIsRefusedSayingWhatIsWrong(url: String, reason: String) {
        let error = #expect(throws: InvalidSMTPRelay.self) { try SMTPRelay(url: url) }
        #expect(error?.reason == reason)
        #expect(error?.description.contains("accepted forms: smtp://[user[:password]@]host[:port]") == true)
    }

    @Test("no message about a bad URL holds its password")

    func noMessageAboutABadUrlHoldsItsPassword() {
        for url in ["smtp://user:hunter2@bad_host", "smtp+plain://user:hunter2@mail.example.com", "smtp://user:hunter2@host:70000"] {
            let error = #expect(throws: InvalidSMTPRelay.self) { try SMTPRelay(url: url) }
            #expect(error.map { !"\($0)".contains("hunter2") } == true, "\(url)")
        }
    }
}
