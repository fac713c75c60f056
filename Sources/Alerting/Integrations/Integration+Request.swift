import CheckCatalog
import Foundation

/// A credential that could not be resolved when sending, named by its field and reference.
struct UnresolvedCredential: Error {
    var field: String
    var reference: String
}

/// A credential resolved to something that cannot be used (a webhook URL from the environment
/// that is not http(s)): said without its value.
struct UnusableCredential: Error {
    var description: String
}

/// Resolves one credential of a channel; `field` is its key in the config, for the error.
typealias CredentialResolver = (_ secret: Secret, _ field: String) throws -> String

extension Integration {
    /// The request the service documents for this alert, credentials resolved through
    /// `resolve` (SPEC §12). Pure: the same alert and credentials give the same request.
    func request(for alert: Alert, message: AlertMessage, resolve: CredentialResolver) throws -> OutgoingRequest {
        switch self {
        case .slack(let url):
            return try SlackMessage.request(url: webhookURL(url, resolve), message: message, flipTime: alert.flipTime, style: .slack)
        case .mattermost(let url):
            return try SlackMessage.request(url: webhookURL(url, resolve), message: message, flipTime: alert.flipTime, style: .mattermost)
        case .discord(let url):
            return try DiscordMessage.request(url: webhookURL(url, resolve), message: message, time: alert.values.now)
        case .msteams(let url):
            return try TeamsMessage.request(url: webhookURL(url, resolve), message: message)
        case .telegram(let token, let chat, let thread, let api):
            return try TelegramMessage.request(
                api: api ?? Self.telegramAPI, botToken: resolve(token, "bot_token"), chatID: chat, threadID: thread, message: message)
        case .ntfy(let url, let priority, let auth):
            var authorization: String?
            switch auth {
            case .token(let token)?:
                authorization = try "Bearer " + resolve(token, "token")
            case .basic(let username, let password)?:
                let credentials = try "\(username):" + resolve(password, "password")
                authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
            case nil:
                break
            }
            return try NtfyMessage.request(
                topicURL: webhookURL(url, resolve), priority: priority[alert.direction], authorization: authorization, message: message)
        case .pushover(let token, let user, let priority, let retry, let expire, let sound, let device, let api):
            return try PushoverMessage.request(
                api: api ?? Self.pushoverAPI, token: resolve(token, "token"), user: resolve(user, "user_key"),
                priority: priority[alert.direction], retry: retry, expire: expire, sound: sound, device: device, flipTime: alert.flipTime, message: message)
        case .gotify(let url, let token, let priority):
            return try GotifyMessage.request(server: url, token: resolve(token, "token"), priority: priority[alert.direction], message: message)
        case .matrix(let homeserver, let room, let token):
            return try MatrixMessage.request(
                homeserver: homeserver, room: room, accessToken: resolve(token, "access_token"), transactionID: alert.id, message: message)
        case .pagerduty(let key, let severity, let api):
            return try PagerDutyEvent.request(
                api: api ?? Self.pagerdutyAPI, routingKey: resolve(key, "routing_key"), severity: severity, alert: alert, message: message)
        case .opsgenie(let key, let region, let priority, let api):
            return try OpsgenieAlert.request(
                api: api ?? region.apiURL, apiKey: resolve(key, "api_key"), priority: priority, alert: alert, message: message)
        }
    }

    /// A webhook or topic URL: it holds the credential, so a bad one is not quoted.
    private func webhookURL(_ secret: Secret, _ resolve: CredentialResolver) throws -> String {
        let url = try resolve(secret, "url")
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            !(components.host ?? "").isEmpty
        else { throw UnusableCredential(description: "its url (\(secret.reference)) is not an http(s) URL") }
        return url
    }
}

/// Small pieces of message formatting the services share.
enum MessageText {
    /// Text for Slack's and Mattermost's markup: only `&`, `<` and `>` are entities there (Slack
    /// shows any other entity, `&quot;` included, as written).
    static func escapeMarkup(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            default: output.append(character)
            }
        }
        return output
    }

    /// A Markdown code block around `text`; a fence inside it is broken so it cannot end the
    /// block early.
    static func codeBlock(_ text: String) -> String {
        var text = text.replacingOccurrences(of: "```", with: "`\u{200B}``")
        while text.last?.isNewline == true { text.removeLast() }
        return "```\n" + text + "\n```"
    }

    /// At most `limit` characters, the last one an ellipsis when cut (services refuse longer).
    static func clipped(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }

    /// A base URL without its trailing slashes, for appending a path.
    static func base(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// The flip's time in seconds since the epoch.
    static func seconds(_ microseconds: Int64) -> Int64 { microseconds / 1_000_000 }
}
