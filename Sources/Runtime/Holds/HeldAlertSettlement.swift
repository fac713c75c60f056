import Alerting
import CheckCatalog
import Foundation
import Monitoring

/// How a check's held alerts are settled once nothing holds it any more (SPEC §14), a pure
/// function of its held-back alerts and its status now.
///
/// Per channel, receivers last heard the opposite of the first held alert's direction (flips
/// alternate: a held `down` follows an `up` they were told of). If the check's status now says
/// something else than what they heard, the newest alert saying it is sent, once; every other
/// alert is withdrawn. So a check still down when its window ends is alerted then, exactly once;
/// one that went down and recovered inside the window sends nothing; one that was down before
/// the window and recovered inside it sends its `up` when the window ends.
enum HeldAlertSettlement {
    /// `alerts`: one check's alerts from `AlertQueue.heldBack()`, in queue order. `status`: the
    /// check's stored status now; `paused`: paused in config.
    static func decide(_ alerts: [HeldBackAlert], status: CheckState.Status, paused: Bool) -> [UUID: Settlement] {
        var byChannel: [String: [HeldBackAlert]] = [:]
        for item in alerts { byChannel[item.alert.channel, default: []].append(item) }
        let current: Channel.Direction? =
            switch status {
            case .down where !paused: .down
            case .up where !paused: .up
            case .down, .up, .new, .paused: nil
            }
        var decisions: [UUID: Settlement] = [:]
        for items in byChannel.values {
            guard let first = items.first(where: \.held) else { continue }
            let heard: Channel.Direction = first.alert.direction == .down ? .up : .down
            let send = current.flatMap { current in current == heard ? nil : items.last { $0.alert.direction == current } }
            for item in items {
                if item.alert.id == send?.alert.id {
                    decisions[item.alert.id] = .send
                } else {
                    decisions[item.alert.id] = .withdraw(reason: reason(item.alert, current: current, heard: heard, status: status, paused: paused))
                }
            }
        }
        return decisions
    }

    private static func reason(_ alert: Alert, current: Channel.Direction?, heard: Channel.Direction, status: CheckState.Status, paused: Bool) -> String {
        guard let current else {
            return paused ? "the check is paused in its configuration" : status == .paused ? "the check was paused" : "the check was reset to new"
        }
        if current == heard {
            return current == .up ? "the check was up again when its hold ended" : "the check was already reported down before its hold began"
        }
        return alert.direction == current ? "a later alert of the check says the same" : "the check was \(current.rawValue) when its hold ended"
    }
}
