import Foundation

/// Opsgenie Alert API: on down `POST /v2/alerts` creates an alert whose `alias` is the check's
/// UUID; on up `POST /v2/alerts/{UUID}/close?identifierType=alias` closes it. The key goes in
/// `Authorization: GenieKey …`. A test notification creates an alert of its own.
enum OpsgenieAlert {
    static func request(api: String, apiKey: String, priority: String?, alert: Alert, message: AlertMessage) throws -> OutgoingRequest {
        let base = "\(MessageText.base(api))/v2/alerts"
        let alias = alert.test ? "test-\(alert.id.uuidString.lowercased())" : alert.values.code
        let headers = [(name: "Authorization", value: "GenieKey \(apiKey)")]
        if message.tone == .up {
            return try OutgoingRequest(
                url: "\(base)/\(Template.percentEncoded(alias))/close?identifierType=alias", headers: headers,
                json: ["source": "kiothc", "note": message.headline])
        }
        var details: [String: String] = [:]
        for fact in message.facts { details[fact.label] = fact.value }
        if let link = message.link { details["Link"] = link }
        var payload: [String: Any] = [
            // Opsgenie's limits: message 130 characters, description 15,000, tags 50 chars each.
            "message": MessageText.clipped(message.subject, to: 130),
            "alias": alias,
            "description": MessageText.clipped(message.text, to: 15_000),
            "tags": alert.values.tags.split(separator: " ").map { MessageText.clipped(String($0), to: 50) },
            "details": details,
            "entity": alert.values.name,
            "source": "kiothc",
        ]
        if let priority { payload["priority"] = priority }
        return try OutgoingRequest(url: base, headers: headers, json: payload)
    }
}
