import Foundation
import Testing
import TestSupport

/// The harness the PostgreSQL tests stand on (`PostgresCluster`, `scripts/pg-cluster`): a real
/// server starts, serves fresh databases, comes back after a restart with what was committed,
/// and leaves nothing running once stopped; bad usage is refused.
@Suite("PostgreSQL cluster for tests")
struct PostgresClusterTests {
    @Test("a cluster serves fresh databases, keeps what was committed across a restart, and leaves no process once stopped")
    func lifecycle() async throws {
        let cluster = try await PostgresCluster.startForTest()
        let directory = cluster.socketDirectory
        #expect(cluster.url == "postgres://postgres@/kiothc?host=\(directory)")
        let settings = try await onOwnThread {
            try cluster.psql(command: "select current_setting('fsync'), current_setting('synchronous_commit'), current_setting('max_connections'), current_setting('listen_addresses') = ''")
        }
        #expect(settings == "on|on|200|t\n")

        let first = try await onOwnThread { try cluster.createDatabase("harness_first") }
        #expect(first == "postgres://postgres@/harness_first?host=\(directory)")
        #expect(try await onOwnThread { try cluster.psql(database: "harness_first", command: "select 1") } == "1\n")
        _ = try await onOwnThread {
            try cluster.psql(database: "harness_first", command: "create table kept (n int); insert into kept values (42)")
        }
        _ = try await onOwnThread { try cluster.createDatabase("harness_second") }
        let tables = try await onOwnThread {
            try cluster.psql(database: "harness_second", command: "select count(*) from pg_tables where schemaname = 'public'")
        }
        #expect(tables == "0\n", "a new database is empty")

        let postmaster = try Self.postmaster(of: directory)
        #expect(Self.processes(in: directory).contains(postmaster), "the running server's processes are found (so the check after stop means something)")
        try await onOwnThread { try cluster.restart() }
        let restarted = try Self.postmaster(of: directory)
        #expect(restarted != postmaster)
        let oldLeft = try await onOwnThread { Self.waitUntilGone([postmaster], from: directory) }
        #expect(oldLeft.isEmpty, "the old server is gone after a restart")
        #expect(try await onOwnThread { try cluster.psql(database: "harness_first", command: "select n from kept") } == "42\n")

        try await onOwnThread { try cluster.stop() }
        #expect(!FileManager.default.fileExists(atPath: directory), "stop removes the directory")
        let left = try await onOwnThread { Self.waitUntilGone(nil, from: directory) }
        #expect(left.isEmpty, "processes of the stopped cluster still run: \(left)")
        try await onOwnThread { try cluster.stop() }  // a second stop does nothing
    }

    @Test("with --tcp it also listens on 127.0.0.1, on a free port; a taken port fails with the server's log")
    func tcp() async throws {
        let cluster = try await PostgresCluster.startForTest(tcp: true)
        let tcpURL = try #require(cluster.tcpURL)
        let port = try #require(URLComponents(string: tcpURL)?.port)
        #expect(tcpURL == "postgres://postgres@127.0.0.1:\(port)/kiothc?sslmode=disable")
        #expect(cluster.url == "postgres://postgres@/kiothc?host=\(cluster.socketDirectory)&port=\(port)")
        let psql = try #require(PostgresCluster.program("psql"))
        let selected = try await onOwnThread {
            try PostgresCluster.run(psql, ["-X", "-A", "-t", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "kiothc", "-c", "select 1"], timeout: 60)
        }
        #expect(selected.status == 0, "\(selected.errors)")
        #expect(selected.output == "1\n")

        let other = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-pg-taken-\(UUID().uuidString.prefix(8))").path
        let taken = try await onOwnThread { try PostgresCluster.runScript(["start", "--tcp", "\(port)", other], timeout: 240) }
        let removed = try await onOwnThread { try PostgresCluster.runScript(["stop", "--remove", other], timeout: 120) }
        #expect(taken.status == 1)
        #expect(taken.errors.contains("Address already in use"), "the server log's tail is shown: \(taken.errors)")
        #expect(taken.errors.contains("port \(port) on 127.0.0.1 is taken"))
        #expect(taken.output.isEmpty, "no URL for a server that did not start")
        #expect(removed.status == 0, "\(removed.errors)")
        #expect(!FileManager.default.fileExists(atPath: other))
        try await onOwnThread { try cluster.stop() }
    }

