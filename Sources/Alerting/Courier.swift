import AsyncHTTPClient
import BlockingWork
import CheckCatalog
import ChildProcess
import Foundation
import HTTPProxy
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Delivers one alert through one channel, once: a webhook request or a shell command, each
/// bounded by `timeout`. Never throws: every outcome is an `Attempt` to record.
///
/// Secrets (URLs, header values) are resolved here, at send time, and never appear in an
/// attempt's error or a log.
public struct Courier: Sendable {
    public var timeout: Duration
    /// The server's public URL (`--base-url`), for links to the dashboard in messages.
    public var baseURL: String?
    /// How email channels send (`--smtp`, `--smtp-from`); nil when the server has no relay.
    public var mailer: (any Mailer)?
    /// Environment for `{env: …}` secrets and the base environment of commands.
    public var environment: [String: String]
    let client: HTTPClient

    public init(
        timeout: Duration = .seconds(10), environment: [String: String], baseURL: String? = nil, mailer: (any Mailer)? = nil,
        client: HTTPClient? = nil
    ) {
        self.timeout = timeout
        self.baseURL = baseURL
        self.mailer = mailer
        self.environment = environment
        self.client = client ?? ProxiedClients.direct
    }

    public func deliver(_ alert: Alert, via channel: CheckCatalog.Channel, at now: Int64) async -> Attempt {
        let started = ContinuousClock.now
        var attempt: Attempt
        switch channel.kind {
        case .webhook(let base, let down, let up):
            let request = base.overlaid(by: alert.direction == .down ? down : up)
            attempt = await webhook(request, alert: alert, channel: channel.name, at: now)
        case .command(let command):
            attempt = await run(command, alert: alert, at: now)
        case .email(let recipients):
            attempt = await mail(recipients, alert: alert, at: now)
        case .integration(let integration):
            attempt = await send(integration, alert: alert, channel: channel.name, at: now)
        }
        let elapsed = ContinuousClock.now - started
        attempt.duration = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        return attempt
    }

    // MARK: webhook

    func webhook(_ template: CheckCatalog.Channel.Request, alert: Alert, channel: String, at now: Int64) async -> Attempt {
        let resolver = SecretResolver(environment: environment)
        guard let urlSecret = template.url else {
            return Attempt(time: now, outcome: .failed, error: "channel '\(channel)' has no url for \(alert.direction.rawValue) alerts")
        }
        guard case .success(let rawURL) = resolver.resolve(urlSecret) else {
            return Attempt(time: now, outcome: .failed, error: "the url of channel '\(channel)' (\(urlSecret.reference)) cannot be resolved")
        }
        let url = Template.render(rawURL, alert.values, escaping: .percent)
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = parsed.host, !host.isEmpty
        else {
            return Attempt(time: now, outcome: .failed, error: "the url of channel '\(channel)' is not an http(s) URL after substitution")
        }
        var request = OutgoingRequest(method: (template.method ?? "POST").uppercased(), url: url)
        var contentType: String?
        for header in template.headers {
            guard case .success(let rawValue) = resolver.resolve(header.value) else {
                return Attempt(time: now, outcome: .failed, error: "header '\(header.name)' of channel '\(channel)' (\(header.value.reference)) cannot be resolved")
            }
            // A value from a ping body must not split the header: line breaks become spaces.
            let value = Template.render(rawValue, alert.values, escaping: .none)
            if header.name.lowercased() == "content-type" { contentType = value }
            request.headers.append((header.name, value))
        }
        if let body = template.body {
            let json = Template.isJSON(body: body, contentType: contentType)
            let rendered = Template.render(body, alert.values, escaping: json ? .json : .none)
            if contentType == nil {
                request.headers.append(("Content-Type", json ? "application/json" : "text/plain; charset=utf-8"))
            }
            request.body = Array(rendered.utf8)
        }
        return await send(request, at: now)
    }

    // MARK: integrations

    /// The service's request, its credentials resolved now (a rotated token is picked up);
    /// an error names a credential by its key and reference, never its value.
    func send(_ integration: Integration, alert: Alert, channel: String, at now: Int64) async -> Attempt {
        let resolver = SecretResolver(environment: environment)
        let request: OutgoingRequest
        var credentials: [String] = []
        do {
            request = try integration.request(for: alert, message: AlertMessage(alert, baseURL: baseURL)) { secret, field in
                guard case .success(let value) = resolver.resolve(secret) else { throw UnresolvedCredential(field: field, reference: secret.reference) }
                credentials.append(value)
                return value
            }
        } catch let error as UnresolvedCredential {
            return Attempt(time: now, outcome: .failed, error: "'\(error.field)' of channel '\(channel)' (\(error.reference)) cannot be resolved")
        } catch let error as UnusableCredential {
            return Attempt(time: now, outcome: .failed, error: "channel '\(channel)' cannot send: \(error.description)")
        } catch {
            return Attempt(time: now, outcome: .failed, error: "channel '\(channel)' cannot build its request: \(type(of: error))")
        }
        var attempt = await send(request, at: now)
        attempt.error = attempt.error.map { Self.redacting(credentials, in: $0) }
        return attempt
    }

