import Foundation
import Synchronization
import Testing
import TestSupport

/// The TLS certificate and key are reloaded while the server runs: open connections keep the
/// certificate of their handshake, new ones get the new one; a bad replacement keeps the
/// previous one and says so in the log and `/metrics`. Certificates are made here with openssl
/// (a missing openssl fails the test, as the other TLS test does), connections are openssl's
/// `s_client`.
@Suite("kiothc serve reloads its TLS certificate", .serialized, .stopsServers)
struct CertificateReloadTests {
    static let config = ["checks.yaml": "projects:\n  ops: {}\nchecks:\n  backup: {project: ops, name: Backup, timeout: 1h}\n"]

    @Test("new files renamed into place are seen by the poll: an open connection keeps its certificate and works, a new one gets the new certificate")
    func pollReload() async throws {
        let certificates = try CertificateDirectory()
        let a = try await certificates.make("a", days: 2)
        let b = try await certificates.make("b", days: 30)
        let live = try certificates.install(a)
        let server = try await RunningServer(
            files: Self.config, arguments: ["--tls-cert", live.cert, "--tls-key", live.key, "--tls-reload-poll", "0.2"])
        defer { server.terminate() }
        #expect(try await TLSProbe.certificate(port: server.port) == a.leaf)
        #expect(try await metric(server, "kiothc_tls_certificate_reloads_total{result=\"ok\"}") == 0)
        #expect(try await metric(server, "kiothc_tls_certificate_last_reload_successful") == 1)
        let notAfterA = try #require(try await metric(server, "kiothc_tls_certificate_not_after_seconds"))
        #expect(abs(notAfterA - (Date().timeIntervalSince1970 + 2 * 86_400)) < 3_600, "a's notAfter: in 2 days")

        let open = try OpenTLSConnection(port: server.port)
        defer { open.close() }
        try await open.request(1)
        #expect(open.certificate == a.leaf)

        // As a certificate manager does: each new file written aside, then renamed over the old.
        try certificates.install(b, over: live)
        _ = try await server.waitFor(prefix: "TLS certificate reloaded (its files changed): serial \(b.serial)", timeout: 15)
        #expect(try await TLSProbe.certificate(port: server.port) == b.leaf, "a new connection gets the new certificate")
        try await open.request(2)
        #expect(open.certificate == a.leaf, "the open connection keeps the certificate of its handshake")
        #expect(!open.output.contains(b.leaf))
        #expect(try await metric(server, "kiothc_tls_certificate_reloads_total{result=\"ok\"}") == 1)
        let notAfterB = try #require(try await metric(server, "kiothc_tls_certificate_not_after_seconds"))
        #expect(abs(notAfterB - (Date().timeIntervalSince1970 + 30 * 86_400)) < 3_600, "b's notAfter: in 30 days")

        // A bad key: the poll reports it once, the previous pair stays in use.
        try certificates.replace(live.key, with: "not a key\n")
        _ = try await server.waitFor(prefix: "TLS certificate not reloaded (its files changed): the TLS key '\(live.key)' holds no PEM private key", timeout: 15)
        #expect(server.output.contains("new connections still get the previous one (serial \(b.serial),"))
        #expect(try await TLSProbe.certificate(port: server.port) == b.leaf)
        #expect(try await metric(server, "kiothc_tls_certificate_last_reload_successful") == 0)
        #expect(try await metric(server, "kiothc_tls_certificate_reloads_total{result=\"failed\"}") == 1)
        // SIGHUP asks again, and is answered again.
        _ = try await server.waitFor(prefix: "SIGHUP reloads the configuration and the TLS certificate")
        server.signal(SIGHUP)
        try await server.waitUntil("SIGHUP's reload failed too") { server.occurrences(of: "TLS certificate not reloaded (SIGHUP)") == 1 }
        #expect(try await metric(server, "kiothc_tls_certificate_reloads_total{result=\"failed\"}") == 2)

        // Putting b's key back: the files hold the pair in use again.
        try certificates.install(b, over: live)
        _ = try await server.waitFor(prefix: "TLS certificate files hold the pair in use again", timeout: 15)
        // Many polls (every 0.2 s) looked at the bad files meanwhile: they were reported once.
        #expect(server.occurrences(of: "TLS certificate not reloaded (its files changed)") == 1, "\(server.output)")
        #expect(try await metric(server, "kiothc_tls_certificate_last_reload_successful") == 1)
        #expect(try await metric(server, "kiothc_tls_certificate_reloads_total{result=\"ok\"}") == 1)
        try await open.request(3)
        #expect(open.isRunning, "the open connection was never closed")
        // The polls that found the pair in use (the first look after the start, every look
        // since) logged nothing: one reload line, b's.
        #expect(server.occurrences(of: "TLS certificate reloaded") == 1, "\(server.output)")
        #expect(await server.stop() == 0)
    }

