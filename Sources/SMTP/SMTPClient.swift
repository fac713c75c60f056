import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends mail through a relay (RFC 5321): connect, greeting, EHLO, STARTTLS and EHLO again
/// (`smtp://`), AUTH PLAIN or LOGIN when the relay URL has credentials, MAIL FROM, RCPT TO for
/// each recipient, DATA, QUIT. One connection per message; every step bounded in time.
public struct SMTPClient: Sendable {
    /// How long each step may take.
    public struct Timeouts: Sendable {
        /// TCP connect (and name resolution).
        public var connect: Duration
        /// The server's greeting, and each TLS handshake.
        public var greeting: Duration
        /// The reply to each command.
        public var command: Duration
        /// Sending the message and the reply to its final ".".
        public var endOfData: Duration

        public init(
            connect: Duration = .seconds(10), greeting: Duration = .seconds(10), command: Duration = .seconds(30), endOfData: Duration = .seconds(60)
        ) {
            self.connect = connect
            self.greeting = greeting
            self.command = command
            self.endOfData = endOfData
        }
    }

    public var timeouts: Timeouts
    /// The certificates a relay's certificate must chain to: the system's by default; a CA
    /// file (`.file(path)`) for a private relay and for tests.
    public var trustRoots: NIOSSLTrustRoots
    /// The name the relay's certificate must hold (and TLS's SNI): the relay's host by default.
    public var tlsServerName: String?
    /// The name this client gives in EHLO: the one given when usable, else this machine's
    /// name when it has a dot, else `localhost`.
    public var heloName: String
    let eventLoopGroup: any EventLoopGroup

    public init(
        timeouts: Timeouts = Timeouts(), trustRoots: NIOSSLTrustRoots = .default, tlsServerName: String? = nil, heloName: String? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.timeouts = timeouts
        self.trustRoots = trustRoots
        self.tlsServerName = tlsServerName
        self.heloName = heloName.flatMap(Self.usableName) ?? Self.usableName(ProcessInfo.processInfo.hostName) ?? "localhost"
        self.eventLoopGroup = eventLoopGroup
    }

    /// Sends `message` (rendered here) to `recipients` (To and Cc by default: Bcc is simply a
    /// recipient not in the headers). Returns the server's reply to the end of the data
    /// (`250 2.0.0 Ok: queued as …`); throws only `SMTPError`.
    @discardableResult
    public func send(
        _ message: MailMessage, relay: SMTPRelay, from sender: MailAddress? = nil, to recipients: [MailAddress]? = nil
    ) async throws(SMTPError) -> SMTPReply {
        try await send(data: message.rendered(), relay: relay, from: sender ?? message.from, to: recipients ?? message.recipients)
    }

    /// Sends `data`, a complete message (headers, blank line, body), dot-stuffed here.
    @discardableResult
    public func send(data: [UInt8], relay: SMTPRelay, from sender: MailAddress, to recipients: [MailAddress]) async throws(SMTPError) -> SMTPReply {
        guard !recipients.isEmpty else {
            throw SMTPError(step: .rcptTo(""), relay: relay.description, reason: "the message has no recipient", permanence: .permanent)
        }
        var session = try await SMTPSession.open(relay: relay, client: self)
        do {
            try await session.greet()
            try await session.authenticate()
            let reply = try await session.transfer(data, from: sender, to: recipients)
            await session.quit()
            return reply
        } catch {
            await session.close()
            throw error
        }
    }

    var tlsContext: NIOSSLContext {
        get throws {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = trustRoots
            configuration.certificateVerification = .fullVerification
            configuration.minimumTLSVersion = .tlsv12
            return try NIOSSLContext(configuration: configuration)
        }
    }

    /// `name` when it can follow EHLO: a domain name with a dot or an address literal
    /// (`[192.0.2.1]`); nil otherwise.
    private static func usableName(_ name: String) -> String? {
        let allowed = name.utf8.allSatisfy { $0.isASCIILetterOrDigit || Set(".-[]:".utf8).contains($0) }
        return allowed && (name.contains(".") || name.hasPrefix("[")) && name.utf8.count <= 255 ? name : nil
    }
}
