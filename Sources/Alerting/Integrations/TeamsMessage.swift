import Foundation

/// A Microsoft Teams message through a Workflows webhook: a `message` with one Adaptive Card
/// (the subject in the tone's colour, the headline, the facts as a FactSet, the body excerpt
/// in monospace, a button to the check's page).
enum TeamsMessage {
    static func request(url: String, message: AlertMessage) throws -> OutgoingRequest {
        var body: [[String: Any]] = [
            ["type": "TextBlock", "text": message.subject, "size": "Large", "weight": "Bolder", "color": color(message.tone), "wrap": true],
            ["type": "TextBlock", "text": message.headline, "wrap": true],
            ["type": "FactSet", "facts": message.facts.map { ["title": $0.label, "value": $0.value] }],
        ]
        if let excerpt = message.excerpt {
            body.append(["type": "TextBlock", "text": "Last ping body:", "weight": "Bolder", "wrap": true])
            body.append(["type": "TextBlock", "text": excerpt, "fontType": "Monospace", "wrap": true])
        }
        var card: [String: Any] = [
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        ]
        if let link = message.link { card["actions"] = [["type": "Action.OpenUrl", "title": "Open the check", "url": link]] }
        let attachment: [String: Any] = ["contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": NSNull(), "content": card]
        return try OutgoingRequest(url: url, json: ["type": "message", "attachments": [attachment]])
    }

    /// Adaptive Cards' named colours.
    static func color(_ tone: AlertMessage.Tone) -> String {
        switch tone {
        case .down: "Attention"
        case .up: "Good"
        case .test: "Accent"
        }
    }
}
