import Alerting
import ArgumentParser
import Foundation
import SMTP

/// `--smtp`, `--smtp-from`, `--smtp-ca-file`: serve. The relay email channels send through
/// (SPEC §12); none: email channels fail their attempts, saying so.
struct SMTPOptions: ParsableArguments {
    @Option(
        name: .long,
        help: Settings.smtp.help(
            "The SMTP relay of email channels: smtp://USER:PASSWORD@HOST:587 (STARTTLS required: credentials are never sent in clear), smtps://USER:PASSWORD@HOST:465 (TLS from the start), or smtp+plain://127.0.0.1:25 (no TLS, loopback only).",
            valueName: "url"))
    var smtp: String?

    @Option(name: .customLong("smtp-from"), help: Settings.smtpFrom.help("The sender of alert emails (needed with --smtp).", valueName: "address"))
    var smtpFrom: String?

    @Option(
        name: .customLong("smtp-ca-file"),
        help: Settings.smtpCAFile.help("PEM certificates the relay's certificate must chain to, instead of the system's (a private relay).", valueName: "file"))
    var smtpCAFile: String?

    /// The mailer, or nil without `--smtp`; refused with what to do when a value is wrong.
    func resolved(_ environment: Environment) throws -> SMTPMailer? {
        let url = try environment.optional(smtp, Settings.smtp)
        let from = try environment.optional(smtpFrom, Settings.smtpFrom)
        let caFile = try environment.optional(smtpCAFile, Settings.smtpCAFile)
        guard let url else {
            if from != nil || caFile != nil {
                throw ValidationError("--smtp-from and --smtp-ca-file need --smtp (or KIOTHC_SMTP), the relay to send through")
            }
            return nil
        }
        let relay: SMTPRelay
        do {
            relay = try SMTPRelay(url: url)
        } catch {
            throw ValidationError("--smtp: \(error)")
        }
        guard let from else {
            throw ValidationError("--smtp needs --smtp-from (or KIOTHC_SMTP_FROM), the sender of alert emails, e.g. kiothc@example.com")
        }
        let sender: MailAddress
        do {
            sender = try MailAddress(from)
        } catch {
            throw ValidationError("--smtp-from: \(error)")
        }
        var client = SMTPClient()
        if let caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw ValidationError("--smtp-ca-file: '\(caFile)' cannot be read")
            }
            client.trustRoots = .file(caFile)
        }
        return SMTPMailer(relay: relay, sender: sender, client: client)
    }
}
