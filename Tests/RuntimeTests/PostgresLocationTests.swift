import Alerting
import Foundation
import Logging
import Monitoring
import PostgresStore
import Testing
import TestSupport

@testable import Runtime

/// `--store` URLs (libpq's forms) and `sslmode`, parsed and used against a real server.
@Suite("PostgreSQL URLs and TLS")
struct PostgresLocationTests {
    @Test("the URL forms libpq reads: host and port, a Unix socket's directory, parameters, percent-encoding")
    func forms() throws {
        let tcp = try PostgresLocation("postgres://kiothc:s%40cret@db.internal:6543/checks?sslmode=verify-full&application_name=hc-1")
        #expect(tcp.endpoint == .tcp(host: "db.internal", port: 6543))
        #expect(tcp.user == "kiothc")
        #expect(tcp.password == "s@cret")
        #expect(tcp.database == "checks")
        #expect(tcp.sslMode == .verifyFull)
        #expect(tcp.applicationName == "hc-1")
        let socket = try PostgresLocation("postgresql://postgres@/kiothc?host=/run/postgresql&port=5433")
        #expect(socket.endpoint == .socket(path: "/run/postgresql/.s.PGSQL.5433"))
        #expect(socket.sslMode == .prefer, "libpq's default")
        #expect(try PostgresLocation("postgres://u@h/d").endpoint == .tcp(host: "h", port: 5432))
        #expect(try PostgresLocation("postgres://h/d?user=u&dbname=other").database == "other")
    }

