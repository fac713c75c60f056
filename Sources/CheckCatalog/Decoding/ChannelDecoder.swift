import Foundation
import YAMLParser

/// Decodes a project's `channels:` entries (SPEC §6).
struct ChannelDecoder {
    static let webhookKeys = ["kind", "url", "method", "headers", "body", "on", "down", "up"]
    static let commandKeys = ["kind", "command", "on"]
    static let emailKeys = ["kind", "to", "cc", "on"]
    static let requestKeys = ["url", "method", "headers", "body"]
    /// Every channel kind, for messages and suggestions.
    static let kinds = ["webhook", "command", "email"] + Integration.Service.allCases.map(\.rawValue)
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    var reader: FieldReader

    mutating func decode(_ entry: Node.Pair, project: String) -> Channel? {
        let name = reader.keyText(entry.key)
        guard Identifier.isValid(name) else {
            reader.report(.invalidId, "channel name '\(name)' is not valid: use \(Identifier.rule)", at: entry.key.mark)
            return nil
        }
        let context = "channel '\(name)' of project '\(project)'"
        guard let pairs = reader.mapping(entry.value, what: context) else { return nil }
        guard let kindPair = pairs.first(where: { reader.keyText($0.key) == "kind" }) else {
            reader.report(.missingKey, "\(context) needs 'kind:' (\(Self.kinds.joined(separator: ", ")))", at: entry.key.mark)
            return nil
        }
        let kind = reader.string(kindPair.value, what: "'kind' of \(context)")
        switch kind {
        case "webhook":
            return decodeWebhook(entry, name: name, context: context)
        case "command":
            return decodeCommand(entry, name: name, context: context)
        case "email":
            return decodeEmail(entry, name: name, context: context)
        case let other?:
            if let service = Integration.Service(rawValue: other) {
                return decodeIntegration(entry, service: service, name: name, context: context)
            }
            var notes: [Diagnostic.Note] = []
            if let close = Suggestion.closest(to: other, in: Self.kinds) { notes.append(Diagnostic.Note("did you mean '\(close)'?")) }
            reader.report(
                .invalidValue, "unknown channel kind '\(other)' in \(context); kinds are \(Self.kinds.joined(separator: ", "))", at: kindPair.value.mark,
                notes: notes)
            return nil
        case nil:
            return nil
        }
    }

    private mutating func decodeWebhook(_ entry: Node.Pair, name: String, context: String) -> Channel? {
        guard let fields = reader.fields(of: entry.value, in: context, known: Self.webhookKeys) else { return nil }
        let base = decodeRequest(fields, context: context)
        let down = fields["down"].flatMap { decodeRequestBlock($0.value, context: "'down' of \(context)") }
        let up = fields["up"].flatMap { decodeRequestBlock($0.value, context: "'up' of \(context)") }
        let on = decodeDirections(fields["on"], context: context)
        for direction in on {
            let specific = direction == .down ? down : up
            if (specific?.url ?? base.url) == nil {
                reader.report(
                    .missingKey, "\(context) has no 'url' for \(direction.rawValue) alerts; set 'url', or 'url' in its '\(direction.rawValue):' block",
                    at: entry.key.mark)
                return nil
            }
        }
        return Channel(name: name, kind: .webhook(base: base, down: down, up: up), on: on, location: reader.location(entry.key.mark))
    }

    private mutating func decodeCommand(_ entry: Node.Pair, name: String, context: String) -> Channel? {
        guard let fields = reader.fields(of: entry.value, in: context, known: Self.commandKeys) else { return nil }
        guard let commandPair = fields["command"] else {
            reader.report(.missingKey, "\(context) needs 'command', the shell command to run", at: entry.key.mark)
            return nil
        }
        guard let command = reader.string(commandPair.value, what: "'command' of \(context)") else { return nil }
        guard !command.trimmingCharacters(in: .whitespaces).isEmpty else {
            reader.report(.invalidValue, "'command' of \(context) is empty", at: commandPair.value.mark)
            return nil
        }
        let on = decodeDirections(fields["on"], context: context)
        return Channel(name: name, kind: .command(command), on: on, location: reader.location(entry.key.mark))
    }

