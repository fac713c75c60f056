import Alerting
import CheckCatalog
import Foundation
import Logging
import PingStore
import PostgresStore
import ServiceLifecycle
import Synchronization

extension Runtime {
    /// The start on a shared store (PostgreSQL): connect and migrate (instances starting
    /// together take turns), the admin token every instance shares, then the same first apply
    /// as on files. No data directory is used.
    static func openShared(
        _ location: PostgresLocation, options: RuntimeOptions, loaded: Loaded, urls: PingURLFormat, environment: [String: String], logger: Logger,
        clock: RuntimeClock
    ) async throws(StartFailure) -> Runtime {
        let store: PostgresStore
        do {
            store = try await PostgresStore.open(location, keepPings: options.keepPings, logger: logger)
        } catch {
            throw StartFailure("cannot start: \(error)")
        }
        do {
            if store.migration.from != store.migration.to {
                logger.notice(
                    "prepared the database's schema", metadata: ["from_version": "\(store.migration.from)", "to_version": "\(store.migration.to)"])
            }
            let token: (AdminToken, AdminToken.Origin)
            if options.adminTokenFile != nil {
                token = try AdminToken.load(dataDirectory: "", file: options.adminTokenFile)
            } else {
                let (text, generated) = try await store.adminToken(generated: AdminToken.generated().text)
                token = (AdminToken(text), generated ? .generated : .stored)
            }
            let badgeSecret = BadgeSecret(try await store.badgeSecret(generated: BadgeSecret.generated().text))
            return try await start(
                store: store, files: FileStore?.none, location: "the database \(location)", loaded: loaded, now: clock.now(), options: options, urls: urls,
                token: token, badgeSecret: badgeSecret, environment: environment, logger: logger, clock: clock, lock: DataDirectoryLock?.none)
        } catch {
            await store.closeConnections()
            if let failure = error as? StartFailure { throw failure }
            throw StartFailure("cannot start: \(error)")
        }
    }
}

/// With a shared store: keeps the cached states current with what the other instances
/// change (NOTIFY), and moves the deadlines of the checks they changed.
struct SharedStateService: Service {
    let store: any SharedCheckStore
    let states: CheckStates
    let engine: StatusEngine
    let live: LiveChecks

    func run() async throws {
        let changes = store.changes()
        await cancelWhenGracefulShutdown {
            for await batch in changes {
                live.saw(batch)
                for versioned in batch where states.refresh(versioned.check, to: versioned.state, version: versioned.version) {
                    engine.moved(versioned.check)
                }
            }
        }
    }
}

/// With a shared store: the checks live in the database, whichever instance's configuration
/// added them. A ping for one this instance does not serve (yet: a rolling deploy has not
/// reached it) is answered 503, try again, rather than 404: a load balancer or the client's
/// retry takes it to an instance that serves it, and no ping is lost to the rollout.
public final class LiveChecks: Sendable {
    private struct Checks {
        var live: Set<UUID> = []
        /// Retirement is for good (a UUID never comes back): a late notification that still
        /// shows one live changes nothing.
        var retired: Set<UUID> = []
    }

    private let checks = Mutex(Checks())

    /// Checks this instance's configuration dropped (and so retired).
    func forget(_ retired: [UUID]) {
        checks.withLock { checks in
            checks.retired.formUnion(retired)
            checks.live.subtract(retired)
        }
    }

    func saw(_ states: [VersionedState]) {
        checks.withLock { checks in
            for state in states {
                if state.retired {
                    checks.retired.insert(state.check)
                    checks.live.remove(state.check)
                } else if !checks.retired.contains(state.check) {
                    checks.live.insert(state.check)
                }
            }
        }
    }

    /// Whether `check` is live in the shared store.
    public func contains(_ check: UUID) -> Bool { checks.withLock { $0.live.contains(check) } }
}