    @Test("bad URLs are refused naming what is wrong, and never show the password", arguments: [
        ("postgres://u:pw@h:0/d", "port '0' is not 1-65535"),
        ("postgres://u:pw@h/d?sslmode=maybe", "sslmode 'maybe' is not one of disable, allow, prefer, require, verify-ca, verify-full"),
        ("postgres://u:pw@h/d?sslmod=require", "unknown parameter 'sslmod'"),
        ("postgres://u:pw@h/", "no database name"),
        ("postgres://h/d", "no user name"),
        ("postgres://u:pw@/d", "no host (for a Unix socket, add ?host=/path/to/socket/directory)"),
        ("mysql://u:pw@h/d", "it must start with postgres:// or postgresql://"),
    ])
    func refused(url: String, reason: String) {
        #expect {
            _ = try PostgresLocation(url)
        } throws: { error in
            let text = "\(error)"
            return text.contains(reason) && !text.contains("pw") && text.contains("***") == url.contains(":pw@")
        }
    }

    @Test("--store takes file or a PostgreSQL URL, nothing else")
    func choice() throws {
        #expect(try StoreChoice("file") == .files)
        #expect(try StoreChoice("postgres://u@h/d") == .postgres(try PostgresLocation("postgres://u@h/d")))
        #expect(throws: PostgresLocation.Invalid.self) { try StoreChoice("/var/lib/kiothc") }
    }

    @Test("a URL in a message shows no password")
    func redacted() throws {
        #expect(PostgresLocation.redacted("postgres://u:secret@h/d?password=other") == "postgres://u:***@h/d?password=***")
        #expect("\(try PostgresLocation("postgres://u:secret@h/d"))" == "postgres://u:***@h:5432/d?sslmode=prefer")
    }

    /// A private cluster on 127.0.0.1 with TLS on, its certificate for 127.0.0.1 signed by a
    /// throwaway CA made with openssl. Nil when PostgreSQL or openssl is missing (skips, except
    /// under CI=true, where the cluster's start fails).
    static func tlsCluster(in directory: String) throws -> (PostgresCluster, ca: String, port: String)? {
        guard let cluster = try PostgresCluster.start(tcp: true), let tcp = cluster.tcpURL,
            let port = URLComponents(string: tcp)?.port.map(String.init)
        else { return nil }
        let script = """
            set -e
            cd '\(directory)'
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kiothc-test-ca -keyout ca.key -out ca.crt 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt 2>/dev/null
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other.crt 2>/dev/null
            cp server.crt server.key '\(cluster.socketDirectory)/'
            chmod 0600 '\(cluster.socketDirectory)/server.key'
            chown --reference='\(cluster.socketDirectory)/data' '\(cluster.socketDirectory)/server.crt' '\(cluster.socketDirectory)/server.key'
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        try launch(process)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            try cluster.stop()
            throw PostgresCluster.Failed(description: "openssl could not make the test certificates (is openssl installed?)")
        }
        try cluster.psql(command: "ALTER SYSTEM SET ssl_cert_file = '\(cluster.socketDirectory)/server.crt'")
        try cluster.psql(command: "ALTER SYSTEM SET ssl_key_file = '\(cluster.socketDirectory)/server.key'")
        try cluster.psql(command: "ALTER SYSTEM SET ssl = on")
        try cluster.psql(command: "SELECT pg_reload_conf()")
        return (cluster, "\(directory)/ca.crt", port)
    }

    @Test("sslmode against a real server with TLS: require and verify-full connect (verify-full only with the right root); disable connects in clear")
    func tls() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let (cluster, ca, port) = try await onOwnThread({ try Self.tlsCluster(in: directory) }) else { return }
        defer { try? cluster.stop() }
        let logger = Logger(label: "tls-test", factory: { _ in SwiftLogNoOpLogHandler() })
        func open(_ query: String) async throws -> PostgresStore {
            try await PostgresStore.open(PostgresLocation("postgres://postgres@127.0.0.1:\(port)/kiothc?\(query)"), keepPings: 10, logger: logger)
        }
        func encrypted(_ store: PostgresStore) async throws -> Bool {
            try await store.connectionIsEncrypted()
        }
        for query in ["sslmode=require", "sslmode=verify-ca&sslrootcert=\(ca)", "sslmode=verify-full&sslrootcert=\(ca)"] {
            let store = try await open(query)
            #expect(try await encrypted(store), "\(query): TLS in use")
            await store.closeConnections()
        }
        let clear = try await open("sslmode=disable")
        #expect(try await encrypted(clear) == false, "sslmode=disable: no TLS")
        await clear.closeConnections()
        // Refused at once, and said as such (not a timeout).
        let started = ContinuousClock.now
        await #expect("a certificate from another CA is refused") {
            _ = try await open("sslmode=verify-full&sslrootcert=\(directory)/other.crt")
        } throws: { error in
            "\(error)".contains("CERTIFICATE_VERIFY_FAILED") || "\(error)".contains("certificate")
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}

/// The schema at start, and retention, on a real PostgreSQL.
@Suite("PostgreSQL schema and retention")
struct PostgresSchemaTests {
    static let logger = Logger(label: "schema-test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func database() async throws -> PostgresLocation? {
        do {
            return try PostgresLocation(try await SharedPostgres.database("schema"))
        } catch is SharedPostgres.Unavailable {
            return nil
        }
    }

    @Test("instances starting together on a new database take turns: one creates the schema, all open it")
    func concurrentStart() async throws {
        guard let location = try await Self.database() else { return }
        let migrations = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let store = try await PostgresStore.open(location, keepPings: 10, logger: Self.logger)
                    await store.closeConnections()
                    return store.migration
                }
            }
            var migrations: [(Int, Int)] = []
            for try await migration in group { migrations.append(migration) }
            return migrations
        }
        #expect(migrations.filter { $0 == (0, 3) }.count == 1, "exactly one created it: \(migrations)")
        #expect(migrations.filter { $0 == (3, 3) }.count == 3)
    }

    /// Takes a version 3 database back to what issue 21's kiothc created (version 2).
    static let downgradeTo2 = """
        DROP INDEX kiothc_alerts_held; ALTER TABLE kiothc_alerts DROP COLUMN held; ALTER TABLE kiothc_alerts DROP COLUMN withdrawn_reason;
        ALTER TABLE kiothc_flips DROP COLUMN maintenance; ALTER TABLE kiothc_flips DROP COLUMN suppressed_by; UPDATE kiothc_schema SET version = 2;
        """

    @Test("a version 2 database (issue 21) is migrated to version 3 at start: its flips unmarked, its pending alert pending, not held")
    func migratesFromVersion2() async throws {
        guard let location = try await Self.database() else { return }
        let store = try await PostgresStore.open(location, keepPings: 10, logger: Self.logger)
        let check = try await register(in: store)
        let flipTime = contractT0 + 5_000_000
        let flip = Flip(time: flipTime, old: .up, new: .down, reason: .timeout)
        let alert = contractAlert("hook", .down, flipTime: flipTime, check: check)
        try await store.record(flip, of: check, alerts: [alert])
        try await store.close()
        let cluster = try await onOwnThread { try SharedPostgres.cluster() }
        _ = try await onOwnThread { try cluster.psql(database: location.database, command: Self.downgradeTo2) }
        // What issue 21's kiothc reads back: its columns only.
        let old = try await onOwnThread {
            try cluster.psql(database: location.database, command: "SELECT count(*) FROM kiothc_alerts WHERE next_attempt_us IS NOT NULL")
        }
        #expect(old.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

        let migrated = try await PostgresStore.open(location, keepPings: 10, logger: Self.logger)
        #expect(migrated.migration == (2, 3))
        #expect(try await migrated.flips(of: check, limit: 5).map(\.flip) == [flip])
        #expect(try await migrated.alerts.heldBack().isEmpty)
        #expect(try await migrated.alerts.record(of: alert.id)?.state == .pending)
        #expect(await migrated.alerts.nextDue() == flipTime)
        #expect(await migrated.alerts.claimDue(at: flipTime).map(\.id) == [alert.id])
        // The new columns work on the migrated tables.
        let marked = Flip(time: flipTime + 1, old: .down, new: .up, reason: .ping, maintenance: true, suppressedBy: ["ops/db"])
        var heldUp = contractAlert("hook", .up, flipTime: flipTime + 1, check: check)
        heldUp.hold = AlertHold(maintenance: true, dependencies: ["ops/db"])
        try await migrated.record(marked, of: check, alerts: [heldUp])
        #expect(try await migrated.flips(of: check, limit: 5).map(\.flip) == [marked, flip])
        #expect(try await migrated.alerts.heldBack() == [HeldBackAlert(alert: heldUp, held: true)])
        try await migrated.close()
    }

    @Test("a version 1 database (issue 20) is migrated to the current version at start, keeping its alerts: they are not tests")
    func migratesFromVersion1() async throws {
        guard let location = try await Self.database() else { return }
        let store = try await PostgresStore.open(location, keepPings: 10, logger: Self.logger)
        await store.closeConnections()
        let cluster = try await onOwnThread { try SharedPostgres.cluster() }
        // Back to what issue 20's kiothc created, with an alert it queued.
        _ = try await onOwnThread {
            try cluster.psql(
                database: location.database,
                command: """
                    \(Self.downgradeTo2)
                    DROP INDEX kiothc_alerts_check; ALTER TABLE kiothc_alerts DROP COLUMN test; UPDATE kiothc_schema SET version = 1;
                    INSERT INTO kiothc_alerts (id, check_uuid, project, channel, record, created_us, next_attempt_us)
                    VALUES ('7d7c4a5e-0000-4000-8000-00000000000b', '0b7c4a5e-0000-4000-8000-00000000000a', 'ops', 'hook',
                      '{"channel":"hook","check":"0b7c4a5e-0000-4000-8000-00000000000a","created_us":2,"direction":"down","flip_time_us":1,"id":"7d7c4a5e-0000-4000-8000-00000000000b","project":"ops","type":"alert","v":1,"values":{"body":"","code":"0b7c4a5e-0000-4000-8000-00000000000a","exit_status":"","name":"Backup","now":"2026-03-29T23:00:00Z","project":"Ops","slug":"backup","status":"down","tags":""}}',
                      2, 2)
                    """)
        }
        let migrated = try await PostgresStore.open(location, keepPings: 10, logger: Self.logger)
        #expect(migrated.migration == (1, 3))
        let history = try await migrated.alerts.history(of: UUID(uuidString: "0b7c4a5e-0000-4000-8000-00000000000a")!, limit: 10)
        #expect(history.map(\.alert.values.name) == ["Backup"])
        #expect(history.first?.alert.test == false)
        #expect(history.first?.state == .pending)
        let due = await migrated.alerts.claimDue(at: 10)
        #expect(due.map(\.id.uuidString) == ["7D7C4A5E-0000-4000-8000-00000000000B"])
        await migrated.closeConnections()
    }

    @Test("a database whose schema is newer than this kiothc is refused, saying what to do")
    func newerSchema() async throws {
        guard let location = try await Self.database() else { return }
        let store = try await PostgresStore.open(location, keepPings: 10, logger: Self.logger)
        await store.closeConnections()
        let cluster = try await onOwnThread { try SharedPostgres.cluster() }
        _ = try await onOwnThread { try cluster.psql(database: location.database, command: "UPDATE kiothc_schema SET version = 99") }
        await #expect {
            _ = try await PostgresStore.open(location, keepPings: 10, logger: Self.logger)
        } throws: { error in
            "\(error)".contains("schema is version 99, newer than this kiothc knows (3); run the newer kiothc")
        }
    }

    @Test("each check keeps its newest --keep-pings pings: older ones are pruned as new ones are stored")
    func retention() async throws {
        guard let location = try await Self.database() else { return }
        let store = try await PostgresStore.open(location, keepPings: 5, logger: Self.logger)
        var registry = try await store.loadRegistry()
        let identity = CheckIdentity(project: "ops", key: "backup")
        let check = try #require(try await store.assign([identity], in: &registry, at: 0)[identity])
        for n in 1...12 {
            let ping = Ping(n: n, time: Int64(n), kind: .success, method: "GET", scheme: "http", remoteAddress: "", userAgent: "", body: nil, bodySize: 0)
            try await store.record(ping, of: check)
        }
        #expect(try await store.pings(of: check, limit: 100).map(\.n) == [12, 11, 10, 9, 8])
        #expect(try await store.loadStates()[check]?.nPings == 12, "numbering goes on")
        await store.closeConnections()
    }
}
