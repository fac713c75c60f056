import Foundation

/// An incoming-webhook message for Slack and Mattermost (Mattermost reads Slack's format):
/// `text` for notifications, one attachment with the tone's colour, the facts as fields, the
/// body excerpt as a code block and the check's link as the title's.
enum SlackMessage {
    enum Style { case slack, mattermost }

    static func request(url: String, message: AlertMessage, flipTime: Int64, style: Style) throws -> OutgoingRequest {
        // Both read `&`, `<` and `>` as markup; their entities show as the characters.
        let escape = MessageText.escapeMarkup
        var attachment: [String: Any] = [
            "fallback": escape(message.subject),
            "color": color(message.tone),
            "title": escape(message.headline),
            "fields": message.facts.map { fact in
                ["title": fact.label, "value": escape(fact.value), "short": fact.value.count <= 40] as [String: Any]
            },
            "footer": "kiothc",
            "ts": MessageText.seconds(flipTime),
        ]
        if let link = message.link { attachment["title_link"] = link }
        if let excerpt = message.excerpt {
            attachment["text"] = "Last ping body:\n" + MessageText.codeBlock(escape(excerpt))
            if style == .slack { attachment["mrkdwn_in"] = ["text"] }
        }
        return try OutgoingRequest(url: url, json: ["text": escape(message.subject), "attachments": [attachment]])
    }

    static func color(_ tone: AlertMessage.Tone) -> String {
        switch tone {
        case .down: "#d63232"
        case .up: "#36a64f"
        case .test: "#3d7dca"
        }
    }
}
