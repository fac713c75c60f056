import CheckCatalog
import Foundation
import Logging
import SMTP
import Testing
import TestSupport

@testable import Alerting

/// Email channels end to end: the courier composes the alert's message and sends it through a
/// real SMTP server on loopback (aiosmtpd, STARTTLS and AUTH), which parses it with Python's
/// `email` package; the outbox retries a 4xx and gives up on a 5xx.
@Suite(.timeLimit(.minutes(2)))
struct EmailChannelTests {
    static let quick = SMTPClient.Timeouts(connect: .seconds(5), greeting: .seconds(5), command: .seconds(5), endOfData: .seconds(2))

    func mailer(_ server: SMTPTestServer, password: String = SMTPTestServer.encodedPassword, scheme: String = "smtp", trust: String? = nil) throws
        -> SMTPMailer
    {
        let relay = try SMTPRelay(url: "\(scheme)://\(SMTPTestServer.user):\(password)@localhost:\(server.port)")
        let client = SMTPClient(timeouts: Self.quick, trustRoots: .file(trust ?? server.caFile), heloName: "kiothc.example.com")
        return SMTPMailer(relay: relay, sender: try MailAddress("alerts@example.com"), client: client)
    }

    let channel = Channel(
        name: "mail", kind: .email(Channel.Email(to: ["ops@example.com", "zoe@example.com"], cc: ["lead@example.com"])), on: [.down, .up],
        location: here)

    func alert(_ direction: Channel.Direction = .down) -> Alert {
        let values = AlertValues(
            name: "Sauvegarde <nuit> — Zoë", slug: "sauvegarde-nuit-zoe", code: "0b7c4a5e-0000-4000-8000-00000000000a", status: direction.rawValue,
            now: "2026-03-29T23:00:00Z", tags: "prod db", project: "Ops Team", exitStatus: "3", body: "disk full\n.hidden line\n",
            schedule: "0 2 * * * (Europe/Riga), grace 30 minutes", lastPing: "2026-03-29T22:58:10Z")
        return Alert(check: UUID(), project: "ops", channel: "mail", direction: direction, flipTime: 0, created: 1_790_000_000_000_000, values: values)
    }

