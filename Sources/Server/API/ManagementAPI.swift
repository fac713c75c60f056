import CheckCatalog
import Foundation
import HTTPTypes
import Hummingbird
import Monitoring
import PingStore
import Runtime

/// The Healthchecks-compatible management API (SPEC §7) under `/api/v1/`, `/api/v2/` and
/// `/api/v3/` (the versions differ only in the URLs they print, as in Healthchecks):
///
/// | route | key |
/// |---|---|
/// | `GET checks/` (`?tag=`…, `?slug=`) | read-only or read-write |
/// | `GET checks/<uuid>` or `checks/<unique_key>` | read-only or read-write |
/// | `GET checks/<uuid>/pings/`, `GET checks/<uuid>/pings/<n>/body` | read-write |
/// | `GET checks/<uuid>/flips/` | read-only or read-write |
/// | `POST checks/<uuid>/pause`, `POST checks/<uuid>/resume` | read-write |
/// | `GET channels/` | read-write |
/// | `GET status/` | none |
///
/// Checks are declared in files: creating, updating or deleting one answers 405.
struct ManagementAPI: Sendable {
    static let prefix = "/api/v"

    let catalog: CurrentCatalog
    let states: CheckStates
    let reader: any CheckStore
    let pause: RuntimePause
    let clock: @Sendable () -> Int64
    /// `--base-url`; nil: built from the request's Host header and scheme.
    let baseURL: String?
    /// Pings listed at most (Healthchecks: the account's ping log limit); `--keep-pings`.
    let pingLimit: Int

    func respond(to request: Request, scheme: String) async -> Response {
        let path = request.uri.path
        guard path.hasPrefix(Self.prefix) else { return APIResponses.notFound() }
        var rest = path.dropFirst(Self.prefix.count)
        guard let version = rest.first, let v = Int(String(version)), (1...3).contains(v), rest.dropFirst().first == "/" else {
            return APIResponses.notFound()
        }
        rest = rest.dropFirst(2)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let route = Route(parts) else { return APIResponses.notFound() }
        if request.method == .options { return APIResponses.preflight(route.methods) }
        guard route.methods.contains(request.method) || (request.method == .head && route.methods.contains(.get)) else {
            return APIResponses.methodNotAllowed(route, request.method)
        }
        if case .status = route { return APIResponses.text(.ok, "OK") }

        let snapshot = catalog.snapshot
        let given = request.headers[.xAPIKey] ?? ""
        guard !given.isEmpty else { return APIResponses.error(.unauthorized, "missing api key") }
        guard let viewer = snapshot.viewer(apiKey: given) else { return APIResponses.error(.unauthorized, "wrong api key") }
        if route.needsReadWrite && !viewer.canWrite {
            return APIResponses.error(.unauthorized, "wrong api key: this needs the project's read_write key, not its read_only key")
        }
        let urls = APIURLs(base: baseURL ?? Self.origin(request, scheme: scheme), version: v)
        let now = clock()
        let context = Context(snapshot: snapshot, viewer: viewer, urls: urls, now: now)

        switch route {
        case .status: return APIResponses.text(.ok, "OK")
        case .checks:
            return list(request, context)
        case .channels:
            return APIResponses.json(.ok, .object([("channels", .array(channels(context)))]))
        case .check(let id):
            switch resolve(id, context) {
            case .failure(let error): return error.response
            case .success(let entry): return APIResponses.json(.ok, document(entry, context))
            }
        case .pings(let id):
            switch resolve(id, context) {
            case .failure(let error): return error.response
            case .success(let entry): return pings(entry, context)
            }
        case .body(let id, let n):
            switch resolve(id, context) {
            case .failure(let error): return error.response
            case .success(let entry): return body(entry, n: n)
            }
        case .flips(let id):
            switch resolve(id, context) {
            case .failure(let error): return error.response
            case .success(let entry): return flips(entry, request, context)
            }
        case .pause(let id), .resume(let id):
            switch resolve(id, context) {
            case .failure(let error): return error.response
            case .success(let entry): return await pauseOrResume(entry, route: route, context)
            }
        }
    }

    struct Context {
        let snapshot: ServingCatalog
        let viewer: Viewer
        let urls: APIURLs
        let now: Int64
    }

    // MARK: Routes

    enum Route: Equatable {
        case checks, channels, status
        case check(String), pings(String), body(String, n: String), flips(String), pause(String), resume(String)

