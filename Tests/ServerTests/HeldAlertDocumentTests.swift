import Alerting
import CheckCatalog
import Foundation
import Monitoring
import Testing

@testable import Runtime
@testable import Server

private func object(_ value: JSONValue) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(value.rendered().utf8)) as? [String: Any])
}

private func alert(hold: AlertHold?) -> Alert {
    let check = UUID(uuidString: "0b7c4a5e-0000-4000-8000-00000000000a")!
    let values = AlertValues(
        name: "Backup", slug: "backup", code: check.uuidString.lowercased(), status: "down", now: "", tags: "", project: "ops", exitStatus: "",
        body: "")
    return Alert(check: check, project: "ops", channel: "hook", direction: .down, flipTime: 1_790_000_000_000_000, created: 1_790_000_000_000_000,
        values: values, hold: hold)
}

/// What the API and the dashboard show of held alerts and marked flips (SPEC §14): additive
/// fields, the existing ones unchanged.
@Suite("Held alerts and marked flips in the API and the dashboard")
struct HeldAlertDocumentTests {
    @Test("a held notification has status held and its hold; a withdrawn one its reason; others null for both")
    func notification() throws {
        let hold = AlertHold(maintenance: true, dependencies: ["ops/db"])
        let held = try object(APIDocuments.notification(AlertRecord(alert: alert(hold: hold), attempts: [], state: .held, nextAttempt: nil), snapshot: .empty))
        #expect(held["status"] as? String == "held")
        let heldBy = try #require(held["hold"] as? [String: Any])
        #expect(heldBy["maintenance"] as? Bool == true)
        #expect(heldBy["dependencies"] as? [String] == ["ops/db"])
        #expect(held["withdrawn_reason"] is NSNull)
        #expect(held["next_attempt"] is NSNull)

        let withdrawn = try object(
            APIDocuments.notification(
                AlertRecord(alert: alert(hold: AlertHold(dependencies: ["ops/db"])), attempts: [], state: .withdrawn, nextAttempt: nil, reason: "recovered"),
                snapshot: .empty))
        #expect(withdrawn["status"] as? String == "withdrawn")
        #expect(withdrawn["withdrawn_reason"] as? String == "recovered")
        #expect((withdrawn["hold"] as? [String: Any])?["maintenance"] as? Bool == false)

        let plain = try object(APIDocuments.notification(AlertRecord(alert: alert(hold: nil), attempts: [], state: .pending, nextAttempt: 5), snapshot: .empty))
        #expect(plain["hold"] is NSNull)
        #expect(plain["withdrawn_reason"] is NSNull)
        let existing: Set<String> = [
            "id", "channel", "channel_id", "kind", "direction", "test", "created", "flip_time", "status", "next_attempt", "attempts",
        ]
        #expect(Set(plain.keys) == existing.union(["hold", "withdrawn_reason"]), "additive only")
    }

    @Test("a flip document gains maintenance and suppressed_by only where set")
    func flip() throws {
        let plain = try object(APIDocuments.flip(Flip(time: 1_700_000_000_000_000, old: .up, new: .down, reason: .timeout)))
        #expect(Set(plain.keys) == ["timestamp", "up"], "as Healthchecks")
        let marked = try object(
            APIDocuments.flip(Flip(time: 1_700_000_000_000_000, old: .up, new: .down, reason: .timeout, maintenance: true, suppressedBy: ["ops/db"])))
        #expect(marked["maintenance"] as? Bool == true)
        #expect(marked["suppressed_by"] as? [String] == ["ops/db"])
        #expect(marked["up"] as? Int == 0)
        let dependencyOnly = try object(
            APIDocuments.flip(Flip(time: 1_700_000_000_000_000, old: .up, new: .down, reason: .timeout, suppressedBy: ["ops/db", "ops/net"])))
        #expect(dependencyOnly["maintenance"] == nil)
        #expect(dependencyOnly["suppressed_by"] as? [String] == ["ops/db", "ops/net"])
    }

    @Test("the dashboard's notification list names the state, what held it, and why it was withdrawn")
    func dashboard() {
        let records = [
            AlertRecord(alert: alert(hold: AlertHold(maintenance: true)), attempts: [], state: .held, nextAttempt: nil),
            AlertRecord(alert: alert(hold: AlertHold(dependencies: ["ops/db"])), attempts: [], state: .withdrawn, nextAttempt: nil, reason: "<recovered>"),
        ]
        let html = DashboardPages.notifications(records, channels: [], check: "x", canWrite: false, problem: nil, now: 1_790_000_000_000_000)
        #expect(html.contains(#"data-status="held""#))
        #expect(html.contains("held for</span> maintenance"))
        #expect(html.contains("was held for</span> ops/db is down"))
        #expect(html.contains("&lt;recovered&gt;"), "escaped")
        #expect(!html.contains("<recovered>"))
    }
}
