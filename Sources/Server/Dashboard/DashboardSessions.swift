import Foundation
import Runtime
import Synchronization

/// Dashboard logins, in memory: a random session id (the cookie) maps to the credential that
/// logged in. The credential is checked again on every request against the keys serving now,
/// so rotating a key in config or removing a project logs its sessions out at the next reload.
/// A restart logs everyone out; that is the price of keeping no session file.
final class DashboardSessions: Sendable {
    enum Credential: Sendable {
        case admin
        case apiKey([UInt8])
    }

    struct Session: Sendable {
        let credential: Credential
        let created: ContinuousClock.Instant
    }

    static let lifetime: Duration = .seconds(12 * 3_600)
    static let limit = 10_000

    private let sessions = Mutex<[String: Session]>([:])

    /// A new session; the oldest ones go when there are too many.
    func create(_ credential: Credential) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let now = ContinuousClock.now
        sessions.withLock { sessions in
            if sessions.count >= Self.limit {
                sessions = sessions.filter { now - $0.value.created < Self.lifetime }
                if sessions.count >= Self.limit, let oldest = sessions.min(by: { $0.value.created < $1.value.created }) {
                    sessions.removeValue(forKey: oldest.key)
                }
            }
            sessions[id] = Session(credential: credential, created: now)
        }
        return id
    }

    func session(_ id: String) -> Session? {
        let now = ContinuousClock.now
        return sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            if now - session.created >= Self.lifetime {
                sessions.removeValue(forKey: id)
                return nil
            }
            return session
        }
    }

    func remove(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }
}
