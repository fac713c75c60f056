/// A step of a delivery, as errors name it.
public enum SMTPStep: Sendable, Equatable, CustomStringConvertible {
    case connect
    /// The TLS handshake of `smtps://`, from the first byte.
    case tlsHandshake
    case greeting
    case ehlo
    /// The STARTTLS command and the handshake after it.
    case startTLS
    case auth(mechanism: String)
    case mailFrom(String)
    case rcptTo(String)
    /// The DATA command, answered 354.
    case data
    /// Sending the message and the reply to its final ".".
    case endOfData

    public var description: String {
        switch self {
        case .connect: "connect"
        case .tlsHandshake: "TLS handshake"
        case .greeting: "greeting"
        case .ehlo: "EHLO"
        case .startTLS: "STARTTLS"
        case .auth(let mechanism): "AUTH \(mechanism)"
        case .mailFrom(let address): "MAIL FROM <\(address)>"
        case .rcptTo(let address): "RCPT TO <\(address)>"
        case .data: "DATA"
        case .endOfData: "DATA (end of message)"
        }
    }
}

/// Why a message was not delivered: the step, the server's reply when it gave one, and whether
/// trying again can help.
///
/// Permanent: a 5xx reply, and what only a change of configuration mends (a relay without
/// STARTTLS on `smtp://`, a certificate that does not verify, no AUTH mechanism we speak).
/// Transient: a 4xx reply, a timeout, a refused or broken connection, a reply that is not SMTP.
/// It never holds the password nor what AUTH sent.
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public enum Permanence: Sendable, Equatable {
        case permanent
        case transient
    }

    public let step: SMTPStep
    /// The relay, without its password (`smtp://user@host:587`).
    public let relay: String
    /// The server's reply, when the step failed on one.
    public let reply: SMTPReply?
    /// What went wrong, in words.
    public let reason: String
    public let permanence: Permanence

    public init(step: SMTPStep, relay: String, reply: SMTPReply? = nil, reason: String, permanence: Permanence) {
        self.step = step
        self.relay = relay
        self.reply = reply
        self.reason = reason
        self.permanence = permanence
    }

    public var isPermanent: Bool { permanence == .permanent }

    /// `SMTP RCPT TO <a@b> failed at smtp://u@host:587: the server replied 550 5.1.1 unknown
    /// user (permanent failure)`
    public var description: String {
        "SMTP \(step) failed at \(relay): \(reason) (\(permanence == .permanent ? "permanent" : "transient") failure)"
    }

    /// The server answered `reply` where `step` needed something else: 5xx permanent, the rest
    /// (4xx, an unexpected code) transient.
    static func refused(_ step: SMTPStep, relay: SMTPRelay, reply: SMTPReply) -> SMTPError {
        SMTPError(
            step: step, relay: relay.description, reply: reply, reason: "the server replied \(reply)",
            permanence: (500...599).contains(reply.code) ? .permanent : .transient)
    }
}
