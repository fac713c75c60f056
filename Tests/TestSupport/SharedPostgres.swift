import Foundation
import Synchronization

/// One private PostgreSQL cluster for the whole test process, started at first use (each
/// test then takes a database of its own) and stopped when the process exits.
public enum SharedPostgres {
    /// PostgreSQL is not installed here (and this is not CI): the tests that need it skip.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String { PostgresCluster.notInstalled }
    }

    private enum State {
        case notStarted
        case running(PostgresCluster)
        case unavailable
        case failed(String)
    }

    private static let state = Mutex(State.notStarted)

    /// The cluster; starts it on first use (blocking: call from `onOwnThread`).
    public static func cluster() throws -> PostgresCluster {
        try state.withLock { state in
            switch state {
            case .running(let cluster): return cluster
            case .unavailable: throw Unavailable()
            case .failed(let message): throw PostgresCluster.Failed(description: message)
            case .notStarted:
                do {
                    guard let cluster = try PostgresCluster.start() else {
                        state = .unavailable
                        throw Unavailable()
                    }
                    state = .running(cluster)
                    atexit { SharedPostgres.stop() }
                    return cluster
                } catch let error as Unavailable {
                    throw error
                } catch {
                    state = .failed("\(error)")
                    throw error
                }
            }
        }
    }

    /// A fresh empty database's URL (blocking for the first start).
    public static func database(_ prefix: String) async throws -> String {
        try await onOwnThread { try cluster().createDatabase("\(prefix)_\(UUID().uuidString.prefix(8).lowercased())") }
    }

    private static func stop() {
        let cluster = state.withLock { state -> PostgresCluster? in
            guard case .running(let cluster) = state else { return nil }
            state = .notStarted
            return cluster
        }
        try? cluster?.stop()
    }
}