    @Test("a down alert arrives as one multipart message: subject, headers, both parts with the facts, the relay's reply recorded")
    func delivered() async throws {
        let server = try await SMTPTestServer.startForTest()
        defer { server.stop() }
        let courier = Courier(environment: [:], baseURL: "https://hc.example.com", mailer: try mailer(server))
        let alert = alert()
        let attempt = await courier.deliver(alert, via: channel, at: 5)
        #expect(attempt.outcome == .delivered, "\(attempt.error ?? "")")
        #expect(attempt.reply == "250 2.0.0 Ok: queued as KIOTHC1")
        #expect(attempt.statusCode == nil)

        let received = try #require(try server.messages().first)
        #expect(received.tls)
        #expect(received.authenticatedAs == SMTPTestServer.user)
        #expect(received.mailFrom == "alerts@example.com")
        #expect(received.rcptTos == ["ops@example.com", "zoe@example.com", "lead@example.com"])
        let parsed = received.parsed
        #expect(parsed.defects.isEmpty)
        #expect(parsed.subject == "DOWN | Sauvegarde <nuit> — Zoë")
        #expect(parsed.from == [.init(displayName: "", addrSpec: "alerts@example.com")])
        #expect(parsed.to == [.init(displayName: "", addrSpec: "ops@example.com"), .init(displayName: "", addrSpec: "zoe@example.com")])
        #expect(parsed.cc == [.init(displayName: "", addrSpec: "lead@example.com")])
        #expect(parsed.date == "2026-09-21T14:13:20+00:00")
        #expect(parsed.headers["message-id"] == ["<\(alert.id.uuidString.lowercased())@example.com>"])
        #expect(parsed.headers["auto-submitted"] == ["auto-generated"])
        #expect(parsed.headers["x-kiothc-check"] == ["0b7c4a5e-0000-4000-8000-00000000000a"])
        #expect(parsed.headers["x-kiothc-status"] == ["down"])
        #expect(parsed.contentType == "multipart/alternative")
        #expect(parsed.parts.map(\.contentType) == ["text/plain", "text/html"])
        let text = try #require(parsed.parts.first?.content).replacingOccurrences(of: "\r\n", with: "\n")
        #expect(
            text == """
                Sauvegarde <nuit> — Zoë is down.

                Project: Ops Team
                Tags: prod db
                Schedule: 0 2 * * * (Europe/Riga), grace 30 minutes
                Down since: 2026-03-29T23:00:00Z
                Last ping: 2026-03-29T22:58:10Z
                Exit status: 3

                Last ping body:
                disk full
                .hidden line


                https://hc.example.com/checks/0b7c4a5e-0000-4000-8000-00000000000a

                """)
        let html = try #require(parsed.parts.last?.content)
        #expect(html.contains("<h2 style=\"color:#c0392b\">Sauvegarde &lt;nuit&gt; — Zoë is down.</h2>"))
        #expect(html.contains("<th align=\"left\" style=\"padding:2px 12px 2px 0\">Exit status</th><td>3</td>"))
        #expect(html.contains("<a href=\"https://hc.example.com/checks/0b7c4a5e-0000-4000-8000-00000000000a\">"))
        #expect(!html.contains("<nuit>"))
    }

    @Test("a refused AUTH is a permanent failure with the 535, no mail, no password in the record")
    func authRefused() async throws {
        let server = try await SMTPTestServer.startForTest(mode: .refuseAuth)
        defer { server.stop() }
        let courier = Courier(environment: [:], mailer: try mailer(server))
        let attempt = await courier.deliver(alert(), via: channel, at: 5)
        #expect(attempt.outcome == .failed)
        #expect(attempt.permanent)
        #expect(attempt.reply?.hasPrefix("535") == true, "\(attempt.reply ?? "")")
        let error = attempt.error ?? ""
        #expect(error.contains("AUTH PLAIN"), "\(error)")
        #expect(!error.contains("p@ss") && !error.contains("p%40ss"))
        #expect(try server.messages().isEmpty)
    }

    @Test("through the outbox: a 4xx is retried and then delivered; a 5xx at the end of DATA is given up at once")
    func retries() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let s: Int64 = 1_000_000
        let tempfail = try await SMTPTestServer.startForTest(mode: .tempfailOnce)
        defer { tempfail.stop() }
        let outbox = try Outbox(directory: directory, now: 0)
        let courier = Courier(environment: [:], mailer: try mailer(tempfail))
        let dispatcher = AlertDispatcher(queue: outbox, courier: courier, channel: { _, _ in channel }, logger: Logger(label: "test"))
        let first = alert()
        try await outbox.enqueue([first])
        let retry = try #require(await dispatcher.tick(at: first.created))
        #expect(retry > first.created + 7 * s && retry < first.created + 13 * s, "retried 10 s ± 20 % later")
        #expect(try tempfail.messages().isEmpty)
        #expect(await dispatcher.tick(at: retry) == nil)
        #expect(try tempfail.messages().count == 1)
        let record = try #require(await outbox.record(of: first.id))
        #expect(record.state == .delivered)
        #expect(record.attempts.map(\.outcome) == [.failed, .delivered])
        #expect(record.attempts.first?.reply?.hasPrefix("451") == true)
        #expect(record.attempts.first?.permanent == false)

        let rejecting = try await SMTPTestServer.startForTest(mode: .rejectData)
        defer { rejecting.stop() }
        let refusing = AlertDispatcher(
            queue: outbox, courier: Courier(environment: [:], mailer: try mailer(rejecting)), channel: { _, _ in channel }, logger: Logger(label: "test"))
        let second = alert(.up)
        try await outbox.enqueue([second])
        #expect(await refusing.tick(at: second.created) == nil, "nothing left to retry")
        let refused = try #require(await outbox.record(of: second.id))
        #expect(refused.state == .gaveUp)
        #expect(refused.attempts.count == 1)
        #expect(refused.attempts.first?.reply?.hasPrefix("554") == true)
    }

    @Test("a server that stalls mid-DATA is a timeout naming DATA, within the step's limit")
    func stall() async throws {
        let server = try await SMTPTestServer.startForTest(mode: .stallData)
        defer { server.stop() }
        let courier = Courier(environment: [:], mailer: try mailer(server))
        let started = ContinuousClock.now
        let attempt = await courier.deliver(alert(), via: channel, at: 5)
        let took = ContinuousClock.now - started
        #expect(attempt.outcome == .failed)
        #expect(!attempt.permanent, "a timeout may pass later")
        #expect(attempt.error?.contains("DATA") == true, "\(attempt.error ?? "")")
        #expect(took >= .seconds(2) && took < .seconds(10))
    }

    @Test("a relay certificate that does not verify is refused before anything is sent")
    func untrusted() async throws {
        let server = try await SMTPTestServer.startForTest()
        defer { server.stop() }
        let courier = Courier(environment: [:], mailer: try mailer(server, trust: server.otherCAFile))
        let attempt = await courier.deliver(alert(), via: channel, at: 5)
        #expect(attempt.outcome == .failed)
        #expect(attempt.permanent)
        #expect(attempt.error?.contains("STARTTLS") == true, "\(attempt.error ?? "")")
        #expect(try server.commands().map(\.command) == ["EHLO", "STARTTLS"])
        #expect(try server.messages().isEmpty)
    }

    @Test("without a relay, an email channel's attempt fails saying how to give one")
    func noRelay() async {
        let attempt = await Courier(environment: [:]).deliver(alert(), via: channel, at: 5)
        #expect(attempt.outcome == .failed)
        #expect(attempt.error == "the server has no SMTP relay for email channels: start it with --smtp URL (or KIOTHC_SMTP)")
    }
}
