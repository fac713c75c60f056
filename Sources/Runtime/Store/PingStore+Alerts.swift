import Alerting
import Monitoring
import PingStore

extension PingStore {
    /// Flips looked through for an alert's flip: a held alert's flip, if it was stored, is
    /// among the newest few of its check (pings that raced each other may have added some).
    static let flipsSearchedForAlerts = 64

    /// Whether the flip an alert was written for is in the store (the outbox asks at open about
    /// alerts a crash left held). When the flips cannot be read, yes: at least once.
    func hasFlip(of alert: Alert) -> Bool {
        guard let flips = try? flips(of: alert.check, limit: Self.flipsSearchedForAlerts) else { return true }
        let status: CheckState.Status = alert.direction == .down ? .down : .up
        return flips.contains { $0.flip.time == alert.flipTime && $0.flip.new == status }
    }
}
