import Foundation

/// What an alert says, whatever carries it (email, a chat, a pager): built once from the
/// alert's values, so every kind tells the same facts in the same words (SPEC §12).
public struct AlertMessage: Sendable, Hashable {
    public enum Tone: String, Sendable, Hashable {
        case down, up, test
    }

    /// One line of facts: `Project: Operations`.
    public struct Fact: Sendable, Hashable {
        public var label: String
        public var value: String
    }

    public var tone: Tone
    /// The check's name.
    public var name: String
    /// `DOWN | Backup`, `UP | Backup`, `TEST | Backup`: an email's subject, a chat message's title.
    public var subject: String
    /// One sentence: `Backup is down.`
    public var headline: String
    public var facts: [Fact]
    /// The start of the last ping's body, when it had one (at most `excerptLimit` characters).
    public var excerpt: String?
    /// The check's dashboard page, when the server knows its public URL (`--base-url`).
    public var link: String?

    /// Characters of the last ping's body a message quotes.
    public static let excerptLimit = 500

    public init(_ alert: Alert, baseURL: String?) {
        let values = alert.values
        tone = alert.test ? .test : alert.direction == .down ? .down : .up
        name = values.name
        subject = "\(tone.rawValue.uppercased()) | \(values.name)"
        switch tone {
        case .down: headline = "\(values.name) is down."
        case .up: headline = "\(values.name) is up again."
        case .test: headline = "This is a test notification for \(values.name): the channel '\(alert.channel)' works."
        }
        var facts = [Fact(label: "Project", value: values.project)]
        if !values.tags.isEmpty { facts.append(Fact(label: "Tags", value: values.tags)) }
        if !values.schedule.isEmpty { facts.append(Fact(label: "Schedule", value: values.schedule)) }
        switch tone {
        case .down: facts.append(Fact(label: "Down since", value: values.now))
        case .up: facts.append(Fact(label: "Up since", value: values.now))
        case .test: facts.append(Fact(label: "Sent at", value: values.now))
        }
        facts.append(Fact(label: "Last ping", value: values.lastPing.isEmpty ? "never" : values.lastPing))
        if !values.exitStatus.isEmpty { facts.append(Fact(label: "Exit status", value: values.exitStatus)) }
        self.facts = facts
        excerpt = values.body.isEmpty ? nil : Self.excerpt(of: values.body)
        link = baseURL.map { base in
            var base = base
            while base.hasSuffix("/") { base.removeLast() }
            return "\(base)/checks/\(values.code)"
        }
    }

    /// The whole message as plain text: headline, facts, the body excerpt, the link.
    public var text: String {
        var lines = [headline, ""]
        lines += facts.map { "\($0.label): \($0.value)" }
        if let excerpt { lines += ["", "Last ping body:", excerpt] }
        if let link { lines += ["", link] }
        return lines.joined(separator: "\n")
    }

    /// The facts on one line, for services that show little: `Project: Operations · Tags: prod`.
    public var summary: String {
        facts.map { "\($0.label): \($0.value)" }.joined(separator: " · ")
    }

    static func excerpt(of body: String) -> String {
        guard body.count > excerptLimit else { return body }
        return String(body.prefix(excerptLimit)) + "…"
    }
}
