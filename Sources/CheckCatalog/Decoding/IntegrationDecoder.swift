import Foundation
import YAMLParser

/// Decodes the fields of a channel of an integration kind (SPEC §12). `ChannelDecoder` has
/// checked the keys and decodes `on:`; every problem here is reported with its position.
struct IntegrationDecoder {
    var reader: FieldReader

    static func keys(of service: Integration.Service) -> [String] {
        let own: [String] =
            switch service {
            case .slack, .discord, .mattermost, .msteams: ["url"]
            case .telegram: ["bot_token", "chat_id", "thread_id", "api_url"]
            case .ntfy: ["url", "priority", "token", "username", "password"]
            case .pushover: ["token", "user_key", "priority", "retry", "expire", "sound", "device", "api_url"]
            case .gotify: ["url", "token", "priority"]
            case .matrix: ["homeserver", "room", "access_token"]
            case .pagerduty: ["routing_key", "severity", "api_url"]
            case .opsgenie: ["api_key", "region", "priority", "api_url"]
            }
        return ["kind"] + own + ["on"]
    }

    static let ntfyPriorities = ["min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5]
    static let opsgeniePriorities = ["P1", "P2", "P3", "P4", "P5"]

    /// The integration, or nil when a field is missing or wrong (all of them reported).
    mutating func decode(_ service: Integration.Service, _ fields: Fields, at mark: Mark, context: String) -> Integration? {
        var decoding = Decoding(fields: fields, mark: mark, context: context)
        let integration = decode(service, &decoding)
        return decoding.failed ? nil : integration
    }

    /// What one channel's decoding needs; `failed` is set by every report.
    private struct Decoding {
        let fields: Fields
        let mark: Mark
        let context: String
        var failed = false
    }

    private mutating func decode(_ service: Integration.Service, _ d: inout Decoding) -> Integration? {
        switch service {
        case .slack, .discord, .mattermost, .msteams:
            let hint: String =
                switch service {
                case .slack: "the incoming webhook URL (https://hooks.slack.com/services/…)"
                case .discord: "the channel's webhook URL (https://discord.com/api/webhooks/…)"
                case .mattermost: "the incoming webhook URL (https://mattermost.example.com/hooks/…)"
                default: "the URL of a Teams workflow that posts webhook requests to a channel"
                }
            guard let url = secretURL("url", &d, hint: hint) else { return nil }
            switch service {
            case .slack: return .slack(url: url)
            case .discord: return .discord(url: url)
            case .mattermost: return .mattermost(url: url)
            default: return .msteams(url: url)
            }

        case .telegram:
            let token = secret("bot_token", &d, hint: "the bot's token from @BotFather")
            if let token, case .literal(let text) = token.source, !Self.looksLikeBotToken(text), let pair = d.fields["bot_token"] {
                // Not quoted: it is a credential, even when written in the file.
                fail(&d, .invalidValue, "'bot_token' of \(d.context) is not a bot token: it is digits, ':', then letters (as @BotFather gives it)", at: pair.value.mark)
            }
            let chat = chatID(&d)
            let thread = d.fields["thread_id"].flatMap { integer($0, &d, what: "'thread_id' of \(d.context)", range: 1...Int.max) }
            let api = apiURL(&d)
            guard let token, let chat else { return nil }
            return .telegram(botToken: token, chatID: chat, threadID: thread, apiURL: api)

        case .ntfy:
            let url = secretURL("url", &d, hint: "the topic's URL, e.g. https://ntfy.sh/backups")
            if let pair = d.fields["url"], case .scalar(let scalar) = pair.value.content, case .string(let text) = scalar.value,
                ChannelDecoder.isHTTPURL(text), Self.topic(of: text) == nil
            {
                fail(&d, .invalidValue, "'url' of \(d.context) has no topic: write the topic's URL, e.g. https://ntfy.sh/backups", at: pair.value.mark)
            }
            let priority = priorities(&d, default: PerDirection(down: 4, up: 3), describe: "1 to 5 or min, low, default, high, max") { text in
                if let number = Int(text), (1...5).contains(number) { return number }
                return Self.ntfyPriorities[text.lowercased()]
            }
            let auth = ntfyAuth(&d)
            guard let url, let priority else { return nil }
            return .ntfy(url: url, priority: priority, auth: auth)

        case .pushover:
            let token = secret("token", &d, hint: "the application's API token")
            let user = secret("user_key", &d, hint: "the user or group key")
            let priority = priorities(&d, default: PerDirection(down: 0, up: 0), describe: "-2 to 2") { text in
                Int(text).flatMap { (-2...2).contains($0) ? $0 : nil }
            }
            // Pushover's limits for emergency priority: retry at least 30 s, expire at most 3 h.
            let retry = d.fields["retry"].flatMap { reader.duration($0.value, what: "'retry' of \(d.context)", range: 30...10_800) }
            let expire = d.fields["expire"].flatMap { reader.duration($0.value, what: "'expire' of \(d.context)", range: 30...10_800) }
            if d.fields["retry"] != nil && retry == nil || d.fields["expire"] != nil && expire == nil { d.failed = true }
            let sound = d.fields["sound"].flatMap { word($0, &d) }
            let device = d.fields["device"].flatMap { word($0, &d) }
            let api = apiURL(&d)
            guard let token, let user, let priority else { return nil }
            return .pushover(
                token: token, userKey: user, priority: priority, retry: retry ?? 300, expire: expire ?? 3_600, sound: sound, device: device, apiURL: api)

        case .gotify:
            let url = plainURL("url", &d, hint: "the Gotify server's URL")
            let token = secret("token", &d, hint: "the application's token")
            let priority = priorities(&d, default: PerDirection(down: 8, up: 5), describe: "0 to 10") { text in
                Int(text).flatMap { (0...10).contains($0) ? $0 : nil }
            }
            guard let url, let token, let priority else { return nil }
            return .gotify(url: url, token: token, priority: priority)

        case .matrix:
            let homeserver = plainURL("homeserver", &d, hint: "the homeserver's URL, e.g. https://matrix.example.org")
            let room = roomID(&d)
            let token = secret("access_token", &d, hint: "the access token of the account that posts")
            guard let homeserver, let room, let token else { return nil }
            return .matrix(homeserver: homeserver, room: room, accessToken: token)

        case .pagerduty:
            let key = secret("routing_key", &d, hint: "the integration key of the service's Events API v2 integration")
            let severity = d.fields["severity"].flatMap { choice($0, &d, Integration.PagerDutySeverity.allCases.map(\.rawValue)) }
            let api = apiURL(&d)
            guard let key else { return nil }
            return .pagerduty(routingKey: key, severity: severity.flatMap(Integration.PagerDutySeverity.init(rawValue:)) ?? .critical, apiURL: api)

        case .opsgenie:
            let key = secret("api_key", &d, hint: "the API key of an API integration")
            let region = d.fields["region"].flatMap { choice($0, &d, Integration.OpsgenieRegion.allCases.map(\.rawValue)) }
            let priority = d.fields["priority"].flatMap { choice($0, &d, Self.opsgeniePriorities) }
            let api = apiURL(&d)
            guard let key else { return nil }
            return .opsgenie(
                apiKey: key, region: region.flatMap(Integration.OpsgenieRegion.init(rawValue:)) ?? .us, priority: priority, apiURL: api)
        }
    }

    // MARK: fields

    private mutating func fail(_ d: inout Decoding, _ code: Code, _ message: String, at mark: Mark, notes: [Diagnostic.Note] = []) {
        reader.report(code, message, at: mark, notes: notes)
        d.failed = true
    }

    /// A required key's pair, or nil after a missing-key report at the channel's name.
    private mutating func required(_ key: String, _ d: inout Decoding, hint: String) -> Node.Pair? {
        if let pair = d.fields[key] { return pair }
        fail(&d, .missingKey, "\(d.context) needs '\(key)', \(hint)", at: d.mark)
        return nil
    }

    private mutating func secret(_ key: String, _ d: inout Decoding, hint: String) -> Secret? {
        guard let pair = required(key, &d, hint: hint) else { return nil }
        guard let secret = reader.secret(pair.value, what: "'\(key)' of \(d.context)") else {
            d.failed = true
            return nil
        }
        if case .literal(let text) = secret.source, text.trimmingCharacters(in: .whitespaces).isEmpty {
            fail(&d, .invalidValue, "'\(key)' of \(d.context) is empty", at: pair.value.mark)
            return nil
        }
        return secret
    }

    /// A secret URL (it holds the credential): a literal is checked to be http(s); its text
    /// is in the file anyway, so the message may quote it.
    private mutating func secretURL(_ key: String, _ d: inout Decoding, hint: String) -> Secret? {
        guard let secret = secret(key, &d, hint: hint) else { return nil }
        if case .literal(let text) = secret.source, !ChannelDecoder.isHTTPURL(text), let pair = d.fields[key] {
            fail(&d, .invalidValue, "'\(key)' of \(d.context) must be an http:// or https:// URL, not '\(text)'", at: pair.value.mark)
            return nil
        }
        return secret
    }

    private mutating func plainURL(_ key: String, _ d: inout Decoding, hint: String) -> String? {
        guard let pair = required(key, &d, hint: hint) else { return nil }
        return url(pair, &d)
    }

    private mutating func url(_ pair: Node.Pair, _ d: inout Decoding) -> String? {
        let what = "'\(reader.keyText(pair.key))' of \(d.context)"
        guard let text = reader.string(pair.value, what: what) else {
            d.failed = true
            return nil
        }
        guard ChannelDecoder.isHTTPURL(text) else {
            fail(&d, .invalidValue, "\(what) must be an http:// or https:// URL, not '\(text)'", at: pair.value.mark)
            return nil
        }
        return text
    }

    /// `api_url`, optional: the base URL that replaces the service's public endpoint.
    private mutating func apiURL(_ d: inout Decoding) -> String? {
        d.fields["api_url"].flatMap { url($0, &d) }
    }

    private mutating func integer(_ pair: Node.Pair, _ d: inout Decoding, what: String, range: ClosedRange<Int>) -> Int? {
        if case .scalar(let scalar) = pair.value.content, case .int(let value) = scalar.value {
            guard range.contains(value) else {
                fail(&d, .outOfRange, "\(what) is \(value), out of range: it must be at least \(range.lowerBound)", at: pair.value.mark)
                return nil
            }
            return value
        }
        if case .invalid = pair.value.content { return nil }
        fail(&d, .typeMismatch, "\(what) must be an integer, not \(reader.describe(pair.value))", at: pair.value.mark)
        return nil
    }

    /// One of a few words; reported with the closest one when it is not.
    private mutating func choice(_ pair: Node.Pair, _ d: inout Decoding, _ options: [String]) -> String? {
        let what = "'\(reader.keyText(pair.key))' of \(d.context)"
        guard let text = reader.string(pair.value, what: what) else {
            d.failed = true
            return nil
        }
        if options.contains(text) { return text }
        var notes: [Diagnostic.Note] = []
        if let close = Suggestion.closest(to: text, in: options) { notes.append(Diagnostic.Note("did you mean '\(close)'?")) }
        fail(&d, .invalidValue, "\(what) must be one of \(options.joined(separator: ", ")), not '\(text)'", at: pair.value.mark, notes: notes)
        return nil
    }

    /// A plain name (a sound, a device): a string without spaces.
    private mutating func word(_ pair: Node.Pair, _ d: inout Decoding) -> String? {
        let what = "'\(reader.keyText(pair.key))' of \(d.context)"
        guard let text = reader.string(pair.value, what: what) else {
            d.failed = true
            return nil
        }
        guard !text.isEmpty, !text.contains(where: \.isWhitespace) else {
            fail(&d, .invalidValue, "\(what) must be a name without spaces, not '\(text)'", at: pair.value.mark)
            return nil
        }
        return text
    }

    /// `priority: X` for both directions or `priority: {down: X, up: Y}`, each parsed by
    /// `parse`; `default` where the key or a direction is not written.
    private mutating func priorities(
        _ d: inout Decoding, default fallback: PerDirection<Int>, describe: String, parse: (String) -> Int?
    ) -> PerDirection<Int>? {
        guard let pair = d.fields["priority"] else { return fallback }
        let what = "'priority' of \(d.context)"
        func one(_ node: Node, what: String, reader: inout FieldReader) -> Int? {
            guard let text = reader.string(node, what: what) else { return nil }
            if let value = parse(text) { return value }
            reader.report(.invalidValue, "\(what) must be \(describe), not '\(text)'", at: node.mark)
            return nil
        }
        if case .mapping = pair.value.content {
            guard let directions = reader.fields(of: pair.value, in: what, known: ["down", "up"]) else {
                d.failed = true
                return nil
            }
            var value = fallback
            for direction in Channel.Direction.allCases {
                guard let entry = directions[direction.rawValue] else { continue }
                guard let parsed = one(entry.value, what: "'priority' for \(direction.rawValue) of \(d.context)", reader: &reader) else {
                    d.failed = true
                    continue
                }
                if direction == .down { value.down = parsed } else { value.up = parsed }
            }
            if directions.count != (pair.value.mappingCount ?? 0) { d.failed = true }
            return d.failed ? nil : value
        }
        guard let value = one(pair.value, what: what, reader: &reader) else {
            d.failed = true
            return nil
        }
        return PerDirection(down: value, up: value)
    }

    private mutating func chatID(_ d: inout Decoding) -> String? {
        guard let pair = required("chat_id", &d, hint: "the chat's id (a number, negative for groups) or @channelname") else { return nil }
        let what = "'chat_id' of \(d.context)"
        guard let text = reader.string(pair.value, what: what) else {
            d.failed = true
            return nil
        }
        let isNumber = Int(text) != nil
        let isChannel = text.hasPrefix("@") && text.count > 1 && !text.contains(where: \.isWhitespace)
        guard isNumber || isChannel else {
            fail(&d, .invalidValue, "\(what) must be a number (negative for groups) or @channelname, not '\(text)'", at: pair.value.mark)
            return nil
        }
        return text
    }

    private mutating func roomID(_ d: inout Decoding) -> String? {
        guard let pair = required("room", &d, hint: "the room ID, e.g. '!abcdef:example.org'") else { return nil }
        let what = "'room' of \(d.context)"
        guard let text = reader.string(pair.value, what: what) else {
            d.failed = true
            return nil
        }
        // `!opaque:server`, or `!opaque` alone from room version 12 on.
        guard text.hasPrefix("!"), text.count > 1, !text.hasSuffix(":"), !text.contains(where: \.isWhitespace) else {
            var notes = [Diagnostic.Note("a room ID looks like '!abcdef:example.org' (Element: room settings, Advanced)")]
            if text.hasPrefix("#") { notes.insert(Diagnostic.Note("'\(text)' is an alias; messages are sent to the room's ID"), at: 0) }
            fail(&d, .invalidValue, "\(what) must be a room ID, not '\(text)'", at: pair.value.mark, notes: notes)
            return nil
        }
        return text
    }

    /// `token`, or `username` with `password`, or none.
    private mutating func ntfyAuth(_ d: inout Decoding) -> Integration.NtfyAuth? {
        let (token, username, password) = (d.fields["token"], d.fields["username"], d.fields["password"])
        if token != nil {
            if let other = username ?? password {
                fail(&d, .conflictingKeys, "\(d.context) takes either 'token' or 'username' and 'password', not both", at: other.key.mark)
                return nil
            }
            return secret("token", &d, hint: "").map { .token($0) }
        }
        switch (username, password) {
        case (nil, nil):
            return nil
        case (let user?, nil):
            fail(&d, .missingKey, "\(d.context) has 'username' but no 'password'", at: user.key.mark)
            return nil
        case (nil, let password?):
            fail(&d, .missingKey, "\(d.context) has 'password' but no 'username'", at: password.key.mark)
            return nil
        case (let user?, _?):
            guard let name = reader.string(user.value, what: "'username' of \(d.context)") else {
                d.failed = true
                return nil
            }
            return secret("password", &d, hint: "").map { .basic(username: name, password: $0) }
        }
    }

    /// `123456:ABC-def_…`: the bot's id, a colon, the secret.
    static func looksLikeBotToken(_ text: String) -> Bool {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isASCII), parts[0].allSatisfy(\.isNumber) else { return false }
        return !parts[1].isEmpty && parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// The topic of an ntfy topic URL: its single path segment.
    static func topic(of url: String) -> String? {
        guard let components = URLComponents(string: url) else { return nil }
        let segments = components.path.split(separator: "/")
        guard let last = segments.last, !last.isEmpty else { return nil }
        return String(last)
    }
}

extension Node {
    /// The number of entries of a mapping, nil for other nodes.
    fileprivate var mappingCount: Int? {
        if case .mapping(let pairs) = content { return pairs.count }
        return nil
    }
}
