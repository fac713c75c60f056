import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One delivery's conversation with the relay, step by step. Each step either gets the reply
/// it needs or throws an `SMTPError` naming itself.
struct SMTPSession: Sendable {
    private let connection: SMTPConnection
    private let relay: SMTPRelay
    private let client: SMTPClient
    private let tls: SMTPConnection.TLS?
    /// The EHLO keywords (upper-cased) with their parameters, once greeted.
    private var extensions: [String: [String]] = [:]

    private init(connection: SMTPConnection, relay: SMTPRelay, client: SMTPClient, tls: SMTPConnection.TLS?) {
        self.connection = connection
        self.relay = relay
        self.client = client
        self.tls = tls
    }

    /// Connects and, on `smtps://`, completes the TLS handshake.
    static func open(relay: SMTPRelay, client: SMTPClient) async throws(SMTPError) -> SMTPSession {
        var tls: SMTPConnection.TLS?
        if relay.security != .plain {
            do {
                let name = client.tlsServerName ?? (Self.isIPAddress(relay.host) ? nil : relay.host)
                tls = SMTPConnection.TLS(context: try client.tlsContext, serverHostname: name)
            } catch {
                throw SMTPError(
                    step: relay.security == .implicitTLS ? .tlsHandshake : .startTLS, relay: relay.description,
                    reason: "cannot load the TLS trust roots: \(error)", permanence: .permanent)
            }
        }
        let connection: SMTPConnection
        do {
            connection = try await SMTPConnection.connect(
                host: relay.host, port: relay.port, implicitTLS: relay.security == .implicitTLS ? tls : nil,
                timeout: TimeAmount(client.timeouts.connect), group: client.eventLoopGroup)
        } catch {
            throw SMTPError(
                step: .connect, relay: relay.description, reason: "cannot connect to \(relay.host) port \(relay.port): \(Self.describe(error))",
                permanence: .transient)
        }
        let session = SMTPSession(connection: connection, relay: relay, client: client, tls: tls)
        if relay.security == .implicitTLS {
            do {
                try await connection.handshake(within: TimeAmount(client.timeouts.greeting))
            } catch {
                await connection.close()
                throw session.error(.tlsHandshake, error)
            }
        }
        return session
    }

    /// Greeting, EHLO and, on `smtp://`, STARTTLS and EHLO again. Refuses a relay that does not
    /// offer STARTTLS on `smtp://` before anything else is sent.
    mutating func greet() async throws(SMTPError) {
        let greeting = try await reply(.greeting, within: client.timeouts.greeting)
        guard greeting.code == 220 else { throw SMTPError.refused(.greeting, relay: relay, reply: greeting) }
        try await ehlo()
        guard relay.security == .startTLS, let tls else { return }
        guard extensions["STARTTLS"] != nil else {
            throw SMTPError(
                step: .startTLS, relay: relay.description,
                reason: "the server does not offer STARTTLS, which smtp:// requires; nothing was sent "
                    + "(use smtps:// for a relay with implicit TLS, or smtp+plain:// for a relay on loopback)",
                permanence: .permanent)
        }
        try await command("STARTTLS", step: .startTLS, expecting: 220)
        do {
            try await connection.startTLS(tls, within: TimeAmount(client.timeouts.greeting))
        } catch {
            throw self.error(.startTLS, error)
        }
        try await ehlo()
    }

    /// AUTH when the relay URL has credentials: PLAIN when offered, else LOGIN.
    func authenticate() async throws(SMTPError) {
        guard let credentials = relay.credentials else { return }
        let mechanisms = Set((extensions["AUTH"] ?? []).map { $0.uppercased() })
        if mechanisms.contains("PLAIN") {
            let response = Data(([0] + Array(credentials.user.utf8) + [0] + Array(credentials.password.utf8))).base64EncodedString()
            try await command("AUTH PLAIN \(response)", step: .auth(mechanism: "PLAIN"), expecting: 235)
        } else if mechanisms.contains("LOGIN") {
            let step = SMTPStep.auth(mechanism: "LOGIN")
            try await command("AUTH LOGIN", step: step, expecting: 334)
            try await command(Data(credentials.user.utf8).base64EncodedString(), step: step, expecting: 334)
            try await command(Data(credentials.password.utf8).base64EncodedString(), step: step, expecting: 235)
        } else {
            let offered = mechanisms.isEmpty ? "no AUTH at all" : "only AUTH \(mechanisms.sorted().joined(separator: " "))"
            throw SMTPError(
                step: .auth(mechanism: "PLAIN or LOGIN"), relay: relay.description,
                reason: "the relay URL has credentials but the server offers \(offered); nothing was sent", permanence: .permanent)
        }
    }

