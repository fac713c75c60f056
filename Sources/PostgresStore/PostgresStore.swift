import Alerting
import Foundation
import Logging
import NIOPosix
import Monitoring
import PingStore
import PostgresNIO
import Synchronization

/// The store of several instances on one PostgreSQL (SPEC §11). Every instance loads the same
/// `checks.d/`; identity (the UUID of each project/key, generated ping keys), pings, flips, the
/// check states (pause included) and the alert queue live in the database.
///
/// State transitions are decided in the database's transaction, with the check's row locked,
/// from the state stored there (`update`): two instances receiving pings for one check never
/// lose a flip, ping numbers stay gapless, and a deadline's flip happens once however many
/// instances watch it. Concurrent updates share transactions (group commit, `UpdateBatcher`).
/// Each instance keeps the states in memory as a cache, refreshed from its own commits and,
/// through NOTIFY, from the other instances' (`changes`).
public final class PostgresStore: Sendable {
    public let location: PostgresLocation
    let client: PostgresClient
    private let running: Task<Void, Never>
    let logger: Logger
    /// Pings kept per check (`--keep-pings`).
    let keepPings: Int
    /// This instance's name in notifications, so it skips its own.
    let instance: String
    private let closed = Atomic<Bool>(false)
    let batcher: UpdateBatcher
    public let alertQueue: PostgresAlertQueue
    /// The schema versions the open went from and to (0: a new database).
    public let migration: (from: Int, to: Int)

    /// Connections per instance: batches in flight, reads, delivery.
    static let maximumConnections = 12
    /// A read (the API's, the dashboard's, a reload's) not answered by then fails.
    static let readTimeout: Duration = .seconds(10)
    /// How long the start waits for the database before it gives up.
    static let startTimeout: Duration = .seconds(15)

    private init(
        location: PostgresLocation, client: PostgresClient, running: Task<Void, Never>, keepPings: Int, policy: RetryPolicy,
        migration: (Int, Int), logger: Logger
    ) {
        self.location = location
        self.client = client
        self.running = running
        self.keepPings = keepPings
        self.migration = migration
        self.logger = logger
        instance = UUID().lowercasedText
        batcher = UpdateBatcher(client: client, logger: logger, keepPings: keepPings, instance: instance)
        alertQueue = PostgresAlertQueue(client: client, policy: policy, logger: logger)
    }

    /// Connects, and creates or migrates the schema (under an advisory lock: instances
    /// starting together take turns).
    public static func open(_ location: PostgresLocation, keepPings: Int, policy: RetryPolicy = .standard, logger: Logger) async throws
        -> PostgresStore
    {
        let configuration: PostgresClient.Configuration
        do {
            configuration = try location.clientConfiguration(maximumConnections: maximumConnections)
        } catch {
            throw DatabaseError(operation: "connect to \(location)", message: "the TLS settings cannot be used: \(error)")
        }
        // The schema on a connection of its own first: a refused login or certificate is said
        // as such at once (the pool would retry it quietly until the start's timeout).
        let migration: (from: Int, to: Int)
        do {
            migration = try await onConnectionOfItsOwn(location, "connect to \(location) and prepare its schema", logger: logger) {
                try await Schema.migrate($0, logger: logger)
            }
        } catch {
            throw DatabaseError("connect to \(location) and prepare its schema", error)
        }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let running = Task { await client.run() }
        return PostgresStore(
            location: location, client: client, running: running, keepPings: keepPings, policy: policy, migration: migration, logger: logger)
    }

    public var isOpen: Bool { !closed.load(ordering: .acquiring) }

    /// Counters of the batches since the start, for `/metrics`.
    public struct Statistics: Sendable, Equatable {
        /// Batch statements run (each one round trip and one commit).
        public var statements = 0
        /// Updates (pings, flips, pauses) they stored or found nothing to do for.
        public var updates = 0
        /// Updates decided again because another instance had changed their check.
        public var conflicts = 0
        /// Statements that failed (their pings answered 503).
        public var failedStatements = 0
    }

    public var statistics: Statistics { batcher.statistics }

    /// Stops taking updates, waits (bounded) for the transactions in flight, and closes the
    /// connections.
    public func closeConnections() async {
        guard closed.exchange(true, ordering: .acquiringAndReleasing) == false else { return }
        await batcher.drain(upTo: .seconds(10))
        running.cancel()
    }

    // MARK: transitions

    /// Decides and stores one transition in a transaction shared with the others waiting
    /// (group commit); `completion` runs once it committed, or with the error (nothing of it
    /// stored). Never suspends.
    public func update(_ update: CheckUpdate, completion: @escaping @Sendable (Result<CheckUpdate.Outcome, any Error>) -> Void) {
        guard isOpen else {
            return completion(.failure(DatabaseError(operation: "store an update", message: "the store is closed (the server is stopping)")))
        }
        batcher.submit(update, completion: completion)
    }

    // MARK: reads

