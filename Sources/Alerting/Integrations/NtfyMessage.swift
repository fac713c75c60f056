import Foundation

/// ntfy's JSON publishing: a POST to the server's root naming the topic, with title, message,
/// priority and an emoji tag for the tone; a tap opens the check's page.
enum NtfyMessage {
    static func request(topicURL: String, priority: Int, authorization: String?, message: AlertMessage) throws -> OutgoingRequest {
        // The topic is the URL's last path segment; the server's root is what comes before
        // it (a server under a path prefix keeps the prefix).
        guard var components = URLComponents(string: topicURL) else { throw UnusableCredential(description: "its url is not a URL") }
        var segments = components.path.split(separator: "/")
        guard let topic = segments.popLast().map(String.init) else { throw UnusableCredential(description: "its url has no topic") }
        components.path = segments.isEmpty ? "" : "/" + segments.joined(separator: "/")
        components.query = nil
        components.fragment = nil
        let root = MessageText.base(components.string ?? topicURL)
        var payload: [String: Any] = [
            "topic": topic,
            "title": message.subject,
            "message": text(message),
            "priority": priority,
            "tags": [tag(message.tone)],
        ]
        if let link = message.link { payload["click"] = link }
        var headers: [(name: String, value: String)] = []
        if let authorization { headers.append(("Authorization", authorization)) }
        return try OutgoingRequest(url: root, headers: headers, json: payload)
    }

    /// The headline, facts and excerpt; the link is the notification's click action.
    static func text(_ message: AlertMessage) -> String {
        var lines = [message.headline, ""] + message.facts.map { "\($0.label): \($0.value)" }
        if let excerpt = message.excerpt { lines += ["", "Last ping body:", excerpt] }
        return lines.joined(separator: "\n")
    }

    /// Tags that are emoji short codes show as emoji before the title.
    static func tag(_ tone: AlertMessage.Tone) -> String {
        switch tone {
        case .down: "rotating_light"
        case .up: "white_check_mark"
        case .test: "bell"
        }
    }
}
