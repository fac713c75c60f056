import Foundation
import Monitoring
import PingStore

/// Pause and resume at runtime (SPEC §3), for the API, the dashboard and `kiothc pause|resume`.
/// The status engine owns them: the state changes under the states' lock, the flip is stored (a
/// restart reads it back), a flip the store refuses is undone, and the check's deadline moves.
public struct RuntimePause: Sendable {
    public enum Failure: Error, Sendable {
        /// Resume of a check that is not paused (Healthchecks answers 409).
        case notPaused
        case notStored(String)
    }

    let engine: StatusEngine

    /// Pauses; nil when the check already was paused (nothing stored).
    public func pause(_ uuid: UUID) async throws(Failure) -> Flip? {
        do {
            return try await engine.pause(uuid)
        } catch {
            throw Self.failure(error)
        }
    }

    public func resume(_ uuid: UUID) async throws(Failure) -> Flip {
        do {
            return try await engine.resume(uuid)
        } catch {
            throw Self.failure(error)
        }
    }

    private static func failure(_ error: StatusEngine.PauseError) -> Failure {
        switch error {
        case .notPaused: .notPaused
        // The API looks the check up first; a check removed by a reload in between is gone.
        case .unknownCheck: .notStored("the check is no longer configured")
        case .notStored(let reason): .notStored(reason)
        }
    }
}
