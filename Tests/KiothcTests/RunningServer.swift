import Foundation
import Synchronization
import Testing
import TestSupport

/// A real `kiothc serve` process on a loopback port chosen by the kernel, with its own config
/// and data directories; stopped (SIGTERM) by `stop()`, or by `terminate()` or its release
/// without waiting, and its directories removed once it has exited. In a suite with the
/// `.stopsServers` trait each test ends by waiting until every server it started has stopped.
///
/// Nothing here blocks a thread of Swift's cooperative pool (see `Background`): starting waits
/// for the "serving" log line with async sleeps, and the exit is awaited on a thread of its own.
final class RunningServer {
    let root: URL
    let process = Process()
    private let log = LogBuffer()
    private let termination: Termination
    private(set) var baseURL = ""
    /// The port the kernel chose, from `baseURL`.
    var port: Int { Int(baseURL.split(separator: ":").last ?? "") ?? 0 }

    var config: URL { root.appendingPathComponent("checks.d") }
    /// Its own `data` folder, or the `sharedData` it was given.
    let data: URL

    /// - Parameters:
    ///   - existing: copied to be its data directory.
    ///   - sharedData: used in place as its data directory (another server's, say); not removed.
    ///   - configFile: a file under the config folder given as `--config` (a single-file
    ///     configuration) in place of the folder.
    init(
        files: [String: String], arguments: [String] = [], listen: String = "127.0.0.1:0", data existing: URL? = nil,
        sharedData: URL? = nil, configFile: String? = nil, prepare: (URL) throws -> Void = { _ in }, environment: [String: String] = [:]
    ) async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-serve-\(UUID().uuidString)")
        let config = root.appendingPathComponent("checks.d")
        let data = sharedData ?? root.appendingPathComponent("data")
        self.data = data
        for (name, text) in files {
            let url = config.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        if let existing {
            try FileManager.default.copyItem(at: existing, to: data)
        }
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try prepare(config)

        process.executableURL = CLI.binary
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let configArgument = configFile.map { config.appendingPathComponent($0).path } ?? config.path
        process.arguments = ["serve", "--config", configArgument, "--data", data.path, "--listen", listen, "--log-level", "info"] + arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        log.follow(pipe)
        try launch(process)
        termination = Termination(of: process)
        StartedServers.current?.add(termination)
        // Up to the quote that ends the message in a JSON log line (--log-format json).
        baseURL = String(try await waitFor(prefix: "serving pings at ").prefix { $0 != "\"" })
    }

    /// Waits (at most 30 s) for a log line containing `prefix` and returns the rest of that line.
    func waitFor(prefix: String, timeout: TimeInterval = 30) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            // Looked at once more after the deadline: on a busy machine this task may not have
            // run for a while, and a line that arrived meanwhile is no failure.
            let late = Date() >= deadline
            let text = log.text.withLock { $0 }
            if let range = text.range(of: prefix) {
                let rest = text[range.upperBound...]
                return String(rest.prefix { $0 != "\n" })
            }
            if late || exit.isDone {
                throw ServerFailed(log: text)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    var output: String { log.text.withLock { $0 } }

    /// How many times `text` appears in the log so far.
    func occurrences(of text: String) -> Int {
        output.components(separatedBy: text).count - 1
    }

    /// Replaces a config file (atomically, as editors and git do: write aside, rename).
    func write(_ name: String, _ text: String) throws {
        let url = config.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(at: config.appendingPathComponent(name))
    }

    func signal(_ number: Int32) {
        Foundation.kill(process.processIdentifier, number)
    }

    /// The admin token the server generated into the data directory.
    func adminToken() throws -> String {
        try String(contentsOf: data.appendingPathComponent("admin-token"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls `condition` every 10 ms until it holds; returns the seconds it took, or throws
    /// after `timeout` seconds with the log.
    @discardableResult
    func waitUntil(_ what: String, timeout: TimeInterval = 10, _ condition: () async throws -> Bool) async throws -> TimeInterval {
        let start = Date()
        while true {
            // As in `waitFor`: the condition is tried once more after the timeout.
            let late = Date().timeIntervalSince(start) >= timeout
            if try await condition() { return Date().timeIntervalSince(start) }
            if exit.isDone { throw ServerFailed(log: output) }
            if late { throw ServerFailed(log: "timed out waiting until \(what)\n\(output)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// SIGTERM, and the exit status once it has exited and its log has been read to the end
    /// (the last lines, such as the stop line, can arrive after the exit is seen; at most 5 s
    /// more, in case a child of the server still holds the pipe).
    @discardableResult
    func stop() async -> Int32 {
        let status = await termination.stop()
        let deadline = Date().addingTimeInterval(5)
        while !log.ended.withLock({ $0 }) && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return status
    }

    /// SIGTERM without waiting: for `defer`, which cannot await.
    func terminate() {
        termination.request()
    }

    private var exit: Background<ProcessExit> { termination.exit }

    /// Released while it may still run (a test that failed before `stop()`): SIGTERM, SIGKILL if
    /// it still runs 10 s later, and its directories removed once it has exited. Nothing waits
    /// here: the exit's own thread does the rest.
    deinit {
        terminate()
        let exit = exit
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
            if !exit.isDone { Foundation.kill(pid, SIGKILL) }
        }
        let root = root
        exit.then { _ in try? FileManager.default.removeItem(at: root) }
    }

    // MARK: What the server wrote

    func uuid(_ project: String, _ key: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("registry.json"))) as? [String: Any]
        let checks = object?["checks"] as? [[String: Any]] ?? []
        guard let entry = checks.first(where: { $0["project"] as? String == project && $0["key"] as? String == key }),
              let uuid = entry["uuid"] as? String
        else { throw ServerFailed(log: "no UUID for \(project)/\(key) in registry.json") }
        return uuid
    }

    func generatedPingKey(_ project: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("ping-keys.json"))) as? [String: Any]
        guard let keys = object?["keys"] as? [String: String], let key = keys[project] else {
            throw ServerFailed(log: "no generated ping key for \(project)")
        }
        return key
    }

    /// The stored pings of a check, oldest first, one JSON object per line.
    func pings(_ uuid: String) throws -> [[String: Any]] {
        let url = data.appendingPathComponent("pings/\(uuid).jsonl")
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ServerFailed(log: "not a JSON object: \(line)")
            }
            return object
        }
    }
}

/// The servers the running test started, to wait for at its end (the `.stopsServers` trait).
final class StartedServers: Sendable {
    @TaskLocal static var current: StartedServers?

