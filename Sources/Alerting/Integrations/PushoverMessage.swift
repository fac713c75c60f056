import Foundation

/// Pushover's `POST /1/messages.json`, form-encoded: application token, user key, title,
/// message, priority (with `retry` and `expire` for 2, emergency, which Pushover requires),
/// sound, device, the flip's time and the check's link.
enum PushoverMessage {
    static func request(
        api: String, token: String, user: String, priority: Int, retry: Int, expire: Int, sound: String?, device: String?, flipTime: Int64,
        message: AlertMessage
    ) -> OutgoingRequest {
        // Pushover's limits: title 250 characters, message 1024, url 512.
        var fields: [(String, String)] = [
            ("token", token),
            ("user", user),
            ("title", MessageText.clipped(message.subject, to: 250)),
            ("message", MessageText.clipped(text(message), to: 1024)),
            ("priority", String(priority)),
            ("timestamp", String(MessageText.seconds(flipTime))),
        ]
        if priority == 2 { fields += [("retry", String(retry)), ("expire", String(expire))] }
        if let sound { fields.append(("sound", sound)) }
        if let device { fields.append(("device", device)) }
        if let link = message.link, link.count <= 512 { fields += [("url", link), ("url_title", "Open the check")] }
        return OutgoingRequest(
            method: "POST", url: "\(MessageText.base(api))/1/messages.json", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Array(formEncoded(fields).utf8))
    }

    static func text(_ message: AlertMessage) -> String {
        var lines = [message.headline, ""] + message.facts.map { "\($0.label): \($0.value)" }
        if let excerpt = message.excerpt { lines += ["", "Last ping body:", excerpt] }
        return lines.joined(separator: "\n")
    }

    /// `application/x-www-form-urlencoded`, every byte but the unreserved ones percent-encoded.
    static func formEncoded(_ fields: [(String, String)]) -> String {
        fields.map { "\(Template.percentEncoded($0.0))=\(Template.percentEncoded($0.1))" }.joined(separator: "&")
    }
}
