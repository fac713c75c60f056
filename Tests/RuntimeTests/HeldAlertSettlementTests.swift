import Alerting
import CheckCatalog
import Foundation
import Monitoring
import Testing

@testable import Runtime

/// The settlement of held alerts once nothing holds their check (SPEC §14), as a table: the
/// alerts held back per channel (in queue order, `held` or queued behind), the check's status
/// when its hold ends, and which alert is sent (the others are withdrawn).
@Suite("Settling held alerts")
struct HeldAlertSettlementTests {
    static let check = UUID()

    static func item(_ direction: Channel.Direction, channel: String = "hook", held: Bool = true) -> HeldBackAlert {
        let values = AlertValues(name: "n", slug: "s", code: "c", status: direction.rawValue, now: "", tags: "", project: "p", exitStatus: "", body: "")
        let alert = Alert(
            check: check, project: "p", channel: channel, direction: direction, flipTime: 0, created: 0, values: values,
            hold: held ? AlertHold(maintenance: true) : nil)
        return HeldBackAlert(alert: alert, held: held)
    }

    /// The index of the alert sent, nil when none is; every other one must be withdrawn.
    static func sent(_ items: [HeldBackAlert], status: CheckState.Status, paused: Bool = false) -> Int? {
        let decisions = HeldAlertSettlement.decide(items, status: status, paused: paused)
        #expect(decisions.count == items.count, "every alert is decided")
        let sent = items.indices.filter { decisions[items[$0].alert.id] == .send }
        #expect(sent.count <= 1)
        for index in items.indices where !sent.contains(index) {
            guard case .withdraw(let reason) = decisions[items[index].alert.id] else {
                Issue.record("alert \(index) is neither sent nor withdrawn")
                continue
            }
            #expect(!reason.isEmpty)
        }
        return sent.first
    }

    @Test("went down inside the hold and still down: its down is sent")
    func stillDown() {
        #expect(Self.sent([Self.item(.down)], status: .down) == 0)
    }

    @Test("went down and recovered inside the hold: nothing is sent")
    func recovered() {
        #expect(Self.sent([Self.item(.down), Self.item(.up)], status: .up) == nil)
        // The up queued behind the held down (a dependency holds only downs) goes too.
        #expect(Self.sent([Self.item(.down), Self.item(.up, held: false)], status: .up) == nil)
    }

    @Test("down before the hold, up inside it: the up is sent (the receivers heard down)")
    func upAfterDown() {
        #expect(Self.sent([Self.item(.up)], status: .up) == 0)
    }

    @Test("down before the hold, up and down again inside it: nothing (the receivers already heard down)")
    func downAgain() {
        #expect(Self.sent([Self.item(.up), Self.item(.down)], status: .down) == nil)
    }

    @Test("down, up, down inside the hold: only the newest down is sent")
    func flapping() {
        #expect(Self.sent([Self.item(.down), Self.item(.up), Self.item(.down)], status: .down) == 2)
    }

    @Test("paused in config or at runtime, or reset to new: nothing is sent")
    func paused() {
        #expect(Self.sent([Self.item(.down)], status: .down, paused: true) == nil)
        #expect(Self.sent([Self.item(.down)], status: .paused) == nil)
        #expect(Self.sent([Self.item(.down)], status: .new) == nil)
    }

    @Test("each channel is settled on its own")
    func perChannel() {
        let items = [Self.item(.down, channel: "a"), Self.item(.up, channel: "b"), Self.item(.down, channel: "b")]
        let decisions = HeldAlertSettlement.decide(items, status: .down, paused: false)
        #expect(decisions[items[0].alert.id] == .send)
        #expect(decisions[items[1].alert.id] != .send)
        #expect(decisions[items[2].alert.id] != .send, "channel b heard down before the hold")
    }
}
