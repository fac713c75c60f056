import Monitoring
import Foundation

/// Matrix client-server API: `PUT /_matrix/client/v3/rooms/{room}/send/m.room.message/{txnId}`
/// with an `m.text` message, plain and HTML. The transaction id is the alert's id, so a retry
/// of a request the server did receive is not posted twice.
enum MatrixMessage {
    static func request(homeserver: String, room: String, accessToken: String, transactionID: UUID, message: AlertMessage) throws -> OutgoingRequest {
        let path = "/_matrix/client/v3/rooms/\(Template.percentEncoded(room))/send/m.room.message/\(transactionID.uuidString.lowercased())"
        let payload: [String: Any] = [
            "msgtype": "m.text",
            "body": message.subject + "\n\n" + message.text,
            "format": "org.matrix.custom.html",
            "formatted_body": html(message),
        ]
        return try OutgoingRequest(method: "PUT", url: MessageText.base(homeserver) + path, headers: [("Authorization", "Bearer \(accessToken)")], json: payload)
    }

    static func html(_ message: AlertMessage) -> String {
        let escape = HTMLText.escape
        var html = "<h4>\(escape(message.subject))</h4><p>\(escape(message.headline))</p><ul>"
        html += message.facts.map { "<li><b>\(escape($0.label)):</b> \(escape($0.value))</li>" }.joined()
        html += "</ul>"
        if let excerpt = message.excerpt { html += "<p><b>Last ping body:</b></p><pre><code>\(escape(excerpt))</code></pre>" }
        if let link = message.link { html += "<p><a href=\"\(escape(link))\">Open the check</a></p>" }
        return html
    }
}