    /// MAIL FROM, RCPT TO each recipient, DATA, the message: the reply to its end.
    func transfer(_ data: [UInt8], from sender: MailAddress, to recipients: [MailAddress]) async throws(SMTPError) -> SMTPReply {
        try await command("MAIL FROM:<\(sender.address)>", step: .mailFrom(sender.address), expecting: 250)
        for recipient in recipients {
            try await command("RCPT TO:<\(recipient.address)>", step: .rcptTo(recipient.address), expecting: 250, 251)
        }
        try await command("DATA", step: .data, expecting: 354)
        let timeout = TimeAmount(client.timeouts.endOfData)
        do {
            try await connection.write(DotStuffing.terminated(data), within: timeout)
        } catch {
            throw self.error(.endOfData, error)
        }
        let reply = try await reply(.endOfData, within: client.timeouts.endOfData)
        guard reply.code == 250 else { throw SMTPError.refused(.endOfData, relay: relay, reply: reply) }
        return reply
    }

    /// QUIT, for politeness only: the message is already accepted, so nothing here fails.
    func quit() async {
        let timeout = TimeAmount(min(client.timeouts.command, .seconds(5)))
        try? await connection.write(Array("QUIT\r\n".utf8), within: timeout)
        _ = try? await connection.reply(within: timeout)
        await connection.close()
    }

    func close() async {
        await connection.close()
    }

    private mutating func ehlo() async throws(SMTPError) {
        let reply = try await command("EHLO \(client.heloName)", step: .ehlo, expecting: 250)
        extensions = [:]
        for line in reply.lines.dropFirst() {
            // "AUTH PLAIN LOGIN", and the old "AUTH=PLAIN LOGIN" some servers still send.
            let words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map(String.init)
            guard let keyword = words.first?.uppercased() else { continue }
            extensions[keyword, default: []] += words.dropFirst()
        }
    }

    /// Sends `line` and requires one of the `expected` codes.
    @discardableResult
    private func command(_ line: String, step: SMTPStep, expecting expected: Int...) async throws(SMTPError) -> SMTPReply {
        do {
            try await connection.write(Array("\(line)\r\n".utf8), within: TimeAmount(client.timeouts.command))
        } catch {
            throw self.error(step, error)
        }
        let reply = try await reply(step, within: client.timeouts.command)
        guard expected.contains(reply.code) else { throw SMTPError.refused(step, relay: relay, reply: reply) }
        return reply
    }

    private func reply(_ step: SMTPStep, within timeout: Duration) async throws(SMTPError) -> SMTPReply {
        do {
            return try await connection.reply(within: TimeAmount(timeout))
        } catch {
            throw self.error(step, error)
        }
    }

    /// The `SMTPError` of a step whose connection failed.
    private func error(_ step: SMTPStep, _ failure: ConnectionFailure) -> SMTPError {
        switch failure {
        case .timedOut(let timeout):
            return SMTPError(step: step, relay: relay.description, reason: "no answer within \(Self.describe(timeout))", permanence: .transient)
        case .closed:
            return SMTPError(step: step, relay: relay.description, reason: "the server closed the connection", permanence: .transient)
        case .malformed(let reason):
            return SMTPError(step: step, relay: relay.description, reason: "the server sent \(reason)", permanence: .transient)
        case .transport(let error as NIOSSLError):
            // A handshake that failed on TLS itself (a certificate that does not verify, no
            // common protocol) fails the same way next time; a broken connection may not.
            guard case .handshakeFailed = error else {
                return SMTPError(step: step, relay: relay.description, reason: "TLS failed: \(error)", permanence: .transient)
            }
            let reason =
                "\(error)".contains("CERTIFICATE_VERIFY_FAILED")
                ? "the relay's certificate does not verify: it is not signed by a trusted CA, or it has expired (CERTIFICATE_VERIFY_FAILED)"
                : "the TLS handshake failed: \(error)"
            return SMTPError(step: step, relay: relay.description, reason: reason, permanence: .permanent)
        case .transport(let error as NIOSSLExtraError) where error == .failedToValidateHostname:
            let name = tls?.serverHostname ?? relay.host
            return SMTPError(
                step: step, relay: relay.description, reason: "the relay's certificate does not hold the name '\(name)'", permanence: .permanent)
        case .transport(let error):
            return SMTPError(step: step, relay: relay.description, reason: Self.describe(error), permanence: .transient)
        }
    }

    private static func describe(_ timeout: TimeAmount) -> String {
        let milliseconds = timeout.nanoseconds / 1_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) }
            if error.dnsAError ?? error.dnsAAAAError != nil { return "the name does not resolve" }
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        return "\(error)"
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
