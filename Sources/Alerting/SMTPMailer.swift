import CheckCatalog
import Foundation
import SMTP

/// Email channels' delivery: each alert is one message from the server's sender (`--smtp-from`)
/// through its relay (`--smtp`), multipart text and HTML, sent to the channel's `to` and `cc`.
/// The relay's reply is recorded with the attempt; a permanent refusal (5xx, a certificate that
/// does not verify, a relay without STARTTLS) is not retried.
public struct SMTPMailer: Mailer {
    public let relay: SMTPRelay
    public let sender: MailAddress
    let client: SMTPClient

    public init(relay: SMTPRelay, sender: MailAddress, client: SMTPClient = SMTPClient()) {
        self.relay = relay
        self.sender = sender
        self.client = client
    }

    public func send(_ message: AlertMessage, alert: Alert, to recipients: Channel.Email, at now: Int64) async -> Attempt {
        let mail: MailMessage
        do {
            mail = try Self.mail(message, alert: alert, from: sender, to: recipients)
        } catch {
            // Addresses were validated with the configuration; this is a bug or a hand edit.
            return Attempt(time: now, outcome: .failed, error: "cannot write the message: \(error)", permanent: true)
        }
        do {
            let reply = try await client.send(mail, relay: relay)
            return Attempt(time: now, outcome: .delivered, reply: "\(reply)")
        } catch {
            return Attempt(time: now, outcome: .failed, error: "\(error)", permanent: error.isPermanent, reply: error.reply.map { "\($0)" })
        }
    }

    /// The message of an alert: subject `DOWN | <name>`, the text and HTML forms of the same
    /// facts, and headers that say which check and what happened (for mail filters). Dated when
    /// the alert was queued.
    static func mail(_ message: AlertMessage, alert: Alert, from sender: MailAddress, to recipients: Channel.Email) throws -> MailMessage {
        let to = try recipients.to.map { address throws(InvalidMailAddress) in try MailAddress(address) }
        let cc = try recipients.cc.map { address throws(InvalidMailAddress) in try MailAddress(address) }
        let headers = [
            try MailHeader("X-Kiothc-Check", alert.values.code),
            try MailHeader("X-Kiothc-Status", message.tone.rawValue),
        ]
        return MailMessage(
            from: sender, to: to, cc: cc, subject: message.subject, text: message.text + "\n", html: message.html, extraHeaders: headers,
            // The same Message-ID on every try: a message sent twice (a crash between the relay's
            // 250 and its record) can be told as one by whoever reads it.
            date: Date(timeIntervalSince1970: Double(alert.created) / 1_000_000),
            messageID: "<\(alert.id.uuidString.lowercased())@\(sender.domain)>")
    }
}
