import Foundation
import Synchronization
import Testing

/// A real SMTP server on loopback for a test: Python's aiosmtpd (pinned, in a venv made on
/// first use by `scripts/smtp/test-server`), with STARTTLS or implicit TLS on a certificate of a
/// throwaway CA, AUTH PLAIN/LOGIN for `user`/`password`, and a `Mode` for what goes wrong.
/// What it received is read back with `commands()` and `messages()`; each message comes parsed
/// by Python's `email` package, an independent reader of what the client wrote.
///
///     let server = try await SMTPTestServer.startForTest(mode: .accept)
///     defer { server.stop() }
///
/// The server is killed by `stop()` (or when the value goes away). Where Python's venv, openssl
/// or PyPI is missing, `startForTest` cancels (skips) the test; under CI=true it fails instead.
public final class SMTPTestServer: Sendable {
    public enum Mode: String, Sendable {
        case accept
        /// The first MAIL FROM gets 451, later ones are accepted.
        case tempfailOnce = "tempfail-once"
        /// RCPT TO a local part starting with "nobody" gets 550.
        case rejectRecipient = "reject-rcpt"
        /// The end of DATA gets 554.
        case rejectData = "reject-data"
        /// AUTH gets 535.
        case refuseAuth = "refuse-auth"
        /// The final "." is never answered.
        case stallData = "stall-data"
        /// Connections are accepted and never greeted.
        case silent
        /// The 220 to STARTTLS comes with a forged second reply in the same packet.
        case startTLSInjection = "starttls-inject"
    }

    public enum TLS: String, Sendable {
        case startTLS = "starttls"
        case implicit
        case none
    }

    /// The server's certificate, signed by `caFile`'s CA.
    public enum Certificate: String, Sendable {
        /// For localhost, 127.0.0.1 and ::1.
        case server
        /// For the name localhost alone (NIOSSL accepts any certificate holding the IP address
        /// connected to, whatever name it was told to check).
        case localhost
    }

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    public static let user = "kiothc"
    /// Characters a URL must percent-encode, and one beyond ASCII.
    public static let password = "p@ss:w/rd é"
    /// `password` as the user part of a URL holds it.
    public static var encodedPassword: String {
        password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    public static let script = PostgresCluster.repository.appendingPathComponent("scripts/smtp/test-server").path
    public static let pythonScript = PostgresCluster.repository.appendingPathComponent("scripts/smtp/test-server.py").path

    public let port: Int
    /// Where the server writes what it received (and its log, `server.log`).
    public let directory: URL
    /// The CA that signed the server's certificate (for localhost, 127.0.0.1 and ::1).
    public let caFile: String
    /// A CA that signed nothing the server holds: trusting only it, the certificate fails.
    public let otherCAFile: String
    private let processID: Int32
    private let exited: DispatchSemaphore
    private let stopped = Mutex(false)

    private init(port: Int, directory: URL, tools: Tools, processID: Int32, exited: DispatchSemaphore) {
        self.port = port
        self.directory = directory
        self.caFile = tools.certificates.appendingPathComponent("ca.pem").path
        self.otherCAFile = tools.certificates.appendingPathComponent("other-ca.pem").path
        self.processID = processID
        self.exited = exited
    }

    /// Starts a server, or nil when its tools are missing (outside CI). Blocks its thread for
    /// the start (the first one makes the venv): call it through `onOwnThread`.
    public static func start(
        mode: Mode = .accept, tls: TLS = .startTLS, auth: [String] = ["PLAIN", "LOGIN"], certificate: Certificate = .server
    ) throws -> SMTPTestServer? {
        guard let tools = try Tools.shared() else { return nil }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-smtp-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let logPath = directory.appendingPathComponent("server.log")
        guard FileManager.default.createFile(atPath: logPath.path, contents: nil) else {
            throw Failed(description: "cannot create \(logPath.path)")
        }
        let log = try FileHandle(forWritingTo: logPath)
        defer { try? log.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: tools.python)
        process.arguments = [
            pythonScript, "serve", directory.path, "--mode", mode.rawValue, "--tls", tls.rawValue,
            "--auth", auth.isEmpty ? "none" : auth.joined(separator: ","),
            "--cert", tools.certificates.appendingPathComponent("\(certificate.rawValue).pem").path,
            "--key", tools.certificates.appendingPathComponent("\(certificate.rawValue).key").path,
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try launch(process)

        // Bounded: the port file appears once the server listens, or the server has died.
        let portFile = directory.appendingPathComponent("port")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) {
                return SMTPTestServer(port: port, directory: directory, tools: tools, processID: process.processIdentifier, exited: exited)
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(process.processIdentifier, SIGKILL)
        _ = exited.wait(timeout: .now() + 10)
        let output = (try? String(contentsOf: logPath, encoding: .utf8)) ?? ""
        throw Failed(description: "the SMTP test server did not start within 30 s:\n\(output)")
    }

    /// `start` for an async test, off the cooperative pool; the test is cancelled (skipped,
    /// with the reason) when the tools are missing, and fails under CI=true.
    public static func startForTest(
        mode: Mode = .accept, tls: TLS = .startTLS, auth: [String] = ["PLAIN", "LOGIN"], certificate: Certificate = .server
    ) async throws -> SMTPTestServer {
        guard let server = try await onOwnThread({ try start(mode: mode, tls: tls, auth: auth, certificate: certificate) }) else {
            try Test.cancel(Comment(rawValue: Tools.unavailableReason() ?? "the SMTP test server is unavailable"))
        }
        return server
    }

    /// Kills the server and removes its directory. Once: later calls (and `deinit`) do
    /// nothing.
    public func stop() {
        guard stopped.withLock({ stopped in defer { stopped = true }; return !stopped }) else { return }
        kill(processID, SIGKILL)
        _ = exited.wait(timeout: .now() + 10)
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        stop()
    }

    /// A command as the server received it.
    public struct Command: Decodable, Sendable, Equatable {
        public let command: String
        /// MAIL and RCPT's address, AUTH's mechanism (never its credentials).
        public let argument: String?
        /// Whether it came through TLS.
        public let tls: Bool
    }

    /// The commands received so far, in order, over all connections.
    public func commands() throws -> [Command] {
        let file = directory.appendingPathComponent("commands.jsonl")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Command.self, from: Data($0.utf8)) }
    }

