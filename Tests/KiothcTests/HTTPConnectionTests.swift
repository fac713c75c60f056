import Foundation
import Testing
import TestSupport

/// End to end: how `kiothc serve` treats an HTTP/1.1 connection on a plain listener, byte for
/// byte over a raw socket — pipelining, keep-alive, `Connection: close`, HTTP/1.0, chunked
/// bodies, a malformed request, a body cut short. What these pin must survive any rework of
/// the ping path.
@Suite("HTTP/1.1 connections: pipelining, keep-alive, close, framing", .serialized, .stopsServers)
struct HTTPConnectionTests {
    static let config = [
        "projects.yaml": "projects:\n  ops:\n",
        "checks.yaml": """
            project: ops
            checks:
              backup: {name: Database Backup, timeout: 1h}
            """,
    ]

    /// One request as a client writes it: Host, then `headers`, then Content-Length and the body.
    static func request(_ method: String, _ path: String, version: String = "HTTP/1.1", headers: [String] = [], body: String? = nil) -> String {
        var lines = ["\(method) \(path) \(version)", "Host: 127.0.0.1"] + headers
        if let body { lines.append("Content-Length: \(body.utf8.count)") }
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? "")
    }

    static let ok = "HTTP/1.1 200 OK"
    static let notFound = "HTTP/1.1 404 Not Found"

    @Test("pipelined requests in one write are answered complete and in order; the pings are stored in order", arguments: ["write", "fsync"])
    func pipelining(durability: String) async throws {
        let server = try await RunningServer(files: Self.config, arguments: ["--durability", durability])
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        // A User-Agent per request tells which request each stored ping came from.
        let requests = [
            Self.request("GET", "/ping/\(uuid)", headers: ["User-Agent: request-1"]),
            Self.request("GET", "/-/healthy", headers: ["User-Agent: request-2"]),
            Self.request("POST", "/ping/\(uuid)", headers: ["User-Agent: request-3"], body: "backup done ✓"),
            Self.request("HEAD", "/ping/\(uuid)", headers: ["User-Agent: request-4"]),
            Self.request("GET", "/ping/\(UUID().uuidString.lowercased())", headers: ["User-Agent: request-5"]),
            Self.request("GET", "/no-such-page", headers: ["User-Agent: request-6"]),
            Self.request("GET", "/ping/\(uuid)/fail", headers: ["User-Agent: request-7"]),
        ]
        let connection = try RawConnection(port: server.port)
        let (responses, after) = try await onOwnThread {
            try connection.send(requests.joined())
            let responses = try [false, false, false, true, false, false, false].map { try connection.response(toHead: $0) }
            return (responses, connection.untilClosed(timeout: 0.3))
        }
        #expect(responses.map(\.statusLine) == [Self.ok, Self.ok, Self.ok, Self.ok, Self.notFound, Self.notFound, Self.ok])
        #expect(responses.map(\.text) == ["OK", "OK", "OK", "", "not found", "not found", "OK"])
        // Only ping answers carry the limit header: a ping's answer is told from /-/healthy's.
        #expect(responses.map { $0.headers["ping-body-limit"] } == ["10000", nil, "10000", "10000", nil, nil, "10000"])
        #expect(responses[3].headers["content-length"] == "2", "HEAD gets the length GET's body would have")
        #expect(!after.closed, "the connection stays open after a pipelined batch")
        #expect(after.bytes.isEmpty, "no response beyond the seven")

        let stored = try server.pings(uuid)
        #expect(stored.map { $0["n"] as? Int } == [1, 2, 3, 4])
        #expect(stored.map { $0["ua"] as? String } == ["request-1", "request-3", "request-4", "request-7"])
        #expect(stored.map { $0["kind"] as? String } == ["success", "success", "success", "fail"])
        #expect(stored.map { $0["method"] as? String } == ["GET", "POST", "HEAD", "GET"])
        #expect(stored.map { $0["body"] as? String } == [nil, "backup done ✓", nil, nil])
        #expect(stored.map { $0["body_size"] as? Int } == [0, 15, 0, 0])
        #expect(await server.stop() == 0)
    }

    @Test("200 pings pipelined in one write: 200 answers in order, 200 pings stored in order")
    func manyPipelined() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        // Exit statuses 0...199: each stored ping says which request it was.
        let count = 200
        let batch = (0..<count).map { Self.request("GET", "/ping/\(uuid)/\($0)") }.joined()
        let connection = try RawConnection(port: server.port)
        let responses = try await onOwnThread {
            try connection.send(batch)
            return try (0..<count).map { _ in try connection.response() }
        }
        #expect(responses.count == count)
        #expect(responses.allSatisfy { $0.statusLine == Self.ok && $0.text == "OK" && $0.headers["ping-body-limit"] == "10000" })
        let stored = try server.pings(uuid)
        #expect(stored.count == count)
        #expect(stored.map { $0["n"] as? Int } == Array(1...count))
        #expect(stored.map { $0["exit_status"] as? Int } == Array(0..<count))
        #expect(stored.map { $0["kind"] as? String } == ["success"] + Array(repeating: "fail", count: count - 1))
        #expect(await server.stop() == 0)
    }

    @Test("a connection pinging every 0.3 s outlives --idle-timeout 1 three times over, then is closed once silent")
    func keepAliveUnderIdleTimeout() async throws {
        let server = try await RunningServer(files: Self.config, arguments: ["--idle-timeout", "1"])
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let connection = try RawConnection(port: server.port)
        let pings = 11
        let (responses, busy, silent) = try await onOwnThread {
            let started = Date()
            var responses: [RawConnection.Response] = []
            for index in 0..<pings {
                if index > 0 { usleep(300_000) }
                try connection.send(Self.request("GET", "/ping/\(uuid)"))
                responses.append(try connection.response())
            }
            let busy = Date().timeIntervalSince(started)
            return (responses, busy, connection.untilClosed(timeout: 4))
        }
        #expect(busy >= 3, "the connection was busy for 3 idle timeouts (\(busy) s)")
        #expect(responses.count == pings)
        #expect(responses.allSatisfy { $0.statusLine == Self.ok && $0.text == "OK" })
        #expect(try server.pings(uuid).count == pings)
        #expect(silent.closed, "the server closes a silent connection")
        #expect(silent.bytes.isEmpty)
        #expect(silent.seconds > 0.5 && silent.seconds < 2.5, "closed \(silent.seconds) s after the last answer; the idle timeout is 1 s")
        #expect(await server.stop() == 0)
    }

    @Test("Connection: close: the ping is answered and stored, then the server closes and ignores what followed")
    func connectionClose() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let connection = try RawConnection(port: server.port)
        // A request pipelined after the close must not be processed (RFC 9112 §9.6).
        let written = Self.request("GET", "/ping/\(uuid)", headers: ["Connection: close"]) + Self.request("GET", "/ping/\(uuid)/fail")
        let (response, ending) = try await onOwnThread {
            try connection.send(written)
            return (try connection.response(), connection.untilClosed(timeout: 3))
        }
        #expect(response.statusLine == Self.ok)
        #expect(response.text == "OK")
        #expect(ending.closed, "closed at once, not after the 60 s idle timeout")
        #expect(ending.bytes.isEmpty, "no answer to the request after the close")
        #expect(try server.pings(uuid).map { $0["kind"] as? String } == ["success"])
        #expect(await server.stop() == 0)
    }

    static let ok10 = "HTTP/1.0 200 OK"

    @Test("HTTP/1.0 without keep-alive: the ping is answered with an HTTP/1.0 status line and stored, and the connection closed")
    func http10Close() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let connection = try RawConnection(port: server.port)
        let (response, ending) = try await onOwnThread {
            try connection.send("GET /ping/\(uuid) HTTP/1.0\r\n\r\n")
            return (try connection.response(), connection.untilClosed(timeout: 3))
        }
        #expect(response.statusLine == Self.ok10)
        #expect(response.text == "OK")
        #expect(try server.pings(uuid).map { $0["method"] as? String } == ["GET"])
        // RFC 9112 §9.3: an HTTP/1.0 request without "keep-alive" closes the connection after
        // its response; a client reading to the end of the stream (nc, busybox wget) must not
        // wait for --idle-timeout (60 s here).
        #expect(ending.closed, "closed after the response")
        #expect(ending.seconds < 1, "closed \(ending.seconds) s after the answer")
        #expect(ending.bytes.isEmpty)
        #expect(await server.stop() == 0)
    }

    @Test(
        "HTTP/1.0 without keep-alive to a route Hummingbird answers: an HTTP/1.0 answer, then the close",
        arguments: [("/-/healthy", 200), ("/no-such-page", 404), ("/api/v3/checks/", 401)])
    func http10CloseOtherRoutes(path: String, status: Int) async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let connection = try RawConnection(port: server.port)
        let (response, ending) = try await onOwnThread {
            try connection.send("GET \(path) HTTP/1.0\r\nUser-Agent: busybox\r\n\r\n")
            return (try connection.response(), connection.untilClosed(timeout: 3))
        }
        #expect(response.statusLine.hasPrefix("HTTP/1.0 \(status) "), "status line \(response.statusLine.debugDescription)")
        #expect(ending.closed, "closed after the response")
        #expect(ending.seconds < 1, "closed \(ending.seconds) s after the answer")
        #expect(ending.bytes.isEmpty)
        #expect(await server.stop() == 0)
    }

    @Test("HTTP/1.0 with Connection: Keep-Alive (any case): pings and other routes answered in HTTP/1.0 on one open connection")
    func http10KeepAlive() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let connection = try RawConnection(port: server.port)
        let (responses, after) = try await onOwnThread {
            let answers = try [("/ping/\(uuid)", "Keep-Alive"), ("/-/healthy", "keep-alive"), ("/ping/\(uuid)/start", "KEEP-ALIVE")].map { path, token in
                try connection.send(Self.request("GET", path, version: "HTTP/1.0", headers: ["Connection: \(token)"]))
                return try connection.response()
            }
            return (answers, connection.untilClosed(timeout: 0.5))
        }
        #expect(responses.map(\.statusLine) == [Self.ok10, Self.ok10, Self.ok10])
        #expect(responses.map(\.text) == ["OK", "OK", "OK"])
        // An HTTP/1.0 client keeps the connection only if the answer says keep-alive.
        #expect(responses.map { $0.headers["connection"]?.lowercased() } == ["keep-alive", "keep-alive", "keep-alive"])
        #expect(!after.closed, "the connection stays open")
        #expect(after.bytes.isEmpty)
        #expect(try server.pings(uuid).map { $0["kind"] as? String } == ["success", "start"])
        #expect(await server.stop() == 0)
    }

    @Test(
        "Connection is a case-insensitive token list: close anywhere in it closes, for pings and other routes",
        arguments: [
            ("HTTP/1.1", "Close", "ping"), ("HTTP/1.1", "keep-alive, close", "ping"), ("HTTP/1.1", "Keep-Alive,CLOSE", "other"),
            ("HTTP/1.1", "Close", "other"), ("HTTP/1.0", "keep-alive, close", "ping"), ("HTTP/1.0", "close", "other"),
        ])
    func closeToken(version: String, connectionHeader: String, route: String) async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let path = route == "ping" ? "/ping/\(uuid)" : "/-/healthy"
        let connection = try RawConnection(port: server.port)
        // The request behind the close must be neither answered nor stored (RFC 9112 §9.6).
        let written = Self.request("GET", path, version: version, headers: ["Connection: \(connectionHeader)"])
            + Self.request("GET", "/ping/\(uuid)/fail", version: version)
        let (response, ending) = try await onOwnThread {
            try connection.send(written)
            return (try connection.response(), connection.untilClosed(timeout: 3))
        }
        #expect(response.statusLine == "\(version) 200 OK")
        #expect(response.headers["connection"] == "close")
        #expect(ending.closed, "closed after the response")
        #expect(ending.seconds < 1, "closed \(ending.seconds) s after the answer")
        #expect(ending.bytes.isEmpty, "no answer to the request after the close")
        #expect(try server.pings(uuid).map { $0["kind"] as? String } == (route == "ping" ? ["success"] : []))
        #expect(await server.stop() == 0)
    }

    @Test("pipelined HTTP/1.0: keep-alive requests answered in order in HTTP/1.0; the first without keep-alive is the last answered")
    func http10Pipelined() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let keepAlive = ["Connection: keep-alive"]
        let written = [
            Self.request("GET", "/ping/\(uuid)/start", version: "HTTP/1.0", headers: keepAlive),
            Self.request("GET", "/-/healthy", version: "HTTP/1.0", headers: keepAlive),
            Self.request("POST", "/ping/\(uuid)", version: "HTTP/1.0", headers: keepAlive, body: "done"),
            Self.request("GET", "/ping/\(uuid)/log", version: "HTTP/1.0"),
            Self.request("GET", "/ping/\(uuid)/fail", version: "HTTP/1.0", headers: keepAlive),
            Self.request("GET", "/-/healthy", version: "HTTP/1.0"),
        ].joined()
        let connection = try RawConnection(port: server.port)
        let (responses, ending) = try await onOwnThread {
            try connection.send(written)
            return (try (0..<4).map { _ in try connection.response() }, connection.untilClosed(timeout: 3))
        }
        #expect(responses.map(\.statusLine) == [Self.ok10, Self.ok10, Self.ok10, Self.ok10])
        #expect(responses.map(\.text) == ["OK", "OK", "OK", "OK"])
        #expect(ending.closed, "closed after the fourth answer")
        #expect(ending.bytes.isEmpty, "nothing answered after the request without keep-alive")
        #expect(try server.pings(uuid).map { $0["kind"] as? String } == ["start", "success", "log"])
        #expect(await server.stop() == 0)
    }

    @Test("--header-timeout: a connection that sends nothing or half a head is closed after it; a keep-alive one is then under --idle-timeout")
    func headerTimeout() async throws {
        let server = try await RunningServer(files: Self.config, arguments: ["--header-timeout", "1", "--idle-timeout", "60"])
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let (silent, half, answered) = try (RawConnection(port: server.port), RawConnection(port: server.port), RawConnection(port: server.port))
        let (silentEnding, halfEnding, response, answeredEnding) = try await onOwnThread {
            try half.send("GET /ping/\(uuid) HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            try answered.send(Self.request("GET", "/ping/\(uuid)"))
            let response = try answered.response()
            return (silent.untilClosed(timeout: 3), half.untilClosed(timeout: 3), response, answered.untilClosed(timeout: 2))
        }
        #expect(silentEnding.closed && silentEnding.seconds < 2, "silent: \(silentEnding)")
        #expect(halfEnding.closed && halfEnding.seconds < 2, "half a head: \(halfEnding)")
        #expect(silentEnding.bytes.isEmpty && halfEnding.bytes.isEmpty)
        #expect(response.statusLine == Self.ok)
        #expect(!answeredEnding.closed, "a connection that sent its head in time stays open past the header timeout")
        #expect(try server.pings(uuid).count == 1)
        #expect(await server.stop() == 0)
    }

    @Test("a chunked POST in three chunks, a character split across two, is stored with the exact body")
    func chunkedBody() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let connection = try RawConnection(port: server.port)
        let check: [UInt8] = Array("✓".utf8)
        let head = Array(Self.request("POST", "/ping/\(uuid)/log", headers: ["Transfer-Encoding: chunked"]).utf8)
        // "rows: 42 " + first byte of ✓ | the rest of ✓ + " ok" | "\nend"
        let chunks: [[UInt8]] = [Array("rows: 42 ".utf8) + check.prefix(1), Array(check.dropFirst()) + Array(" ok".utf8), Array("\nend".utf8)]
        let (responses, after) = try await onOwnThread {
            for (index, chunk) in chunks.enumerated() {
                let framed = Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + [13, 10]
                try connection.send((index == 0 ? head : []) + framed)
                usleep(50_000)
            }
            try connection.send("0\r\n\r\n")
            let answer = try connection.response()
            // The connection reads on after the last chunk: the next request is answered.
            try connection.send(Self.request("GET", "/ping/\(uuid)"))
            return ([answer, try connection.response()], connection.untilClosed(timeout: 0.3))
        }
        #expect(responses.map(\.statusLine) == [Self.ok, Self.ok])
        #expect(responses.map(\.text) == ["OK", "OK"])
        #expect(!after.closed && after.bytes.isEmpty)
        let stored = try server.pings(uuid)
        #expect(stored.map { $0["kind"] as? String } == ["log", "success"])
        #expect(stored.first?["body"] as? String == "rows: 42 ✓ ok\nend")
        #expect(stored.first?["body_size"] as? Int == chunks.joined().count)
        #expect(await server.stop() == 0)
    }

    @Test("a ping followed by a garbage request in one write: the ping gets 200 and is stored, the garbage 400 and the close")
    func malformedAfterPing() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let connection = try RawConnection(port: server.port)
        let (responses, ending) = try await onOwnThread {
            try connection.send(Self.request("GET", "/ping/\(uuid)/log") + "this is not http\r\n\r\n")
            return ([try connection.response(), try connection.response()], connection.untilClosed(timeout: 3))
        }
        #expect(responses[0].statusLine == Self.ok)
        #expect(responses[0].text == "OK")
        #expect(responses[1].statusLine == "HTTP/1.1 400 Bad Request")
        #expect(responses[1].headers["connection"] == "close")
        #expect(ending.closed, "closed at once after the 400, not after the idle timeout")
        #expect(ending.bytes.isEmpty)
        #expect(try server.pings(uuid).map { $0["kind"] as? String } == ["log"])
        #expect(await server.stop() == 0)
    }

    @Test("a POST whose client stops after 10 of 100 body bytes is not stored, and the server answers the next connection")
    func truncatedBody() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let cut = try RawConnection(port: server.port)
        let ending = try await onOwnThread {
            try cut.send("POST /ping/\(uuid) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789")
            usleep(50_000)
            // The FIN of a close; only shut down for writing, so that what the server does
            // about it can be read (and the check below waits until it has done it).
            cut.finishSending()
            return cut.untilClosed(timeout: 3)
        }
        #expect(ending.closed)
        // Whatever it answers to a client that is gone, it is not a success.
        let answer = String(decoding: ending.bytes, as: UTF8.self)
        #expect(answer.isEmpty || answer.hasPrefix("HTTP/1.1 400 "), "answer: \(answer.debugDescription)")

        let next = try RawConnection(port: server.port)
        let response = try await onOwnThread {
            try next.send(Self.request("GET", "/ping/\(uuid)/start"))
            return try next.response()
        }
        #expect(response.statusLine == Self.ok)
        #expect(response.text == "OK")
        let stored = try server.pings(uuid)
        #expect(stored.map { $0["kind"] as? String } == ["start"], "only the second connection's ping: \(stored)")
        #expect(await server.stop() == 0)
    }

    /// A client that sends its pings and half-closes (a FIN after the last request, as
    /// `nc -N` does) still gets every answer: in fsync mode the answers come after the store's
    /// flush, later than the end of input, which must not close the connection under them.
    @Test("pings followed by a half-close are all answered before the server closes", arguments: ["write", "fsync"])
    func halfCloseAfterPings(durability: String) async throws {
        let server = try await RunningServer(files: Self.config, arguments: ["--durability", durability])
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let connection = try RawConnection(port: server.port)
        let (responses, ending) = try await onOwnThread {
            try connection.send(Self.request("GET", "/ping/\(uuid)/start") + Self.request("GET", "/ping/\(uuid)"))
            connection.finishSending()
            let responses = try [connection.response(), connection.response()]
            return (responses, connection.untilClosed(timeout: 3))
        }
        #expect(responses.map(\.statusLine) == [Self.ok, Self.ok])
        #expect(ending.closed, "the server closes once it has answered a client that stopped sending")
        #expect(try server.pings(uuid).map { $0["kind"] as? String } == ["start", "success"])
        #expect(await server.stop() == 0)
    }
}