    @Test("SIGHUP reloads the certificate; an unreadable, non-PEM, damaged, mismatched, encrypted or expired replacement keeps the previous one; fixing it recovers")
    func signalReload() async throws {
        let certificates = try CertificateDirectory()
        let a = try await certificates.make("a", days: 2)
        let b = try await certificates.make("b", days: 30)
        let c = try await certificates.make("c", days: 60)
        let expired = try await certificates.makeExpired("expired")
        let encryptedKey = try await certificates.encrypt(b)
        let live = try certificates.install(a)
        // No poll: only SIGHUP reloads.
        let server = try await RunningServer(
            files: Self.config, arguments: ["--tls-cert", live.cert, "--tls-key", live.key, "--tls-reload-poll", "0"])
        defer { server.terminate() }
        _ = try await server.waitFor(prefix: "SIGHUP reloads the configuration and the TLS certificate")
        let open = try OpenTLSConnection(port: server.port)
        defer { open.close() }
        try await open.request(1)

        try certificates.install(b, over: live)
        server.signal(SIGHUP)
        _ = try await server.waitFor(prefix: "TLS certificate reloaded (SIGHUP): serial \(b.serial)")
        #expect(try await TLSProbe.certificate(port: server.port) == b.leaf)
        #expect(server.output.contains("SIGHUP received: reloading the configuration and the TLS certificate"))

        let bad: [(install: () throws -> Void, problem: String)] = [
            ({ try certificates.replace(live.cert, with: "garbage\n") }, "the TLS certificate '\(live.cert)' holds no PEM certificate"),
            (
                { try certificates.replace(live.cert, with: String(a.leaf.prefix(200)) + "\n-----END CERTIFICATE-----\n") },
                "the TLS certificate '\(live.cert)' is not a valid PEM certificate chain"
            ),
            ({ try certificates.install((cert: c.cert, key: b.key), over: live) }, "the TLS key '\(live.key)' does not match the certificate '\(live.cert)'"),
            ({ try certificates.install((cert: expired.cert, key: expired.key), over: live) }, "the TLS certificate '\(live.cert)' expired at 2020-01-02 00:00:00Z"),
            ({ try certificates.install((cert: b.cert, key: encryptedKey), over: live) }, "the TLS key '\(live.key)' is encrypted"),
            ({ try FileManager.default.removeItem(atPath: live.key) }, "cannot read the TLS key '\(live.key)': no such file or directory"),
        ]
        for (index, (install, problem)) in bad.enumerated() {
            try install()
            server.signal(SIGHUP)
            _ = try await server.waitFor(prefix: "TLS certificate not reloaded (SIGHUP): \(problem)")
            #expect(try await TLSProbe.certificate(port: server.port) == b.leaf, "after: \(problem)")
            #expect(try await metric(server, "kiothc_tls_certificate_last_reload_successful") == 0)
            #expect(try await metric(server, "kiothc_tls_certificate_reloads_total{result=\"failed\"}") == Double(index + 1))
            let line = server.output.split(separator: "\n").first { $0.contains(problem) } ?? ""
            #expect(line.contains("error"), "logged as an error: \(line)")
        }
        let notAfterB = try #require(try await metric(server, "kiothc_tls_certificate_not_after_seconds"))
        #expect(abs(notAfterB - (Date().timeIntervalSince1970 + 30 * 86_400)) < 3_600, "still b's")
        // A key's content never reaches the log.
        let keyLine = try String(contentsOfFile: b.key, encoding: .utf8).split(separator: "\n")[1]
        #expect(!server.output.contains(keyLine))

        try certificates.install(c, over: live)
        server.signal(SIGHUP)
        _ = try await server.waitFor(prefix: "TLS certificate reloaded (SIGHUP): serial \(c.serial)")
        #expect(try await TLSProbe.certificate(port: server.port) == c.leaf)
        #expect(try await metric(server, "kiothc_tls_certificate_last_reload_successful") == 1)
        #expect(try await metric(server, "kiothc_tls_certificate_reloads_total{result=\"ok\"}") == 2)
        try await open.request(2)
        #expect(open.certificate == a.leaf)
        // The configuration's reload still runs on SIGHUP (one for each signal sent).
        #expect(server.occurrences(of: "SIGHUP received") == 8)
        #expect(await server.stop() == 0)
    }