    private mutating func decodeIntegration(_ entry: Node.Pair, service: Integration.Service, name: String, context: String) -> Channel? {
        guard let fields = reader.fields(of: entry.value, in: context, known: IntegrationDecoder.keys(of: service)) else { return nil }
        var decoder = IntegrationDecoder(reader: reader)
        let integration = decoder.decode(service, fields, at: entry.key.mark, context: context)
        reader = decoder.reader
        let on = decodeDirections(fields["on"], context: context)
        guard let integration else { return nil }
        return Channel(name: name, kind: .integration(integration), on: on, location: reader.location(entry.key.mark))
    }

    private mutating func decodeEmail(_ entry: Node.Pair, name: String, context: String) -> Channel? {
        guard let fields = reader.fields(of: entry.value, in: context, known: Self.emailKeys) else { return nil }
        guard let toPair = fields["to"] else {
            reader.report(.missingKey, "\(context) needs 'to', the addresses to write to (a list, or one address)", at: entry.key.mark)
            return nil
        }
        let to = decodeAddresses(toPair, context: context)
        let cc = fields["cc"].map { decodeAddresses($0, context: context) } ?? []
        guard !to.isEmpty else {
            reader.report(.invalidValue, "'to' of \(context) lists no address", at: toPair.value.mark)
            return nil
        }
        let on = decodeDirections(fields["on"], context: context)
        return Channel(name: name, kind: .email(Channel.Email(to: to, cc: cc)), on: on, location: reader.location(entry.key.mark))
    }

    /// `to:` or `cc:`: a list of addresses, or one; each a plain `local@domain`.
    private mutating func decodeAddresses(_ pair: Node.Pair, context: String) -> [String] {
        let field = reader.keyText(pair.key)
        guard let items = reader.stringList(pair.value, what: "'\(field)' of \(context)", splittingString: true) else { return [] }
        var addresses: [String] = []
        for (text, mark) in items {
            if EmailAddress.isValid(text) {
                addresses.append(text)
            } else {
                reader.report(
                    .invalidValue, "'\(text)' in '\(field)' of \(context) is not an email address; write it as name@example.com, without a display name",
                    at: mark)
            }
        }
        return addresses
    }

    private mutating func decodeRequestBlock(_ node: Node, context: String) -> Channel.Request? {
        guard let fields = reader.fields(of: node, in: context, known: Self.requestKeys) else { return nil }
        return decodeRequest(fields, context: context)
    }

    private mutating func decodeRequest(_ fields: Fields, context: String) -> Channel.Request {
        var request = Channel.Request()
        if let pair = fields["url"] {
            request.url = reader.secret(pair.value, what: "'url' of \(context)")
            if let url = request.url, case .literal(let text) = url.source, !Self.isHTTPURL(text) {
                reader.report(.invalidValue, "'url' of \(context) must be an http:// or https:// URL, not '\(text)'", at: pair.value.mark)
            }
        }
        if let pair = fields["method"], let method = reader.string(pair.value, what: "'method' of \(context)") {
            if Self.methods.contains(method) {
                request.method = method
            } else {
                reader.report(.invalidValue, "'method' of \(context) must be one of \(Self.methods.joined(separator: ", ")), not '\(method)'", at: pair.value.mark)
            }
        }
        if let pair = fields["headers"], let entries = reader.mapping(pair.value, what: "'headers' of \(context)") {
            for entry in entries {
                let header = reader.keyText(entry.key)
                if let value = reader.secret(entry.value, what: "header '\(header)' of \(context)") {
                    request.headers.append((header, value))
                }
            }
        }
        if let pair = fields["body"] {
            request.body = reader.string(pair.value, what: "'body' of \(context)")
        }
        return request
    }

    private mutating func decodeDirections(_ pair: Node.Pair?, context: String) -> Set<Channel.Direction> {
        guard let pair else { return Set(Channel.Direction.allCases) }
        guard let items = reader.stringList(pair.value, what: "'on' of \(context)", splittingString: false) else {
            return Set(Channel.Direction.allCases)
        }
        var directions: Set<Channel.Direction> = []
        for (text, mark) in items {
            if let direction = Channel.Direction(rawValue: text) {
                directions.insert(direction)
            } else {
                reader.report(.invalidValue, "'on' of \(context) lists '\(text)'; it takes down and up", at: mark)
            }
        }
        return directions
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else { return false }
        return (scheme == "http" || scheme == "https") && !(components.host ?? "").isEmpty
    }
}
