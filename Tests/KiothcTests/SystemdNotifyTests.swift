import Foundation
import Glibc
import Synchronization
import Testing
import TestSupport

/// systemd's readiness protocol end to end: the real `kiothc serve` with `NOTIFY_SOCKET`
/// pointing at a Unix datagram socket the test bound, as systemd binds its own.
@Suite("kiothc serve tells systemd when it is ready, stopping and alive (sd_notify)", .serialized, .stopsServers)
struct SystemdNotifyTests {
    static let files = ["checks.yaml": "projects:\n  ops: {}\nchecks:\n  backup: {project: ops, name: Backup, timeout: 1h}\n"]

    /// The URLs the server logged it serves at, in order.
    static func servingURLs(_ server: RunningServer) -> [String] {
        server.output.components(separatedBy: "serving pings at ").dropFirst().map { String($0.prefix { $0 != "\n" && $0 != "\"" }) }
    }

    @Test("READY=1 once every listener answers, with a STATUS naming them; STOPPING=1 on SIGTERM", arguments: [false, true])
    func readyAndStopping(abstractSocket: Bool) async throws {
        let notify = try FakeNotifySocket(abstract: abstractSocket)
        let server = try await RunningServer(
            files: Self.files, arguments: ["--listen", "127.0.0.1:0"], environment: ["NOTIFY_SOCKET": notify.address])
        defer { server.terminate() }
        let ready = try await notify.waitFor("READY=1") { $0.hasPrefix("READY=1\n") }
        // Both listeners logged that they serve before READY=1 was sent (the log line is
        // written first); the test's reader may see the second line a moment later.
        try await server.waitUntil("both listeners are logged", timeout: 5) { Self.servingURLs(server).count == 2 }
        let urls = Self.servingURLs(server)
        for url in urls {
            #expect(try await Curl.request("\(url)/-/ready").status == 200, "\(url)")
        }
        let status = ready.split(separator: "\n").first { $0.hasPrefix("STATUS=") } ?? ""
        #expect(status.hasPrefix("STATUS=serving 1 checks at "), "\(ready)")
        for url in urls { #expect(status.contains(url), "\(status)") }
        #expect(notify.messages == [ready], "READY=1 once, and nothing else without WATCHDOG_USEC")
        #expect(server.output.contains("systemd: READY=1 is sent through NOTIFY_SOCKET once every listener is bound"))

        #expect(await server.stop() == 0)
        let stopping = try await notify.waitFor("STOPPING=1") { $0.hasPrefix("STOPPING=1") }
        #expect(notify.messages == [ready, stopping], "\(notify.messages)")
    }

    @Test("no READY=1 from a server that does not start: an invalid config, a listener whose port is taken")
    func noReadyOnFailure() async throws {
        let notify = try FakeNotifySocket()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-notify-fail-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("checks.d")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try Data("checks:\n  backup: {project: nowhere, timeout: soon}\n".utf8).write(to: config.appendingPathComponent("checks.yaml"))
        let invalid = try await CLI.run(
            ["serve", "--config", config.path, "--data", root.appendingPathComponent("data").path, "--listen", "127.0.0.1:0"],
            environment: ["NOTIFY_SOCKET": notify.address])
        #expect(invalid.status == 1, "\(invalid.stderr)")
        // The process has exited: every datagram it sent is queued in the socket by now.
        #expect(notify.messages.isEmpty, "\(notify.messages)")

        try Data(Self.files["checks.yaml"]!.utf8).write(to: config.appendingPathComponent("checks.yaml"))
        let (taken, port) = try listenOnLoopback()
        defer { close(taken) }
        let busy = try await CLI.run(
            [
                "serve", "--config", config.path, "--data", root.appendingPathComponent("data").path, "--listen", "127.0.0.1:0", "--listen",
                "127.0.0.1:\(port)",
            ],
            environment: ["NOTIFY_SOCKET": notify.address])
        #expect(busy.status != 0, "\(busy.stderr)")
        #expect(!notify.messages.contains { $0.hasPrefix("READY=1") }, "one listener of two is not ready: \(notify.messages)")
    }

    @Test("WATCHDOG=1 every half WATCHDOG_USEC while running, not faster")
    func watchdog() async throws {
        let notify = try FakeNotifySocket()
        let launched = ContinuousClock.now
        let server = try await RunningServer(files: Self.files, environment: ["NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "400000"])
        defer { server.terminate() }
        _ = try await notify.waitFor("READY=1") { $0.hasPrefix("READY=1\n") }
        let feeds = { notify.messages.filter { $0 == "WATCHDOG=1" }.count }
        try await notify.waitUntil("6 watchdog feeds", timeout: 20) { feeds() >= 6 }
        // Every 0.2 s at most since the process started: more would mean it feeds too often.
        let elapsed = ContinuousClock.now - launched
        let allowed = Int(elapsed / .milliseconds(200)) + 1
        #expect(feeds() <= allowed, "\(feeds()) feeds in \(elapsed)")
        #expect(server.output.contains("the watchdog is fed every 0.2 s"))
        #expect(await server.stop() == 0)
        _ = try await notify.waitFor("STOPPING=1") { $0.hasPrefix("STOPPING=1") }
    }

    @Test("no watchdog when WATCHDOG_PID names another process, or WATCHDOG_USEC is not a number (said in the log)")
    func watchdogNotOurs() async throws {
        let cases: [([String: String], String?)] = [
            (["WATCHDOG_USEC": "50000", "WATCHDOG_PID": "1"], nil), (["WATCHDOG_USEC": "soon"], "WATCHDOG_USEC='soon' is not a positive number"),
        ]
        for (environment, logged) in cases {
            let notify = try FakeNotifySocket()
            let server = try await RunningServer(files: Self.files, environment: environment.merging(["NOTIFY_SOCKET": notify.address]) { $1 })
            defer { server.terminate() }
            _ = try await notify.waitFor("READY=1") { $0.hasPrefix("READY=1\n") }
            // Long enough for 20 feeds at WATCHDOG_USEC=50000 if the watchdog were (wrongly) on.
            try await Task.sleep(for: .seconds(1))
            #expect(await server.stop() == 0)
            _ = try await notify.waitFor("STOPPING=1") { $0.hasPrefix("STOPPING=1") }
            #expect(!notify.messages.contains("WATCHDOG=1"), "\(environment): \(notify.messages)")
            if let logged { #expect(server.output.contains(logged), "\(server.output)") }
        }
    }

    @Test("a notify socket nobody listens on: the failure is logged once and the server serves and stops as usual")
    func sendFailure() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-nobody-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await RunningServer(
            files: Self.files, environment: ["NOTIFY_SOCKET": directory.appendingPathComponent("gone.sock").path, "WATCHDOG_USEC": "100000"])
        defer { server.terminate() }
        try await server.waitUntil("the failure is logged") { server.output.contains("cannot tell systemd ") }
        // Several failed watchdog feeds later, still one line.
        try await Task.sleep(for: .milliseconds(500))
        #expect(server.occurrences(of: "cannot tell systemd ") == 1, "\(server.output)")
        #expect(server.output.contains("No such file or directory"))
        #expect(try await Curl.request("\(server.baseURL)/-/ready").status == 200)
        #expect(await server.stop() == 0)
    }

    @Test("NOTIFY_SOCKET that is not a Unix socket path or abstract name: said once, and the server serves", arguments: ["vsock:2:9999", "relative.sock", "@"])
    func unsupportedAddress(_ address: String) async throws {
        let server = try await RunningServer(files: Self.files, environment: ["NOTIFY_SOCKET": address])
        defer { server.terminate() }
        #expect(server.output.contains("NOTIFY_SOCKET='\(address)' is not a Unix socket path"), "\(server.output)")
        #expect(try await Curl.request("\(server.baseURL)/-/ready").status == 200)
        #expect(await server.stop() == 0)
    }
}

/// A Unix datagram socket standing in for systemd's notify socket: a path under a fresh
/// temporary folder, or an abstract name (`@…`). Non-blocking; datagrams are read as the test
/// asks, and a sender that has exited leaves its datagrams queued.
final class FakeNotifySocket: Sendable {
    private let descriptor: Int32
    /// The value for NOTIFY_SOCKET.
    let address: String
    private let directory: URL?
    private let received = Mutex<[String]>([])

    init(abstract: Bool = false) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        let name: [UInt8]
        if abstract {
            address = "@kiothc-test-\(UUID().uuidString)"
            directory = nil
            name = [0] + Array(address.utf8.dropFirst())
        } else {
            // Short: sun_path holds 108 bytes.
            let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("kiothc-notify-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            directory = folder
            address = folder.appendingPathComponent("notify.sock").path
            name = Array(address.utf8) + [0]
        }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count)
        let bound = withUnsafePointer(to: &socketAddress) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard descriptor >= 0, bound == 0 else {
            throw ServerFailed(log: "cannot bind the fake notify socket \(address): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        close(descriptor)
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Every datagram received so far, in order.
    var messages: [String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else { break }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            received.withLock { $0.append(text) }
        }
        return received.withLock { $0 }
    }

    /// Polls every 10 ms until `condition` holds; throws after `timeout` seconds.
    func waitUntil(_ what: String, timeout: TimeInterval, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let late = Date() >= deadline
            if condition() { return }
            if late { throw ServerFailed(log: "timed out waiting for \(what); received: \(messages)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The first datagram matching, waiting at most `timeout` seconds for it.
    func waitFor(_ what: String, timeout: TimeInterval = 30, _ match: (String) -> Bool) async throws -> String {
        try await waitUntil(what, timeout: timeout) { messages.contains(where: match) }
        return messages.first(where: match)!
    }
}
