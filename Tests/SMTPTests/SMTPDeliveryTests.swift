import Foundation
import NIOSSL
import SMTP
import Testing
import TestSupport

/// The client against a real SMTP server (aiosmtpd, scripts/smtp/test-server.py) on loopback,
/// each message read back by Python's `email` package.
@Suite(.timeLimit(.minutes(2)))
struct SMTPDeliveryTests {
    private static let quick = SMTPClient.Timeouts(connect: .seconds(5), greeting: .seconds(5), command: .seconds(5), endOfData: .seconds(5))

    private func client(
        _ server: SMTPTestServer, timeouts: SMTPClient.Timeouts = quick, trust caFile: String? = nil, name: String? = nil
    ) -> SMTPClient {
        SMTPClient(timeouts: timeouts, trustRoots: .file(caFile ?? server.caFile), tlsServerName: name, heloName: "client.example.com")
    }

    private func relay(_ scheme: String, _ server: SMTPTestServer, host: String = "127.0.0.1", credentials: Bool = true) throws -> SMTPRelay {
        try SMTPRelay(url: "\(scheme)://\(credentials ? "\(SMTPTestServer.user):\(SMTPTestServer.encodedPassword)@" : "")\(host):\(server.port)")
    }

    private func message(to: [String] = ["ops@example.com"], text: String = "down\n", html: String? = "<p>down</p>") throws -> MailMessage {
        MailMessage(
            from: try MailAddress("alerts@example.com"), to: try to.map { try MailAddress($0) }, subject: "DOWN | backup", text: text, html: html)
    }

    /// The error `work` throws, or nil (recorded as an issue) when it succeeds.
    private func failure(_ work: () async throws -> Void) async -> SMTPError? {
        do {
            try await work()
            Issue.record("the send succeeded; an SMTPError was expected")
        } catch let error as SMTPError {
            return error
        } catch {
            Issue.record("\(error) is not an SMTPError")
        }
        return nil
    }

    private func verbs(_ server: SMTPTestServer) throws -> [String] {
        try server.commands().map(\.command)
    }

    @Test("a message arrives through STARTTLS and AUTH PLAIN with its headers and parts intact")

    func aMessageArrivesThroughStarttlsAndAuthPlainWithItsHeadersAndPartsIntact() async throws {
        let server = try await SMTPTestServer.startForTest()
        defer { server.stop() }
        let longLine = (1...300).map(String.init).joined(separator: "-")
        let text = "Zoë's backup is DOWN.\n.\n..double\n.hidden\n\(longLine)\nlast line ✓\n"
        let html = "<p>Zoë's <b>backup</b> is DOWN</p>\n.hidden\n<p>\(longLine)</p>\n"
        let message = MailMessage(
            from: try MailAddress("alerts@example.com", displayName: "Kiot Überwachung"),
            to: [try MailAddress("ops@example.com", displayName: "Smith, John"), try MailAddress("zoe@example.com", displayName: "Zoë Ø")],
            cc: [try MailAddress("lead@example.com")], subject: "DOWN | Sauvegarde de nuit — très importante 🚨", text: text, html: html,
            extraHeaders: [try MailHeader("X-Kiothc-Check", "5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b")],
            date: Date(timeIntervalSince1970: 1_796_575_465))
        let bcc = try MailAddress("audit@example.com")

        let reply = try await client(server).send(message, relay: relay("smtp", server), to: message.recipients + [bcc])

        #expect(reply.code == 250)
        #expect(reply.description == "250 2.0.0 Ok: queued as KIOTHC1")
        let received = try #require(try server.messages().first)
        #expect(received.mailFrom == "alerts@example.com")
        #expect(received.rcptTos == ["ops@example.com", "zoe@example.com", "lead@example.com", "audit@example.com"])
        #expect(received.tls)
        #expect(received.authenticatedAs == SMTPTestServer.user)
        let commands = try server.commands()
        #expect(commands.map(\.command) == ["EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "RCPT", "RCPT", "RCPT", "DATA", "QUIT"])
        let encrypted = commands.filter { $0.command != "EHLO" && $0.command != "STARTTLS" }.allSatisfy { $0.tls }
        #expect(encrypted)
        #expect(commands.first { $0.command == "AUTH" }?.argument == "PLAIN")

        let parsed = received.parsed
        #expect(parsed.defects.isEmpty)
        #expect(parsed.subject == "DOWN | Sauvegarde de nuit — très importante 🚨")
        #expect(parsed.from == [.init(displayName: "Kiot Überwachung", addrSpec: "alerts@example.com")])
        #expect(
            parsed.to == [.init(displayName: "Smith, John", addrSpec: "ops@example.com"), .init(displayName: "Zoë Ø", addrSpec: "zoe@example.com")])
        #expect(parsed.cc == [.init(displayName: "", addrSpec: "lead@example.com")])
        #expect(parsed.headers["bcc"] == nil)
        #expect(parsed.date == "2026-12-06T16:44:25+00:00")
        #expect(parsed.headers["message-id"] == [message.messageID])
        #expect(parsed.headers["auto-submitted"] == ["auto-generated"])
        #expect(parsed.headers["mime-version"] == ["1.0"])
        #expect(parsed.headers["x-kiothc-check"] == ["5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b"])
        #expect(parsed.contentType == "multipart/alternative")
        #expect(parsed.parts.map(\.contentType) == ["text/plain", "text/html"])
        #expect(parsed.parts.allSatisfy { $0.charset == "utf-8" && $0.transferEncoding == "quoted-printable" })
        #expect(parsed.parts.first?.content.replacingOccurrences(of: "\r\n", with: "\n") == text)
        #expect(parsed.parts.last?.content.replacingOccurrences(of: "\r\n", with: "\n") == html)

