import Foundation

/// Gotify's `POST /message` with the application token in `X-Gotify-Key`: title, message,
/// priority, and the check's link as the notification's click target.
enum GotifyMessage {
    static func request(server: String, token: String, priority: Int, message: AlertMessage) throws -> OutgoingRequest {
        var lines = [message.headline, ""] + message.facts.map { "\($0.label): \($0.value)" }
        if let excerpt = message.excerpt { lines += ["", "Last ping body:", excerpt] }
        if let link = message.link { lines += ["", link] }
        var payload: [String: Any] = ["title": message.subject, "message": lines.joined(separator: "\n"), "priority": priority]
        if let link = message.link { payload["extras"] = ["client::notification": ["click": ["url": link]]] }
        return try OutgoingRequest(url: "\(MessageText.base(server))/message", headers: [("X-Gotify-Key", token)], json: payload)
    }
}
