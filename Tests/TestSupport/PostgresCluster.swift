import Foundation
import Synchronization
import Testing

/// A private PostgreSQL server for a test run (issue 20): a throwaway cluster in a temporary
/// directory, started by `scripts/pg-cluster` (real PostgreSQL from the distribution's package,
/// run as the unprivileged `postgres` user when the tests run as root), reached through a Unix
/// socket in that directory. Each test takes a fresh database of its own (`createDatabase`).
///
/// Every call here blocks its thread for as long as the script runs (a start takes about a
/// second, more on a busy machine) and every wait is bounded. From an async test call it
/// through `onOwnThread` (TestSupport), so no thread of the cooperative pool is parked, or take
/// `startForTest()`, which does that and cancels (skips) the test when PostgreSQL is missing:
///
///     let cluster = try await PostgresCluster.startForTest()
///     let url = try await onOwnThread { try cluster.createDatabase("pings_order") }
public final class PostgresCluster: Sendable {
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let script = repository.appendingPathComponent("scripts/pg-cluster").path
    /// Why a test that needs PostgreSQL did not run when `start` gave nil.
    public static let notInstalled = "PostgreSQL is not installed (apt-get install -y postgresql)"

    /// The database `kiothc`, through the socket: `postgres://postgres@/kiothc?host=DIR`.
    public let url: String
    /// The same database on 127.0.0.1, when started with `tcp: true`.
    public let tcpURL: String?
    /// The cluster's directory, which holds its socket (and `data/`, `server.log`).
    public let socketDirectory: String
    private let stopped = Mutex(false)

    private init(url: String, tcpURL: String?, socketDirectory: String) {
        self.url = url
        self.tcpURL = tcpURL
        self.socketDirectory = socketDirectory
    }

    /// Starts a cluster in a new temporary directory, or returns nil when PostgreSQL is not
    /// installed (the caller skips). Under `CI=true` a missing PostgreSQL throws instead, as the
    /// test scripts fail there rather than skip (scripts/skips.sh): CI never passes on less than
    /// it says. `environment` is added to the script's (the tests of this helper use it).
    public static func start(tcp: Bool = false, environment: [String: String] = [:]) throws -> PostgresCluster? {
        let environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        // Short: the socket's path (DIR/.s.PGSQL.PORT) must fit in 107 bytes.
        let name = "kiothc-pg-" + UUID().uuidString.prefix(8).lowercased()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        // Whatever went wrong, no server and no directory is left behind.
        func removeCluster() { _ = try? runScript(["stop", "--remove", directory], environment: environment, timeout: 120) }
        let result: Result
        do {
            result = try runScript(["start"] + (tcp ? ["--tcp"] : []) + [directory], environment: environment, timeout: 240)
        } catch {
            removeCluster()
            throw error
        }
        switch result.status {
        case 0:
            let lines = result.output.split(separator: "\n").map(String.init)
            guard let url = lines.first, url.hasPrefix("postgres://"), lines.count == (tcp ? 2 : 1) else {
                removeCluster()
                throw Failed(description: "scripts/pg-cluster start \(directory) printed no URL: \(result.output)\(result.errors)")
            }
            return PostgresCluster(url: url, tcpURL: tcp ? lines[1] : nil, socketDirectory: directory)
        case 3:
            if environment["CI"]?.lowercased() == "true" {
                throw Failed(
                    description: "\(result.errors.trimmingCharacters(in: .whitespacesAndNewlines)); under CI=true a skipped test fails (.ci/run installs what it needs)")
            }
            return nil
        default:
            removeCluster()
            throw Failed(description: "scripts/pg-cluster start \(directory) failed (exit \(result.status)):\n\(result.errors)")
        }
    }

    /// `start` for an async test: off the cooperative pool, and the test is cancelled (reported
    /// as skipped, with the reason) when PostgreSQL is not installed; under CI=true it fails.
    public static func startForTest(tcp: Bool = false) async throws -> PostgresCluster {
        guard let cluster = try await onOwnThread({ try start(tcp: tcp) }) else {
            try Test.cancel(Comment(rawValue: notInstalled))
        }
        return cluster
    }

    /// Stops the server (fast shutdown) and starts it again on the same socket and port, as a
    /// database restarted under load; returns once it accepts connections again.
    public func restart() throws {
        let result = try Self.runScript(["restart", socketDirectory], timeout: 240)
        guard result.status == 0 else {
            throw Failed(description: "scripts/pg-cluster restart \(socketDirectory) failed (exit \(result.status)):\n\(result.errors)")
        }
    }

