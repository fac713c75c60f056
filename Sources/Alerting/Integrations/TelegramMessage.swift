import Monitoring
import Foundation

/// Telegram Bot API `sendMessage`: the message as HTML (every value escaped), to a chat and,
/// in a forum, a topic (`message_thread_id`). The token is in the path, as the API wants.
enum TelegramMessage {
    static func request(api: String, botToken: String, chatID: String, threadID: Int?, message: AlertMessage) throws -> OutgoingRequest {
        var payload: [String: Any] = [
            // A numeric id is sent as a number, `@channel` as text.
            "chat_id": Int(chatID).map { $0 as Any } ?? chatID,
            "text": html(message),
            "parse_mode": "HTML",
            "link_preview_options": ["is_disabled": true],
        ]
        if let threadID { payload["message_thread_id"] = threadID }
        return try OutgoingRequest(url: "\(MessageText.base(api))/bot\(botToken)/sendMessage", json: payload)
    }

    /// Telegram's HTML: only b, i, code, pre and a; line breaks as they are.
    static func html(_ message: AlertMessage) -> String {
        let escape = HTMLText.escape
        var lines = ["<b>\(escape(message.subject))</b>", escape(message.headline), ""]
        lines += message.facts.map { "<b>\(escape($0.label)):</b> \(escape($0.value))" }
        if let excerpt = message.excerpt { lines += ["", "<b>Last ping body:</b>", "<pre>\(escape(excerpt))</pre>"] }
        if let link = message.link { lines += ["", "<a href=\"\(escape(link))\">Open the check</a>"] }
        return lines.joined(separator: "\n")
    }
}
