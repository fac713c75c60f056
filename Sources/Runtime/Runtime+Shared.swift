import Alerting
import CheckCatalog
import Foundation
import Logging
import PingStore
import PostgresStore
import ServiceLifecycle

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
            return try await start(
                store: store, files: FileStore?.none, location: "the database \(location)", loaded: loaded, now: clock.now(), options: options, urls: urls,
                token: token, environment: environment, logger: logger, clock: clock, lock: DataDirectoryLock?.none)
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

    func run() async throws {
        let changes = store.changes()
        await cancelWhenGracefulShutdown {
            for await batch in changes {
                for versioned in batch where states.refresh(versioned.check, to: versioned.state, version: versioned.version) {
                    engine.moved(versioned.check)
                }
            }
        }
    }
}