    @Test("at start, a key that is not the certificate's or a file that is not PEM stops serve with what is wrong")
    func badAtStart() async throws {
        let certificates = try CertificateDirectory()
        let a = try await certificates.make("a", days: 2)
        let b = try await certificates.make("b", days: 2)
        let config = certificates.root.appendingPathComponent("checks.d")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try Data(Self.config["checks.yaml"]!.utf8).write(to: config.appendingPathComponent("checks.yaml"))
        let data = certificates.root.appendingPathComponent("data").path
        let mismatched = try await CLI.run(["serve", "--config", config.path, "--data", data, "--listen", "127.0.0.1:0", "--tls-cert", a.cert, "--tls-key", b.key])
        #expect(mismatched.status == 1)
        #expect(mismatched.stderr.contains("the TLS key '\(b.key)' does not match the certificate '\(a.cert)'"), "\(mismatched.stderr)")
        let notPEM = try await CLI.run(["serve", "--config", config.path, "--data", data, "--listen", "127.0.0.1:0", "--tls-cert", b.key, "--tls-key", b.key])
        #expect(notPEM.status == 1)
        #expect(notPEM.stderr.contains("the TLS certificate '\(b.key)' holds no PEM certificate"), "\(notPEM.stderr)")
        let invalid = try await CLI.run(["serve", "--config", config.path, "--tls-reload-poll", "inf"])
        #expect(invalid.status == 64)
        #expect(invalid.stderr.contains("--tls-reload-poll 'inf' is not valid"), "\(invalid.stderr)")
    }

    /// A series of the admin's `/metrics`, nil when absent.
    private func metric(_ server: RunningServer, _ series: String) async throws -> Double? {
        let reply = try await Curl.request(
            "\(server.baseURL)/metrics", extra: ["--insecure", "-H", "Authorization: Bearer \(try server.adminToken())"])
        try #require(reply.status == 200, "\(reply.status) \(reply.body)")
        for line in reply.body.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}

/// Certificates for 127.0.0.1 made with openssl in a directory of their own, removed with it.
final class CertificateDirectory {
    typealias Pair = (cert: String, key: String)
    struct Made {
        let cert: String
        let key: String
        /// The certificate's PEM block, as a client prints the one it got.
        let leaf: String
        /// As the server's log shows it: upper-case hexadecimal.
        let serial: String
    }

    let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-tls-reload-\(UUID().uuidString)")

    init() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    func make(_ name: String, days: Int) async throws -> Made {
        let (cert, key) = (path("\(name)-cert.pem"), path("\(name)-key.pem"))
        try await openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "\(days)", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        return try await made(cert: cert, key: key)
    }