    /// `text` with every credential cut out: a gateway's error page may echo the request's
    /// path (Telegram's token, a webhook's secret path) and the attempt quotes the answer.
    static func redacting(_ credentials: [String], in text: String) -> String {
        var secrets: [String] = []
        for credential in credentials {
            secrets.append(credential)
            // A URL's secret part is its path and query; an echo may show them alone.
            if let components = URLComponents(string: credential), components.scheme != nil {
                secrets.append(components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? ""))
                secrets.append(components.path)
            }
        }
        var text = text
        // Longest first, so a value is cut whole before a part of it is; values under 4
        // characters are not cut (they would mangle the text and hide nothing).
        for secret in Set(secrets).sorted(by: { $0.count > $1.count }) where secret.count >= 4 {
            text = text.replacingOccurrences(of: secret, with: "[redacted]")
        }
        return text
    }

    /// Sends one request within `timeout`: a 2xx answer is a delivery. The error of a failed
    /// attempt quotes the start of the receiver's answer (services explain a refusal there).
    public func send(_ outgoing: OutgoingRequest, at now: Int64) async -> Attempt {
        var request = HTTPClientRequest(url: outgoing.url)
        request.method = .init(rawValue: outgoing.method)
        for (name, value) in outgoing.headers {
            request.headers.add(name: name, value: value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " "))
        }
        if let body = outgoing.body { request.body = .bytes(ByteBuffer(bytes: body)) }
        request.headers.add(name: "User-Agent", value: "kiothc")

        let client: HTTPClient
        let proxy: ProxySetting?
        switch ProxySetting.forServer(outgoing.url, environment: environment, upperCaseHTTPProxy: true) {
        case .failure(let unusable): return Attempt(time: now, outcome: .failed, error: unusable.reason)
        case .success(nil):
            client = self.client
            proxy = nil
        case .success(let setting?):
            client = ProxiedClients.shared.client(for: setting)
            proxy = setting
        }
        let timeout = timeout
        let prepared = request
        let result: Result<(Int, ByteBuffer), any Error> = await withTimeout(timeout) {
            // The client's own deadline is a backstop a second later: with both at `timeout`
            // the two raced, and a refused connection was reported either way.
            let response = try await client.execute(prepared, timeout: .nanoseconds(Int64(timeout.components.seconds + 1) * 1_000_000_000))
            // Drain (a little of) the answer so the connection can be reused.
            let body = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
            return (Int(response.status.code), body)
        }
        switch result {
        case .success(let (code, _)) where (200..<300).contains(code):
            return Attempt(time: now, outcome: .delivered, statusCode: code)
        case .success(let (code, body)):
            return Attempt(time: now, outcome: .failed, statusCode: code, error: "the receiver answered HTTP \(code)\(Self.quote(body))")
        case .failure(let error):
            let connection = ConnectionFailure.describe(error, url: outgoing.url, proxy: proxy)
            let through = proxy.map { " (through \($0.name))" } ?? ""
            return Attempt(time: now, outcome: .failed, error: connection ?? (Self.describe(error, timeout: timeout) + through))
        }
    }

    /// `: <the start of the answer>` on one line, or nothing for an empty answer.
    static func quote(_ body: ByteBuffer) -> String {
        let text = String(decoding: body.readableBytesView.prefix(300), as: UTF8.self)
        let line = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !line.isEmpty else { return "" }
        return ": " + (line.count > 200 ? String(line.prefix(200)) + "…" : line)
    }

    /// The receiver did not answer in time (a connection that cannot be made fails at once:
    /// `ConnectionFailure`).
    static func noAnswer(_ timeout: Duration) -> String {
        "no answer within \(timeout.components.seconds) s"
    }

    static func describe(_ error: any Error, timeout: Duration) -> String {
        if error is TimeoutError { return Self.noAnswer(timeout) }
        if error is CancellationError { return "cancelled: the server is stopping" }
        if let client = error as? HTTPClientError {
            switch client {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout:
                return Self.noAnswer(timeout)
            case .invalidProxyResponse: return "the proxy refused to open a connection to the receiver"
            case .proxyAuthenticationRequired: return "the proxy asks for credentials (give them as http://user:password@host:port)"
            default: return "request failed: \(client)"
            }
        }
        // Connection errors name host and port, never the path (where tokens live).
        return "request failed: \(String(describing: error).prefix(300))"
    }

    // MARK: email

    func mail(_ recipients: CheckCatalog.Channel.Email, alert: Alert, at now: Int64) async -> Attempt {
        guard let mailer else {
            return Attempt(time: now, outcome: .failed, error: "the server has no SMTP relay for email channels: start it with --smtp URL (or KIOTHC_SMTP)")
        }
        return await mailer.send(AlertMessage(alert, baseURL: baseURL), alert: alert, to: recipients, at: now)
    }

    // MARK: command

    func run(_ command: String, alert: Alert, at now: Int64) async -> Attempt {
        let script = Template.render(command, alert.values, escaping: .shell)
        var environment = environment
        for (name, value) in alert.values.byName { environment[name] = value }
        let pid: pid_t
        switch ShellProcess.spawn(script, environment: environment) {
        case .failure(let error): return Attempt(time: now, outcome: .failed, error: "could not start /bin/sh: \(error)")
        case .success(let spawned): pid = spawned
        }
        // The command runs in its own process group, so a timeout kills what it started too.
        // The timer is a thread of its own, not a Task: it must fire even when every thread of
        // the cooperative pool is busy (seen under the address sanitizer, where a Task timer
        // waited 60 s for a thread while the command ran to completion). Not on Dispatch's
        // global queues either: on Linux they share the pool's threads, so a timer there waits
        // as long (a busy pool delayed one by 200 s). It ends early when the command is reaped.
        let watch = ProcessWatch()
        let (seconds, attoseconds) = timeout.components
        let delay = DispatchTimeInterval.nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        startThread(named: "kiothc-timeout") {
            guard watch.done.wait(timeout: .now() + delay) == .timedOut else { return }
            // Not once the command is reaped: its process group id may be reused.
            watch.state.withLock { state in
                guard !state.reaped else { return }
                state.killed = true
                kill(-pid, SIGKILL)
            }
        }
        let status = await ShellProcess.wait(pid, reaped: {
            watch.state.withLock { $0.reaped = true }
            watch.done.signal()
        })
        let signal = status & 0x7F
        if signal == 0 {
            let code = (status >> 8) & 0xFF
            return code == 0
                ? Attempt(time: now, outcome: .delivered, exitStatus: 0)
                : Attempt(time: now, outcome: .failed, exitStatus: code, error: "the command exited with status \(code)")
        }
        if watch.state.withLock({ $0.killed }) {
            return Attempt(time: now, outcome: .failed, error: "the command did not finish within \(timeout.components.seconds) s and was killed")
        }
        return Attempt(time: now, outcome: .failed, error: "the command was killed by signal \(signal)")
    }
}