        init?(_ parts: [String]) {
            switch parts.count {
            case 2 where parts[1] == "":
                switch parts[0] {
                case "checks": self = .checks
                case "channels": self = .channels
                case "status": self = .status
                default: return nil
                }
            case 2 where parts[0] == "checks": self = .check(parts[1])
            case 3 where parts[0] == "checks":
                switch parts[2] {
                case "pause": self = .pause(parts[1])
                case "resume": self = .resume(parts[1])
                default: return nil
                }
            case 4 where parts[0] == "checks" && parts[3] == "":
                switch parts[2] {
                case "pings": self = .pings(parts[1])
                case "flips": self = .flips(parts[1])
                default: return nil
                }
            case 5 where parts[0] == "checks" && parts[2] == "pings" && parts[4] == "body":
                self = .body(parts[1], n: parts[3])
            default: return nil
            }
        }

        /// Methods the route answers (HEAD too where GET is).
        var methods: [HTTPRequest.Method] {
            switch self {
            case .pause, .resume: [.post]
            default: [.get]
            }
        }

        /// Where Healthchecks creates, updates or deletes checks.
        var managesChecks: Bool {
            switch self {
            case .checks, .check: true
            default: false
            }
        }

        var needsReadWrite: Bool {
            switch self {
            case .pings, .body, .pause, .resume, .channels: true
            default: false
            }
        }
    }

    // MARK: Handlers

    private func list(_ request: Request, _ context: Context) -> Response {
        let tags = Set(request.uri.queryParameters.getAll("tag").map { String($0) })
        let slug = request.uri.queryParameters.get("slug")
        var checks: [JSONValue] = []
        for entry in context.snapshot.entries(visibleTo: context.viewer) {
            if let slug, entry.definition.slug != slug { continue }
            if !tags.isSubset(of: Set(entry.definition.tags)) { continue }
            checks.append(document(entry, context))
        }
        return APIResponses.json(.ok, .object([("checks", .array(checks))]))
    }

    /// A check by UUID (canonical lower-case, as the ping URLs) or, as Healthchecks, by its
    /// `unique_key` within the viewer's project.
    private func resolve(_ id: String, _ context: Context) -> Result<ServingCatalog.Entry, ErrorResponse> {
        if let uuid = UUID(uuidString: id), uuid.uuidString.lowercased() == id {
            guard let entry = context.snapshot.check(uuid) else { return .failure(ErrorResponse(APIResponses.error(.notFound, "check not found"))) }
            guard context.viewer.canSee(entry.definition.id.project) else {
                return .failure(ErrorResponse(APIResponses.error(.forbidden, "this check belongs to another project than the api key's")))
            }
            return .success(entry)
        }
        if id.count == 40, id.allSatisfy(\.isHexDigit) {
            for entry in context.snapshot.entries(visibleTo: context.viewer) where CheckView.uniqueKey(entry.uuid) == id {
                return .success(entry)
            }
            return .failure(ErrorResponse(APIResponses.error(.notFound, "check not found")))
        }
        return .failure(ErrorResponse(APIResponses.error(.badRequest, "'\(id.prefix(64))' is neither a check UUID (lower-case) nor a unique_key")))
    }

    struct ErrorResponse: Error { let response: Response; init(_ response: Response) { self.response = response } }

    private func view(_ entry: ServingCatalog.Entry, _ context: Context) -> CheckView {
        CheckView(uuid: entry.uuid, definition: entry.definition, state: states.state(of: entry.uuid), now: context.now)
    }

    /// Healthchecks' `Check.to_dict(readonly:)` plus `project` and `key`.
    func document(_ entry: ServingCatalog.Entry, _ context: Context) -> JSONValue {
        APIDocuments.check(view(entry, context), readOnly: !context.viewer.canWrite, urls: context.urls, snapshot: context.snapshot)
    }

    private func channels(_ context: Context) -> [JSONValue] {
        context.snapshot.catalog.projects.filter { context.viewer.canSee($0.id) }.flatMap { project in
            project.channels.map { channel in
                JSONValue.object([
                    ("id", .string(APIDocuments.channelID(project: project.id, channel: channel.name))),
                    ("name", .string(channel.name)),
                    ("kind", .string(channel.kindName)),
                ])
            }
        }
    }

