import Alerting
import Foundation
import Monitoring
import PostgresStore

/// The PostgreSQL store behind the runtime's storage interface. Its own transitions
/// (`update`) are what the runtime uses; the records of transitions decided elsewhere
/// (`record`, the contract's and `kiothc store copy`'s) replay the given ping or flip onto the
/// stored state under the row lock, keeping the number they were given.
extension PostgresStore: SharedCheckStore {
    public var alerts: any AlertQueue { alertQueue }

    public func record(_ ping: Ping, of check: UUID, flip: Flip?, alerts: [Alert], completion: @escaping @Sendable ((any Error)?) -> Void) {
        update(replaying(ping, flip: flip, alerts: alerts, of: check)) { result in
            switch result {
            case .success(let outcome) where outcome.decision == nil:
                completion(StoreRefusal(description: "ping \(ping.n) of \(check.lowercasedText) does not follow the stored ping \(outcome.state.nPings)"))
            case .success: completion(nil)
            case .failure(let error): completion(error)
            }
        }
    }

    public func record(_ flip: Flip, of check: UUID, alerts: [Alert]) async throws {
        _ = try await update(CheckUpdate(check: check) { state, _ in CheckUpdate.Decision(state: state.recording(flip), flip: flip, alerts: alerts) })
    }

    private func replaying(_ ping: Ping, flip: Flip?, alerts: [Alert], of check: UUID) -> CheckUpdate {
        CheckUpdate(check: check) { state, _ in
            guard ping.n == state.nPings + 1 else { return nil }
            return CheckUpdate.Decision(state: state.recording(ping, flip: flip), ping: ping, flip: flip, alerts: alerts)
        }
    }

    /// Rows stay (the registry marks the check retired); its pings stay readable to `kiothc
    /// pings`.
    public func retire(_ check: UUID) async throws {}

    public func close() async throws {
        await closeConnections()
    }
}

struct StoreRefusal: Error, CustomStringConvertible {
    let description: String
}