    public func pings(of check: UUID, limit: Int) async throws -> [Ping] {
        try await read("read the pings of \(check.lowercasedText)") { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: PingRecords.pingColumns) FROM kiothc_pings WHERE check_uuid = \(check) ORDER BY n DESC LIMIT \(Int64(max(0, limit)))",
                logger: self.logger)
            var pings: [Ping] = []
            for try await row in rows { pings.append(try PingRecords.ping(row)) }
            return pings
        }
    }

    public func ping(of check: UUID, n: Int) async throws -> Ping? {
        try await read("read ping \(n) of \(check.lowercasedText)") { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: PingRecords.pingColumns) FROM kiothc_pings WHERE check_uuid = \(check) AND n = \(Int64(n))", logger: self.logger)
            for try await row in rows { return try PingRecords.ping(row) }
            return nil
        }
    }

    public func flips(of check: UUID, limit: Int) async throws -> [StoredFlip] {
        try await read("read the flips of \(check.lowercasedText)") { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: PingRecords.flipReadColumns) FROM kiothc_flips WHERE check_uuid = \(check) ORDER BY n DESC LIMIT \(Int64(max(0, limit)))",
                logger: self.logger)
            var flips: [StoredFlip] = []
            for try await row in rows { flips.append(try PingRecords.flip(row)) }
            return flips
        }
    }

    /// Every live check's state with its version (what a start and a reconnected listener
    /// load), or only those of `checks`.
    public func states(of checks: [UUID]? = nil) async throws -> [VersionedState] {
        try await read("read the checks' states") { connection in
            let rows: PostgresRowSequence
            if let checks {
                rows = try await connection.query(
                    "SELECT \(unescaped: StateRow.columns) FROM kiothc_checks WHERE uuid = ANY(\(checks))", logger: self.logger)
            } else {
                rows = try await connection.query(
                    "SELECT \(unescaped: StateRow.columns) FROM kiothc_checks WHERE retired_us IS NULL", logger: self.logger)
            }
            var read: [StateRow] = []
            for try await row in rows { read.append(try StateRow(row: row)) }
            // What was read is the newest seen: the next batch decides from it.
            self.batcher.saw(read)
            return read.map { VersionedState(check: $0.check, state: $0.state, version: $0.version, retired: $0.retired) }
        }
    }

    /// Whether a pooled connection runs over TLS (`pg_stat_ssl`): what `sslmode` negotiated.
    public func connectionIsEncrypted() async throws -> Bool {
        try await read("ask whether the connection is encrypted") { connection in
            for try await (ssl) in try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: self.logger)
                .decode(Bool.self)
            {
                return ssl
            }
            return false
        }
    }

    public func loadStates() async throws -> [UUID: CheckState] {
        Dictionary(try await states().map { ($0.check, $0.state) }, uniquingKeysWith: { $1 })
    }

    /// A query on a pooled connection, its failure said for a person.
    @discardableResult
    func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await Self.within(Self.readTimeout, what) { [client] in try await client.withConnection { try await body($0) } }
        } catch {
            throw DatabaseError(what, error)
        }
    }

    /// `body` on a connection of its own (not the pool's), closed after it, within the start's
    /// timeout: what is wrong with a login or a certificate comes back at once, as it is.
    static func onConnectionOfItsOwn<T: Sendable>(
        _ location: PostgresLocation, _ what: String, logger: Logger, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let configuration = try location.connectionConfiguration(nameSuffix: "")
        return try await within(startTimeout, what) {
            let connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 0, logger: logger)
            do {
                let result = try await body(connection)
                try? await connection.close()
                return result
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }

    /// `body`, failing with a timeout after `limit` (the pool waits for a connection forever).
    /// Not a task group: a group waits for its cancelled child, and a query stuck on a dead
    /// connection would keep the caller waiting anyway. At the timeout `body` is cancelled (a
    /// connection it waits for is no longer wanted); a result it still gives is dropped (a
    /// batch that committed after all is stored, its pings having been answered 503).
    static func within<T: Sendable>(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let race = Race(continuation)
            let work = Task {
                do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
            }
            race.timer = Task {
                try await Task.sleep(for: limit)
                race.finish(.failure(DatabaseError(operation: what, message: "no answer within \(limit) (is the database running and reachable?)")))
                work.cancel()
            }
        }
    }
}

/// The first of a result and a timeout resumes the caller; the timer stops with the result.
private final class Race<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, any Error>?>
    private let timerTask = Mutex<Task<Void, any Error>?>(nil)

    init(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation = Mutex(continuation)
    }

    var timer: Task<Void, any Error>? {
        get { timerTask.withLock { $0 } }
        set {
            // The result may have come first: then the new timer stops at once.
            let finished = continuation.withLock { $0 == nil }
            timerTask.withLock { $0 = newValue }
            if finished { newValue?.cancel() }
        }
    }

    func finish(_ result: Result<Value, any Error>) {
        let waiting = continuation.withLock { continuation in
            defer { continuation = nil }
            return continuation
        }
        guard let waiting else { return }
        waiting.resume(with: result)
        timerTask.withLock { $0 }?.cancel()
    }
}