/// `/bin/sh -c` in a new process group (`ChildProcess`), standard streams on /dev/null.
enum ShellProcess {
    static func spawn(_ script: String, environment: [String: String]) -> Result<pid_t, ChildProcess.SpawnError> {
        ChildProcess.spawn("/bin/sh", arguments: ["/bin/sh", "-c", script], environment: environment, stdin: .devNull, stdout: .devNull, stderr: .devNull)
    }

    /// The raw wait status, waited for on a thread of its own (waitpid blocks); `reaped` runs
    /// on that thread right after waitpid, before the caller resumes.
    static func wait(_ pid: pid_t, reaped: @escaping @Sendable () -> Void) async -> Int32 {
        await blocking(named: "kiothc-cmd-wait") {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            reaped()
            return status
        }
    }
}

struct TimeoutError: Error {}

/// Whether the timer killed the command, and whether the command was reaped (then the timer
/// must not signal its process group); `done` is signalled once it is, ending the timer's wait.
private final class ProcessWatch: Sendable {
    let state = Mutex((killed: false, reaped: false))
    let done = DispatchSemaphore(value: 0)
}

/// Runs `body`, cancelling it after `timeout`.
func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error> {
    await withTaskGroup(of: Result<T, any Error>?.self) { group in
        group.addTask {
            do { return .success(try await body()) } catch { return .failure(error) }
        }
        group.addTask {
            do { try await Task.sleep(for: timeout) } catch { return nil }
            return .failure(TimeoutError())
        }
        // nil comes from the timer when the whole task was cancelled (shutdown): then the
        // body's own (cancellation) result is the answer, not a timeout.
        var result: Result<T, any Error> = .failure(CancellationError())
        while let next = await group.next() {
            if let value = next {
                result = value
                break
            }
        }
        group.cancelAll()
        return result
    }
}

extension CheckCatalog.Channel.Request {
    /// The base request with a direction's block laid over it: each field it sets wins.
    func overlaid(by override: CheckCatalog.Channel.Request?) -> CheckCatalog.Channel.Request {
        guard let override else { return self }
        return CheckCatalog.Channel.Request(
            url: override.url ?? url, method: override.method ?? method,
            headers: override.headers.isEmpty ? headers : override.headers, body: override.body ?? body)
    }
}

/// One HTTP request a channel sends, its secrets resolved and its placeholders rendered: what
/// webhooks and the native kinds build, and `Courier.send` sends.
public struct OutgoingRequest: Sendable {
    public var method: String
    public var url: String
    /// Line breaks in values are sent as spaces (a value must not split its header).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// A JSON body with its Content-Type.
    public init(method: String = "POST", url: String, headers: [(name: String, value: String)] = [], json: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])
        self.init(method: method, url: url, headers: headers + [("Content-Type", "application/json")], body: [UInt8](data))
    }
}

/// Sends an alert's message by email: the SMTP relay of the server (`SMTPMailer`).
public protocol Mailer: Sendable {
    func send(_ message: AlertMessage, alert: Alert, to recipients: CheckCatalog.Channel.Email, at now: Int64) async -> Attempt
}