        // The message really had lines starting with "." (so SMTP's dot-stuffing was needed), and
        // no line longer than 78.
        let raw = String(decoding: received.raw, as: UTF8.self)
        #expect(raw.contains("\r\n.hidden\r\n") && raw.contains("\r\n..double\r\n") && raw.contains("\r\n.\r\n"))
        #expect(raw.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(received.raw.allSatisfy { $0 < 128 })
    }

    @Test("AUTH LOGIN is used when the server offers no PLAIN")

    func authLoginIsUsedWhenTheServerOffersNoPlain() async throws {
        let server = try await SMTPTestServer.startForTest(auth: ["LOGIN"])
        defer { server.stop() }
        try await client(server).send(try message(), relay: relay("smtp", server))
        #expect(try server.messages().first?.authenticatedAs == SMTPTestServer.user)
        #expect(try server.commands().first { $0.command == "AUTH" }?.argument == "LOGIN")
    }

    @Test("smtps speaks TLS from the first byte and checks the certificate by host name")

    func smtpsSpeaksTlsFromTheFirstByteAndChecksTheCertificateByHostName() async throws {
        let server = try await SMTPTestServer.startForTest(tls: .implicit)
        defer { server.stop() }
        let reply = try await client(server).send(try message(), relay: relay("smtps", server, host: "localhost"))
        #expect(reply.code == 250)
        #expect(try server.messages().first?.tls == true)
        #expect(try verbs(server) == ["EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"])
    }

    @Test("smtp+plain delivers to loopback without TLS or AUTH")

    func smtpPlainDeliversToLoopbackWithoutTlsOrAuth() async throws {
        let server = try await SMTPTestServer.startForTest(tls: .none, auth: [])
        defer { server.stop() }
        try await client(server).send(try message(html: nil), relay: relay("smtp+plain", server, credentials: false))
        let received = try #require(try server.messages().first)
        #expect(!received.tls)
        #expect(received.parsed.contentType == "text/plain")
        #expect(received.parsed.parts.first?.content.replacingOccurrences(of: "\r\n", with: "\n") == "down\n")
    }

    @Test("a refused AUTH is permanent with the 535, and no mail is sent")

    func aRefusedAuthIsPermanentWithThe535AndNoMailIsSent() async throws {
        let server = try await SMTPTestServer.startForTest(mode: .refuseAuth)
        defer { server.stop() }
        let relay = try relay("smtp", server)
        let error = await failure { try await client(server).send(try message(), relay: relay) }
        #expect(error?.step == .auth(mechanism: "PLAIN"))
        #expect(error?.reply?.code == 535)
        #expect(error?.isPermanent == true)
        let description = error.map { "\($0)" } ?? ""
        #expect(description.contains("AUTH PLAIN") && description.contains("535"))
        let plainResponse = Data(([0] + Array(SMTPTestServer.user.utf8) + [0] + Array(SMTPTestServer.password.utf8))).base64EncodedString()
        for secret in [SMTPTestServer.password, SMTPTestServer.encodedPassword, plainResponse] {
            #expect(!description.contains(secret))
        }
        #expect(!(try verbs(server)).contains("MAIL"))
        #expect(try server.messages().isEmpty)
    }

    @Test("a 4xx is transient with its code, and the next attempt delivers")

    func a4xxIsTransientWithItsCodeAndTheNextAttemptDelivers() async throws {
        let server = try await SMTPTestServer.startForTest(mode: .tempfailOnce)
        defer { server.stop() }
        let relay = try relay("smtp", server)
        let error = await failure { try await client(server).send(try message(), relay: relay) }
        #expect(error?.step == .mailFrom("alerts@example.com"))
        #expect(error?.reply?.code == 451)
        #expect(error?.permanence == .transient)
        #expect(error.map { "\($0)".contains("MAIL FROM <alerts@example.com>") && "\($0)".contains("451 4.3.0 Try again later") } == true)
        try await client(server).send(try message(), relay: relay)
        #expect(try server.messages().count == 1)
    }

    @Test("a refused recipient is permanent and named, and no data is sent")

    func aRefusedRecipientIsPermanentAndNamedAndNoDataIsSent() async throws {
        let server = try await SMTPTestServer.startForTest(mode: .rejectRecipient)
        defer { server.stop() }
        let relay = try relay("smtp", server)
        let error = await failure { try await client(server).send(try message(to: ["ops@example.com", "nobody@example.com"]), relay: relay) }
        #expect(error?.step == .rcptTo("nobody@example.com"))
        #expect(error?.reply?.code == 550)
        #expect(error?.isPermanent == true)
        #expect(error.map { "\($0)".contains("RCPT TO <nobody@example.com>") } == true)
        #expect(!(try verbs(server)).contains("DATA"))
    }

    @Test("a 5xx at the end of the data is permanent")

    func a5xxAtTheEndOfTheDataIsPermanent() async throws {
        let server = try await SMTPTestServer.startForTest(mode: .rejectData)
        defer { server.stop() }
        let relay = try relay("smtp", server)
        let error = await failure { try await client(server).send(try message(), relay: relay) }
        #expect(error?.step == .endOfData)
        #expect(error?.reply?.description == "554 5.6.0 Message refused as spam")
        #expect(error?.isPermanent == true)
    }

    @Test("a server that stalls mid-DATA times out naming DATA within the configured time")

    func aServerThatStallsMidDataTimesOutNamingDataWithinTheConfiguredTime() async throws {
        let server = try await SMTPTestServer.startForTest(mode: .stallData)
        defer { server.stop() }
        let relay = try relay("smtp", server)
        var timeouts = Self.quick
        timeouts.endOfData = .milliseconds(1500)
        let client = client(server, timeouts: timeouts)
        let started = ContinuousClock.now
        let error = await failure { try await client.send(try message(), relay: relay) }
        let elapsed = ContinuousClock.now - started
        #expect(error?.step == .endOfData)
        #expect(error?.reply == nil)
        #expect(error?.permanence == .transient)
        #expect(error.map { "\($0)".contains("DATA") && "\($0)".contains("no answer within 1500 ms") } == true)
        // The message names the timeout that fired (1500 ms, not the default 60 s); the upper
        // bound only rules out the default: under a full parallel test run the connection,
        // STARTTLS and AUTH before DATA took over 3.5 s twice.
        #expect(elapsed >= .milliseconds(1500) && elapsed < .seconds(30), "\(elapsed)")
    }

    @Test("a server that never greets times out at the greeting")

    func aServerThatNeverGreetsTimesOutAtTheGreeting() async throws {
        let server = try await SMTPTestServer.startForTest(mode: .silent)
        defer { server.stop() }
        var timeouts = Self.quick
        timeouts.greeting = .milliseconds(500)
        let relay = try relay("smtp", server)
        let client = client(server, timeouts: timeouts)
        let started = ContinuousClock.now
        let error = await failure { try await client.send(try message(), relay: relay) }
        #expect(error?.step == .greeting)
        #expect(error?.permanence == .transient)
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    /// Each with the CA that signed the server's certificate, but one: another CA.
    enum Mismatch: String, CaseIterable {
        /// The client trusts only another CA.
        case otherCA = "signed by a CA not trusted"
        /// The client checks for another name than the certificate's (localhost).
        case otherName = "for another name"
        /// The relay is an IP address the certificate does not hold.
        case otherAddress = "without the relay's IP address"
    }

    @Test("a certificate that does not verify is refused and nothing is sent", arguments: Mismatch.allCases)
    func aCertificateThatDoesNotVerifyIsRefusedAndNothingIsSent(_ mismatch: Mismatch) async throws {
        let server = try await SMTPTestServer.startForTest(certificate: mismatch == .otherCA ? .server : .localhost)
        defer { server.stop() }
        let relay = try relay("smtp", server)
        let client = client(server, trust: mismatch == .otherCA ? server.otherCAFile : nil, name: mismatch == .otherName ? "mail.example.com" : nil)
        let error = await failure { try await client.send(try message(), relay: relay) }
        #expect(error?.step == .startTLS)
        #expect(error?.isPermanent == true, "\(String(describing: error))")
        let reason = switch mismatch {
        case .otherCA: "the relay's certificate does not verify"
        case .otherName: "the relay's certificate does not hold the name 'mail.example.com'"
        case .otherAddress: "the relay's certificate does not hold the name '127.0.0.1'"
        }
        #expect(error?.reason.hasPrefix(reason) == true, "\(String(describing: error))")
        #expect(try verbs(server) == ["EHLO", "STARTTLS"])
    }

    @Test("an implicit TLS certificate that does not verify is refused at the handshake")

    func anImplicitTlsCertificateThatDoesNotVerifyIsRefusedAtTheHandshake() async throws {
        let server = try await SMTPTestServer.startForTest(tls: .implicit)
        defer { server.stop() }
        let relay = try relay("smtps", server)
        let error = await failure { try await client(server, trust: server.otherCAFile).send(try message(), relay: relay) }
        #expect(error?.step == .tlsHandshake)
        #expect(error?.isPermanent == true)
        #expect(try verbs(server).isEmpty)
    }

    @Test("smtp to a server without STARTTLS is refused before credentials or mail")

    func smtpToAServerWithoutStarttlsIsRefusedBeforeCredentialsOrMail() async throws {
        let server = try await SMTPTestServer.startForTest(tls: .none)
        defer { server.stop() }
        let relay = try relay("smtp", server)
        let error = await failure { try await client(server).send(try message(), relay: relay) }
        #expect(error?.step == .startTLS)
        #expect(error?.isPermanent == true)
        #expect(error.map { "\($0)".contains("does not offer STARTTLS") } == true)
        #expect(try verbs(server) == ["EHLO"])
    }

    @Test("a reply injected after the 220 to STARTTLS is refused")

    func aReplyInjectedAfterThe220ToStarttlsIsRefused() async throws {
        let server = try await SMTPTestServer.startForTest(mode: .startTLSInjection)
        defer { server.stop() }
        let relay = try relay("smtp", server)
        let error = await failure { try await client(server).send(try message(), relay: relay) }
        #expect(error?.step == .startTLS)
        #expect(error.map { "\($0)".contains("more after its reply to STARTTLS") } == true)
        #expect(try verbs(server) == ["EHLO", "STARTTLS"])
    }

    @Test("credentials with no AUTH offered are refused before any mail")

    func credentialsWithNoAuthOfferedAreRefusedBeforeAnyMail() async throws {
        let server = try await SMTPTestServer.startForTest(auth: [])
        defer { server.stop() }
        let relay = try relay("smtp", server)
        let error = await failure { try await client(server).send(try message(), relay: relay) }
        #expect(error?.step == .auth(mechanism: "PLAIN or LOGIN"))
        #expect(error?.isPermanent == true)
        #expect(try verbs(server) == ["EHLO", "STARTTLS", "EHLO"])
    }

    @Test("a closed port is a transient connect error")

    func aClosedPortIsATransientConnectError() async throws {
        let server = try await SMTPTestServer.startForTest()
        let relay = try relay("smtp", server)
        let client = client(server)
        server.stop()
        let error = await failure { try await client.send(try message(), relay: relay) }
        #expect(error?.step == .connect)
        #expect(error?.permanence == .transient)
        #expect(error?.reply == nil)
        #expect(error?.reason == "cannot connect to 127.0.0.1 port \(server.port): connection refused")
    }

    @Test("a host that does not resolve is a transient connect error")
    func aHostThatDoesNotResolveIsATransientConnectError() async throws {
        let relay = try SMTPRelay(url: "smtp://kiothc-test.invalid:587")
        let client = SMTPClient(timeouts: Self.quick)
        let error = await failure { try await client.send(try message(), relay: relay) }
        #expect(error?.step == .connect)
        #expect(error?.permanence == .transient)
        // "the name does not resolve" where DNS answers; a timeout where it does not.
        #expect(error?.reason.hasPrefix("cannot connect to kiothc-test.invalid port 587: ") == true)
    }

    @Test("a CA file that cannot be read fails before connecting")
    func aCAFileThatCannotBeReadFailsBeforeConnecting() async throws {
        // Port 9 on loopback: were a connection tried, it would be refused (step connect).
        let relay = try SMTPRelay(url: "smtp://127.0.0.1:9")
        let client = SMTPClient(timeouts: Self.quick, trustRoots: .file("/nonexistent/kiothc-ca.pem"))
        let error = await failure { try await client.send(try message(), relay: relay) }
        #expect(error?.step == .startTLS)
        #expect(error?.isPermanent == true)
        #expect(error?.reason.hasPrefix("cannot load the TLS trust roots") == true, "\(String(describing: error))")
    }
}