    static let badUsages: [([String], String)] = [
        ([], "no command given"),
        (["start"], "start needs a DIR"),
        (["stop", "--remove"], "stop needs a DIR"),
        (["frobnicate", "/tmp/x"], "unknown command 'frobnicate'"),
        (["start", "--remove", "/tmp/x"], "--remove belongs to stop"),
        (["start", "--tcp", "70000", "/tmp/x"], "--tcp port '70000' is not 0-65535"),
        (["start", "/tmp/x", "/tmp/y"], "more than one DIR"),
        (["start", "/tmp/it's"], "may hold only letters, digits"),
        (["start", "/tmp/" + String(repeating: "d", count: 100)], "over the 107 a Unix socket allows"),
    ]

    @Test("bad usage: exit 2 with what is wrong and where the help is", arguments: badUsages)
    func badUsage(arguments: [String], message: String) async throws {
        let result = try await onOwnThread { try PostgresCluster.runScript(arguments, timeout: 60) }
        #expect(result.status == 2)
        #expect(result.errors.contains(message), "\(result.errors)")
        #expect(result.errors.contains("scripts/pg-cluster --help"))
        #expect(result.output.isEmpty)
    }

    @Test("--help explains the commands, the URL, the user and the package")
    func help() async throws {
        let result = try await onOwnThread { try PostgresCluster.runScript(["--help"], timeout: 60) }
        #expect(result.status == 0)
        for text in ["start [--tcp [PORT]] DIR", "stop [--remove] DIR", "restart DIR", "postgres://postgres@/kiothc?host=DIR", "\"postgres\"", "apt-get install -y postgresql"] {
            #expect(result.output.contains(text), "\(text)")
        }
    }

    @Test("stop refuses a directory the script did not make and leaves it")
    func foreignDirectory() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-pg-foreign-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("mine".utf8).write(to: directory.appendingPathComponent("file"))
        let result = try await onOwnThread { try PostgresCluster.runScript(["stop", "--remove", directory.path], timeout: 60) }
        if result.status == 3 { try Test.cancel(Comment(rawValue: PostgresCluster.notInstalled)) }
        #expect(result.status == 1)
        #expect(result.errors.contains("is not a cluster made by scripts/pg-cluster"), "\(result.errors)")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("file").path))
    }

    @Test("without PostgreSQL: the script names the package (exit 3), start gives nil, and under CI=true it fails")
    func notInstalled() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-pg-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let missing = ["PG_CLUSTER_LIB": empty.path, "PATH": empty.path]
        let target = empty.appendingPathComponent("cluster").path
        let script = try await onOwnThread { try PostgresCluster.runScript(["start", target], environment: missing, timeout: 60) }
        #expect(script.status == 3)
        #expect(script.errors.contains("PostgreSQL is not installed"), "\(script.errors)")
        #expect(script.errors.contains("apt-get install -y postgresql"))
        #expect(!FileManager.default.fileExists(atPath: target), "nothing is created")

        let skipped = try await onOwnThread { try PostgresCluster.start(environment: missing.merging(["CI": ""]) { $1 }) }
        #expect(skipped == nil)
        let underCI = await #expect(throws: PostgresCluster.Failed.self) {
            _ = try await onOwnThread { try PostgresCluster.start(environment: missing.merging(["CI": "true"]) { $1 }) }
        }
        #expect(underCI?.description.contains("apt-get install -y postgresql") == true)
        #expect(underCI?.description.contains("under CI=true a skipped test fails") == true)
    }

    // MARK: The server's processes

    /// The postmaster's PID, from the first line of `data/postmaster.pid`.
    static func postmaster(of directory: String) throws -> Int32 {
        let text = try String(contentsOfFile: "\(directory)/data/postmaster.pid", encoding: .utf8)
        return try #require(Int32(text.prefix { $0 != "\n" }))
    }

    /// The live processes working in the cluster's data directory: the postmaster and every
    /// process it started (PostgreSQL's processes change into it). A zombie has no working
    /// directory, so an exited process not yet reaped does not count.
    static func processes(in directory: String) -> [Int32] {
        let data = "\(directory)/data"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd") else { return false }
            return cwd == data || cwd == "\(data) (deleted)"
        }
    }

    /// Polls for at most 10 s until none of `pids` (nil: no process at all) works in the
    /// cluster's data directory; returns the ones left. (`pg_ctl stop` returns once the
    /// postmaster removed its PID file, a moment before the process itself is gone.)
    static func waitUntilGone(_ pids: Set<Int32>?, from directory: String) -> [Int32] {
        let deadline = Date().addingTimeInterval(10)
        while true {
            let left = processes(in: directory).filter { pids?.contains($0) ?? true }
            if left.isEmpty || Date() >= deadline { return left }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}