    private let started = Mutex<[Termination]>([])

    func add(_ server: Termination) {
        started.withLock { $0.append(server) }
    }

    func stopAll() async {
        for server in started.withLock({ $0 }) { _ = await server.stop() }
    }
}

/// Each test of the suite ends, passed or failed, only once every `RunningServer` it started
/// has exited: none is left shutting down while the next test runs or after the test process
/// ended (when a sanitizer report it writes at exit would be missed).
struct StopsServers: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil else { return try await function() }
        let servers = StartedServers()
        do {
            try await StartedServers.$current.withValue(servers) { try await function() }
        } catch {
            await servers.stopAll()
            throw error
        }
        await servers.stopAll()
    }
}

extension Trait where Self == StopsServers {
    static var stopsServers: Self { Self() }
}

/// The server's log as it arrives, read by the test while the reader thread appends.
final class LogBuffer: Sendable {
    let text = Mutex("")
    /// The server's end of the pipe closed: `text` holds everything it wrote.
    let ended = Mutex(false)

    /// Collects what the process writes to `pipe` as it arrives, until its end closes, with
    /// blocking reads on a thread of its own. Not with `readabilityHandler`: its dispatch source,
    /// cancelled from its own handler at the end of the pipe, crashed the test process in
    /// libdispatch's epoll loop (`_dispatch_event_loop_drain`, a freed source's note) on CI.
    func follow(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        _ = Background { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                text.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
            }
            ended.withLock { $0 = true }
        }
    }
}

struct ServerFailed: Error, CustomStringConvertible {
    let log: String
    var description: String { "the server did not start or failed:\n\(log)" }
}

/// A self-signed certificate for 127.0.0.1, made with openssl in `directory`.
enum SelfSignedCertificate {
    static func make(in directory: URL) async throws -> (cert: String, key: String) {
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"]
        let made = await (try Child(openssl)).output()
        try #require(made.status == 0, "openssl: \(made.stderr)")
        return (cert, key)
    }
}

/// curl, as a user of the Pinging API would run it.
enum Curl {
    struct Reply {
        var status: Int
        var httpVersion: String
        var headers: [String: String]
        var body: String
    }

    static func request(_ url: String, method: String = "GET", body: String? = nil, extra: [String] = []) async throws -> Reply {
        let directory = FileManager.default.temporaryDirectory
        let headerFile = directory.appendingPathComponent("curl-headers-\(UUID().uuidString)")
        let bodyFile = directory.appendingPathComponent("curl-body-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: headerFile)
            try? FileManager.default.removeItem(at: bodyFile)
        }
        var arguments = ["-sS", "--max-time", "20", "-D", headerFile.path, "-o", bodyFile.path, "-w", "%{http_code} %{http_version}"]
        switch method {
        case "HEAD": arguments.append("--head")
        case "GET": break
        default: arguments += ["-X", method]
        }
        if let body { arguments += ["--data-binary", body] }
        arguments += extra + [url]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let written = await (try Child(process)).output().stdout
        let parts = written.split(separator: " ")
        var headers: [String: String] = [:]
        let headerText = (try? String(contentsOf: headerFile, encoding: .utf8)) ?? ""
        for line in headerText.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        // With --head curl writes the headers where the body would go; a HEAD reply has none.
        let replyBody = method == "HEAD" ? "" : (try? String(contentsOf: bodyFile, encoding: .utf8)) ?? ""
        return Reply(status: Int(parts.first ?? "") ?? 0, httpVersion: parts.count > 1 ? String(parts[1]) : "", headers: headers, body: replyBody)
    }
}