    /// Valid for one day in 2020 (`openssl req` makes none that has expired; `openssl ca` does).
    func makeExpired(_ name: String) async throws -> Made {
        let (cert, key, request) = (path("\(name)-cert.pem"), path("\(name)-key.pem"), path("\(name).csr"))
        let database = path("\(name)-index.txt")
        try Data().write(to: URL(fileURLWithPath: database))
        try Data("01\n".utf8).write(to: URL(fileURLWithPath: path("\(name)-serial.txt")))
        let config = """
            [ca]
            default_ca = expired
            [expired]
            database = \(database)
            new_certs_dir = \(root.path)
            serial = \(path("\(name)-serial.txt"))
            policy = anything
            default_md = sha256
            copy_extensions = copy
            [anything]
            commonName = supplied
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: path("\(name)-ca.cnf")))
        try await openssl([
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", "/CN=localhost", "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        try await openssl([
            "ca", "-config", path("\(name)-ca.cnf"), "-selfsign", "-keyfile", key, "-in", request, "-startdate", "20200101000000Z", "-enddate",
            "20200102000000Z", "-batch", "-notext", "-out", cert,
        ])
        return try await made(cert: cert, key: key)
    }

    /// `pair`'s key encrypted with a passphrase; its path.
    func encrypt(_ pair: Made) async throws -> String {
        let encrypted = pair.key.replacingOccurrences(of: ".pem", with: "-encrypted.pem")
        try await openssl(["pkey", "-in", pair.key, "-aes256", "-passout", "pass:secret", "-out", encrypted])
        return encrypted
    }

    /// Copies `pair` to `live/cert.pem` and `live/key.pem`, the files the server is given.
    func install(_ pair: Made) throws -> Pair {
        let live = root.appendingPathComponent("live")
        try FileManager.default.createDirectory(at: live, withIntermediateDirectories: true)
        let target = (cert: live.appendingPathComponent("cert.pem").path, key: live.appendingPathComponent("key.pem").path)
        try install((pair.cert, pair.key), over: target)
        return target
    }

    func install(_ pair: Made, over target: Pair) throws {
        try install((pair.cert, pair.key), over: target)
    }

    /// Each file copied aside, then renamed over its target (the certificate first).
    func install(_ pair: Pair, over target: Pair) throws {
        try replace(target.cert, with: String(contentsOfFile: pair.cert, encoding: .utf8))
        try replace(target.key, with: String(contentsOfFile: pair.key, encoding: .utf8))
    }

    /// Written aside, then renamed over `path`.
    func replace(_ path: String, with text: String) throws {
        let aside = path + ".new"
        try Data(text.utf8).write(to: URL(fileURLWithPath: aside))
        guard rename(aside, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    private func path(_ name: String) -> String {
        root.appendingPathComponent(name).path
    }

    private func made(cert: String, key: String) async throws -> Made {
        let text = try String(contentsOfFile: cert, encoding: .utf8)
        let leaf = try #require(TLSProbe.firstPEM(text), "no certificate in \(cert)")
        // "serial=0123…", the upper-case hexadecimal the server's log shows too.
        let serial = try await openssl(["x509", "-in", cert, "-noout", "-serial"])
        return Made(cert: cert, key: key, leaf: leaf, serial: serial.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: ""))
    }

    /// What it printed.
    @discardableResult
    private func openssl(_ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let made = await (try Child(process)).output()
        try #require(made.status == 0, "openssl \(arguments.first ?? ""): \(made.stderr)")
        return made.stdout
    }
}

/// What certificate a new TLS connection gets: `openssl s_client` connects, prints it, and
/// closes (its input is empty).
enum TLSProbe {
    static func certificate(port: Int) async throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)"]
        let output = await (try Child(process, input: Data())).output()
        return firstPEM(output.stdout)
    }

    /// The first certificate's PEM block in `text`, from its BEGIN line to its END line.
    static func firstPEM(_ text: String) -> String? {
        guard let begin = text.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = text.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<text.endIndex)
        else { return nil }
        return String(text[begin.lowerBound..<end.upperBound])
    }
}

/// A TLS connection kept open by `openssl s_client`, HTTP/1.1 requests written to it one at a
/// time; what it printed (the certificate of its handshake first) is read as it arrives.
final class OpenTLSConnection {
    private let process = Process()
    private let input = Pipe()
    private let printed = LogBuffer()
    private let termination: Termination

    init(port: Int) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        // -ign_eof: stays connected; -nocommands: no line of a request is an s_client command.
        process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-ign_eof", "-nocommands"]
        process.standardInput = input
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        printed.follow(pipe)
        try launch(process)
        termination = Termination(of: process)
    }

    var output: String { printed.text.withLock { $0 } }

    /// The certificate its handshake got.
    var certificate: String? { TLSProbe.firstPEM(output) }

    var isRunning: Bool { !termination.exit.isDone }

    /// Sends a request for `/-/healthy` on this connection and waits (at most 15 s) for its
    /// `count`-th answer.
    func request(_ count: Int) async throws {
        try input.fileHandleForWriting.write(contentsOf: Data("GET /-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        let deadline = Date().addingTimeInterval(15)
        while output.components(separatedBy: "HTTP/1.1 200 OK").count - 1 < count {
            let late = Date() >= deadline
            if late || termination.exit.isDone {
                throw ServerFailed(log: "no answer \(count) on the open TLS connection (closed: \(termination.exit.isDone)):\n\(output)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func close() {
        try? input.fileHandleForWriting.close()
        termination.request()
    }
}