    /// The messages accepted so far, in order.
    public func messages() throws -> [ReceivedMessage] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var messages: [ReceivedMessage] = []
        while let data = try? Data(contentsOf: directory.appendingPathComponent("message-\(messages.count + 1).json")) {
            messages.append(try decoder.decode(ReceivedMessage.self, from: data))
        }
        return messages
    }

    /// The venv's Python and the certificates, made once per test process.
    private struct Tools: Sendable {
        let python: String
        let certificates: URL

        private enum State {
            case notTried
            case ready(Tools)
            case unavailable(String)
            case failed(String)
        }

        private static let state = Mutex(State.notTried)

        static func unavailableReason() -> String? {
            state.withLock { if case .unavailable(let reason) = $0 { reason } else { nil } }
        }

        /// The tools, or nil when missing outside CI; under CI=true missing tools throw.
        static func shared() throws -> Tools? {
            try state.withLock { state in
                switch state {
                case .ready(let tools): return tools
                case .unavailable: return nil
                case .failed(let message): throw Failed(description: message)
                case .notTried:
                    do {
                        let tools = try make()
                        if let tools { state = .ready(tools) }
                        return tools
                    } catch let error as Unavailable {
                        if ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true" {
                            state = .failed("\(error.reason); under CI=true a skipped test fails (.ci/run installs what it needs)")
                        } else {
                            state = .unavailable(error.reason)
                            return nil
                        }
                        throw Failed(description: "\(error.reason); under CI=true a skipped test fails (.ci/run installs what it needs)")
                    } catch {
                        state = .failed("\(error)")
                        throw error
                    }
                }
            }
        }

        private struct Unavailable: Error {
            let reason: String
        }

        private static func make() throws -> Tools? {
            let prepared = try PostgresCluster.run("/bin/bash", [script, "prepare"], timeout: 300)
            if prepared.status == 3 { throw Unavailable(reason: prepared.errors.trimmingCharacters(in: .whitespacesAndNewlines)) }
            guard prepared.status == 0 else {
                throw Failed(description: "scripts/smtp/test-server prepare failed (exit \(prepared.status)):\n\(prepared.errors)")
            }
            let python = prepared.output.trimmingCharacters(in: .whitespacesAndNewlines)
            let name = "kiothc-smtp-ca-\(UUID().uuidString.prefix(8).lowercased())"
            let certificates = FileManager.default.temporaryDirectory.appendingPathComponent(name)
            let made = try PostgresCluster.run(python, [pythonScript, "certificates", certificates.path], timeout: 120)
            guard made.status == 0 else {
                throw Failed(description: "making the SMTP test certificates failed (exit \(made.status)):\n\(made.errors)")
            }
            atexit { SMTPTestServer.Tools.removeCertificates() }
            return Tools(python: python, certificates: certificates)
        }

        private static func removeCertificates() {
            if case .ready(let tools) = state.withLock({ $0 }) {
                try? FileManager.default.removeItem(at: tools.certificates)
            }
        }
    }
}

/// A message the server accepted: its envelope, its bytes, and how Python's `email` package
/// reads it.
public struct ReceivedMessage: Decodable, Sendable {
    public let mailFrom: String
    public let rcptTos: [String]
    public let tls: Bool
    public let authenticatedAs: String?
    public let rawBase64: String
    public let parsed: Parsed

    /// The bytes after DATA, as sent (dot-stuffing undone).
    public var raw: [UInt8] { Array(Data(base64Encoded: rawBase64) ?? Data()) }

    public struct Parsed: Decodable, Sendable {
        /// Each header (lower-case name) with its decoded values.
        public let headers: [String: [String]]
        public let from: [Address]
        public let to: [Address]
        public let cc: [Address]
        public let subject: String?
        /// The Date header as ISO 8601, nil when absent or unreadable.
        public let date: String?
        public let contentType: String
        public let parts: [Part]
        /// What the parser found wrong (names of `email.errors` classes).
        public let defects: [String]
    }

    public struct Address: Decodable, Sendable, Equatable {
        public let displayName: String
        public let addrSpec: String

        public init(displayName: String, addrSpec: String) {
            self.displayName = displayName
            self.addrSpec = addrSpec
        }
    }

    public struct Part: Decodable, Sendable {
        public let contentType: String
        public let charset: String?
        public let transferEncoding: String?
        /// The decoded text.
        public let content: String
    }
}
