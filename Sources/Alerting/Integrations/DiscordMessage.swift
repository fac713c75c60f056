import Foundation

/// A Discord webhook message: `content` for the notification, one embed with the tone's
/// colour, the facts as inline fields, the body excerpt and the check's link. Mentions in
/// check names (`@everyone`) are not pinged.
enum DiscordMessage {
    static func request(url: String, message: AlertMessage, time: String) throws -> OutgoingRequest {
        var description = message.headline
        if let excerpt = message.excerpt { description += "\n\nLast ping body:\n" + MessageText.codeBlock(excerpt) }
        var embed: [String: Any] = [
            // Discord's limits: title 256, description 4096, field name 256, value 1024.
            "title": MessageText.clipped(message.subject, to: 256),
            "description": MessageText.clipped(description, to: 4096),
            "color": color(message.tone),
            "fields": message.facts.map { fact in
                ["name": fact.label, "value": MessageText.clipped(fact.value, to: 1024), "inline": fact.value.count <= 40] as [String: Any]
            },
            "footer": ["text": "kiothc"],
        ]
        if !time.isEmpty { embed["timestamp"] = time }
        if let link = message.link { embed["url"] = link }
        return try OutgoingRequest(
            url: url, json: ["content": MessageText.clipped(message.subject, to: 2000), "embeds": [embed], "allowed_mentions": ["parse": [String]()]])
    }

    /// Colours as Discord wants them: an RGB integer.
    static func color(_ tone: AlertMessage.Tone) -> Int {
        switch tone {
        case .down: 0xD63232
        case .up: 0x36A64F
        case .test: 0x3D7DCA
        }
    }
}