    private func pings(_ entry: ServingCatalog.Entry, _ context: Context) -> Response {
        do {
            let pings = try reader.pings(of: entry.uuid, limit: pingLimit)
            let documents = pings.map { APIDocuments.ping($0, bodyURL: context.urls.body(entry.uuid, n: $0.n)) }
            return APIResponses.json(.ok, .object([("pings", .array(documents))]))
        } catch {
            return APIResponses.error(.serviceUnavailable, "the pings of this check cannot be read now: \(error)")
        }
    }

    private func body(_ entry: ServingCatalog.Entry, n text: String) -> Response {
        guard let n = Int(text), n > 0, String(n) == text else {
            return APIResponses.error(.notFound, "'\(text.prefix(32))' is not a ping number")
        }
        let newest = states.state(of: entry.uuid).nPings
        guard n <= newest, n > newest - pingLimit else { return APIResponses.error(.notFound, "ping \(n) is not stored") }
        do {
            guard let ping = try reader.ping(of: entry.uuid, n: n) else { return APIResponses.error(.notFound, "ping \(n) is not stored") }
            guard let body = ping.body, !body.isEmpty else { return APIResponses.error(.notFound, "ping \(n) has no stored body") }
            return APIResponses.text(.ok, body)
        } catch {
            return APIResponses.error(.serviceUnavailable, "the pings of this check cannot be read now: \(error)")
        }
    }

    private func flips(_ entry: ServingCatalog.Entry, _ request: Request, _ context: Context) -> Response {
        var start: Int64?
        var end: Int64?
        let query = request.uri.queryParameters
        /// Healthchecks' `FlipsFiltersForm`: whole numbers within bounds, else 400.
        func seconds(_ name: String, max: Int64) -> Int64?? {
            guard let text = query.get(name) else { return .some(nil) }
            guard let value = Int64(text), value >= 0, value <= max else { return nil }
            return .some(value)
        }
        guard let startValue = seconds("start", max: 10_000_000_000), let endValue = seconds("end", max: 10_000_000_000),
            let secondsValue = seconds("seconds", max: 31_536_000)
        else {
            return APIResponses.error(.badRequest, "start and end must be Unix times (0-10000000000) and seconds 0-31536000, in whole seconds")
        }
        if let startValue { start = startValue * 1_000_000 }
        if let endValue { end = endValue * 1_000_000 }
        if let secondsValue { start = max(start ?? .min, context.now - secondsValue * 1_000_000) }
        do {
            // Flips are few (status changes); 93 days of them are kept at most.
            let flips = try reader.flips(of: entry.uuid, limit: 10_000).filter { stored in
                (start.map { stored.flip.time >= $0 } ?? true) && (end.map { stored.flip.time < $0 } ?? true)
            }
            // A bare list, as Healthchecks (its docs and its clients): not {"flips": [...]}.
            return APIResponses.json(.ok, .array(flips.map { APIDocuments.flip($0.flip) }))
        } catch {
            return APIResponses.error(.serviceUnavailable, "the flips of this check cannot be read now: \(error)")
        }
    }

    private func pauseOrResume(_ entry: ServingCatalog.Entry, route: Route, _ context: Context) async -> Response {
        if case .resume = route, entry.definition.paused {
            return APIResponses.error(.conflict, "check is paused in its configuration file (paused: true); remove that line to resume it")
        }
        do {
            if case .pause = route {
                _ = try await pause.pause(entry.uuid)
            } else {
                _ = try await pause.resume(entry.uuid)
            }
        } catch {
            switch error {
            case .notPaused: return APIResponses.text(.conflict, "check is not paused")
            case .notStored(let reason): return APIResponses.error(.serviceUnavailable, "not stored, try again: \(reason)")
            }
        }
        return APIResponses.json(.ok, document(entry, Context(snapshot: context.snapshot, viewer: context.viewer, urls: context.urls, now: clock())))
    }

    /// `scheme://host` of the request, for the URLs in responses when no `--base-url` is set.
    static func origin(_ request: Request, scheme: String) -> String {
        let host = request.head.authority ?? request.headers[.hostHeader] ?? "localhost"
        let safeHost = host.allSatisfy { $0.isLetter || $0.isNumber || ".-:[]_".contains($0) } ? host : "localhost"
        let proto = request.headers[.xForwardedProto].flatMap { $0 == "https" || $0 == "http" ? $0 : nil } ?? scheme
        return "\(proto)://\(safeHost)"
    }
}

extension HTTPField.Name {
    static let xAPIKey = HTTPField.Name("X-Api-Key")!
}
