/// A channel to a service with an API of its own (SPEC §12): where the alert goes and with
/// which credentials. Every credential (tokens, keys, webhook and topic URLs, passwords) is a
/// `Secret`; server URLs and the `api_url` overrides are not secrets and are plain text.
public enum Integration: Sendable {
    /// Incoming webhooks: the URL holds the credential.
    case slack(url: Secret)
    case discord(url: Secret)
    case mattermost(url: Secret)
    /// A Teams Workflows ("Post to a channel when a webhook request is received") URL.
    case msteams(url: Secret)
    /// `chatID`: a numeric chat id (negative for groups) or `@channelname`.
    case telegram(botToken: Secret, chatID: String, threadID: Int?, apiURL: String?)
    /// `url`: the topic's URL, e.g. `https://ntfy.sh/backups`; priorities 1–5.
    case ntfy(url: Secret, priority: PerDirection<Int>, auth: NtfyAuth?)
    /// Priorities −2…2; `retry` and `expire` (seconds) are sent with priority 2 (emergency).
    case pushover(
        token: Secret, userKey: Secret, priority: PerDirection<Int>, retry: Int, expire: Int, sound: String?, device: String?, apiURL: String?)
    /// `url`: the Gotify server; priorities 0–10.
    case gotify(url: String, token: Secret, priority: PerDirection<Int>)
    /// `room`: a room ID (`!abc:example.org`), not an alias.
    case matrix(homeserver: String, room: String, accessToken: Secret)
    /// Events API v2; `routingKey` is the integration key of a service's "Events API v2"
    /// integration.
    case pagerduty(routingKey: Secret, severity: PagerDutySeverity, apiURL: String?)
    /// `priority`: P1…P5, or nil for the account's default.
    case opsgenie(apiKey: Secret, region: OpsgenieRegion, priority: String?, apiURL: String?)

    /// The `kind:` of each service, as written in config files.
    public enum Service: String, Sendable, CaseIterable {
        case slack, discord, mattermost, msteams, telegram, ntfy, pushover, gotify, matrix, pagerduty, opsgenie
    }

    public enum NtfyAuth: Sendable {
        case token(Secret)
        case basic(username: String, password: Secret)
    }

    public enum PagerDutySeverity: String, Sendable, CaseIterable {
        case critical, error, warning, info
    }

    public enum OpsgenieRegion: String, Sendable, CaseIterable {
        case us, eu

        /// The API's base URL in this region.
        public var apiURL: String {
            switch self {
            case .us: "https://api.opsgenie.com"
            case .eu: "https://api.eu.opsgenie.com"
            }
        }
    }

    /// The public endpoints `api_url` overrides.
    public static let telegramAPI = "https://api.telegram.org"
    public static let pushoverAPI = "https://api.pushover.net"
    public static let pagerdutyAPI = "https://events.pagerduty.com"

    public var service: Service {
        switch self {
        case .slack: .slack
        case .discord: .discord
        case .mattermost: .mattermost
        case .msteams: .msteams
        case .telegram: .telegram
        case .ntfy: .ntfy
        case .pushover: .pushover
        case .gotify: .gotify
        case .matrix: .matrix
        case .pagerduty: .pagerduty
        case .opsgenie: .opsgenie
        }
    }

    /// Every credential, for `kiothc check` to resolve.
    public var secrets: [Secret] {
        switch self {
        case .slack(let url), .discord(let url), .mattermost(let url), .msteams(let url): [url]
        case .telegram(let token, _, _, _): [token]
        case .ntfy(let url, _, .token(let token)?): [url, token]
        case .ntfy(let url, _, .basic(_, let password)?): [url, password]
        case .ntfy(let url, _, nil): [url]
        case .pushover(let token, let user, _, _, _, _, _, _): [token, user]
        case .gotify(_, let token, _): [token]
        case .matrix(_, _, let token): [token]
        case .pagerduty(let key, _, _): [key]
        case .opsgenie(let key, _, _, _): [key]
        }
    }
}

/// A value that may differ between down and up alerts (`priority: high` sets both,
/// `priority: {down: high, up: low}` each).
public struct PerDirection<Value: Sendable & Hashable>: Sendable, Hashable {
    public var down: Value
    public var up: Value

    public init(down: Value, up: Value) {
        self.down = down
        self.up = up
    }

    public subscript(direction: Channel.Direction) -> Value {
        direction == .down ? down : up
    }
}