    /// Stops the server and keeps its directory (`restart` starts it again): the database
    /// away for as long as a test wants.
    public func stopServer() throws {
        let result = try Self.runScript(["stop", socketDirectory], timeout: 180)
        guard result.status == 0 else {
            throw Failed(description: "scripts/pg-cluster stop \(socketDirectory) failed (exit \(result.status)):\n\(result.errors)")
        }
    }

    /// Stops the server and removes its directory. Once: later calls (and `deinit`) do nothing.
    public func stop() throws {
        guard stopped.withLock({ stopped in defer { stopped = true }; return !stopped }) else { return }
        let result = try Self.runScript(["stop", "--remove", socketDirectory], timeout: 180)
        guard result.status == 0 else {
            throw Failed(description: "scripts/pg-cluster stop --remove \(socketDirectory) failed (exit \(result.status)):\n\(result.errors)")
        }
    }

    deinit {
        try? stop()
    }

    /// Creates an empty database `name` (lower-case letters, digits and _, as PostgreSQL folds
    /// an unquoted name) and returns its URL, through the socket.
    public func createDatabase(_ name: String) throws -> String {
        let allowed = name.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0.isDigit || $0 == UInt8(ascii: "_") }
        guard let first = name.utf8.first, !first.isDigit, name.utf8.count <= 63, allowed else {
            throw Failed(description: "database name '\(name)' must be 1-63 of a-z, 0-9 and _, not starting with a digit")
        }
        try psql(database: "kiothc", command: "CREATE DATABASE \(name)")
        return "postgres://postgres@/\(name)?host=\(socketDirectory)" + (port == "5432" ? "" : "&port=\(port)")
    }

    /// The port the socket is named after (`.s.PGSQL.<port>`): 5432 unless started with TCP.
    private var port: String {
        URLComponents(string: url)?.queryItems?.first { $0.name == "port" }?.value ?? "5432"
    }

    /// Runs one SQL command with psql through the socket; returns its unaligned output.
    @discardableResult
    public func psql(database: String = "kiothc", command: String) throws -> String {
        guard let psql = Self.program("psql") else { throw Failed(description: "psql is missing: \(Self.notInstalled)") }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        environment["PGCONNECT_TIMEOUT"] = "10"
        let result = try Self.run(
            psql, ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", port, "-U", "postgres", "-d", database, "-c", command],
            environment: environment, timeout: 60)
        guard result.status == 0 else {
            throw Failed(description: "psql -d \(database) -c '\(command)' failed (exit \(result.status)): \(result.errors)")
        }
        return result.output
    }

    /// A PostgreSQL program of the newest version under /usr/lib/postgresql (as the script
    /// picks its own), else from PATH.
    public static func program(_ name: String) -> String? {
        let lib = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        let newest = versions.compactMap { version -> (key: [Int], path: String)? in
            let path = "\(lib)/\(version)/bin/\(name)"
            guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
            return (version.split(separator: ".").map { Int($0) ?? 0 }, path)
        }.max { $0.key.lexicographicallyPrecedes($1.key) }
        if let newest { return newest.path }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `scripts/pg-cluster` (through /bin/bash, so it needs no PATH to find bash).
    public static func runScript(_ arguments: [String], environment: [String: String]? = nil, timeout: TimeInterval) throws -> Result {
        try run("/bin/bash", [script] + arguments, environment: environment, timeout: timeout)
    }

    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var errors: String
    }

    /// Runs a program to its end, at most `timeout` seconds (then SIGTERM, SIGKILL 5 s later,
    /// and an error). Its output goes to temporary files rather than pipes: nothing has to read
    /// while it runs, and a server it leaves running cannot hold a pipe open.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: TimeInterval) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-pg-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputFile = scratch.appendingPathComponent("stdout")
        let errorFile = scratch.appendingPathComponent("stderr")
        guard FileManager.default.createFile(atPath: outputFile.path, contents: nil), FileManager.default.createFile(atPath: errorFile.path, contents: nil) else {
            throw Failed(description: "cannot create files for the output of \(executable) in \(scratch.path)")
        }
        let output = try FileHandle(forWritingTo: outputFile)
        let errors = try FileHandle(forWritingTo: errorFile)
        defer {
            try? output.close()
            try? errors.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try launch(process)
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            if exited.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                _ = exited.wait(timeout: .now() + 5)
            }
            throw Failed(description: "\(executable) \(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s")
        }
        return Result(
            status: process.terminationStatus,
            output: (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "",
            errors: (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "")
    }
}

extension UInt8 {
    fileprivate var isDigit: Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) }
}
