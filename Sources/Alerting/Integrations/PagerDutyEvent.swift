import CheckCatalog
import Foundation

/// PagerDuty Events API v2 (`POST /v2/enqueue`): `trigger` on down, `resolve` on up, both with
/// the check's UUID as `dedup_key`, so the up resolves the incident its down opened and a
/// repeated down adds to it. A test notification triggers an incident of its own.
enum PagerDutyEvent {
    static func request(
        api: String, routingKey: String, severity: Integration.PagerDutySeverity, alert: Alert, message: AlertMessage
    ) throws -> OutgoingRequest {
        let url = "\(MessageText.base(api))/v2/enqueue"
        let dedupKey = alert.test ? "test-\(alert.id.uuidString.lowercased())" : alert.values.code
        if message.tone == .up {
            return try OutgoingRequest(url: url, json: ["routing_key": routingKey, "event_action": "resolve", "dedup_key": dedupKey])
        }
        var details: [String: String] = [:]
        for fact in message.facts { details[fact.label] = fact.value }
        if let excerpt = message.excerpt { details["Last ping body"] = excerpt }
        var payload: [String: Any] = [
            // The incident's title; PagerDuty's limit is 1024 characters.
            "summary": MessageText.clipped(message.subject, to: 1024),
            "source": alert.values.project.isEmpty ? alert.values.name : "\(alert.values.name) (\(alert.values.project))",
            "severity": severity.rawValue,
            "component": alert.values.name,
            "group": alert.values.project,
            "class": "heartbeat",
            "custom_details": details,
        ]
        if !alert.values.now.isEmpty { payload["timestamp"] = alert.values.now }
        var event: [String: Any] = [
            "routing_key": routingKey, "event_action": "trigger", "dedup_key": dedupKey, "payload": payload, "client": "kiothc",
        ]
        if let link = message.link {
            event["client_url"] = link
            event["links"] = [["href": link, "text": "Open the check"]]
        }
        return try OutgoingRequest(url: url, json: event)
    }
}
