import CheckCatalog
import Foundation
import HTTPTypes
import Hummingbird
import Monitoring
import PingStore
import Runtime

/// The Healthchecks-compatible management API (SPEC §7) under `/api/v1/`, `/api/v2/` and
/// `/api/v3/` (the versions differ only in the URLs they print and, in v1, a check's `status`:
/// `APIDocuments.status`, as in Healthchecks):
///
/// | route | key |
/// |---|---|
/// | `GET checks/` (`?tag=`…, `?slug=`) | read-only or read-write |
/// | `GET checks/<uuid>` or `checks/<unique_key>` | read-only or read-write |
/// | `GET checks/<uuid>/pings/`, `GET checks/<uuid>/pings/<n>/body` | read-write |
/// | `GET checks/<uuid>/flips/` | read-only or read-write |
/// | `GET checks/<uuid>/notifications/` (`?limit=`) | read-only or read-write |
/// | `POST checks/<uuid>/pause`, `POST checks/<uuid>/resume` | read-write |
/// | `GET channels/` | read-write |
/// | `POST channels/<channel id>/test` (`{"check": "<uuid>"}` optional) | read-write |
/// | `GET badges/` | read-only or read-write |
/// | `GET catalog/` (ours: what the server applied, for `kiothc plan --server`) | read-only or read-write |
/// | `GET status/` | none |
///
/// Checks are declared in files: creating, updating or deleting one answers 405.
///
/// The key comes in the `X-Api-Key` header or, for the POST routes as in Healthchecks, as
/// `api_key` in a JSON object body (`{"api_key": "..."}`); the header wins when both are sent.
struct ManagementAPI: Sendable {
    /// Where the API answers, in JSON, for every path, routed or not.
    static let prefix = "/api/v"

    let catalog: CurrentCatalog
    let states: CheckStates
    let reader: any CheckStore
    let pause: RuntimePause
    /// The alert history and test notifications (SPEC §12), as the runtime keeps and sends them.
    let alerts: Runtime
    let clock: @Sendable () -> Int64
    /// `--base-url`; nil: built from the request's Host header and scheme.
    let baseURL: String?
    /// Pings listed at most (Healthchecks: the account's ping log limit); `--keep-pings`.
    let pingLimit: Int
    /// The badge URLs of `GET badges/` (SPEC §13).
    let badges: BadgeSigner
    /// The last load's outcome: the serving configuration's hash and time in `GET catalog/`.
    let status: CurrentReloadStatus

    /// The routes of one version, added under `/api/v<version>` (`ServerResponder`). A route
    /// answers OPTIONS with its CORS preflight and methods other than its own with 405.
    func routes(version: Int, scheme: String) -> RouteCollection<ServerContext> {
        let routes = RouteCollection(context: ServerContext.self)
        func add(
            _ spelling: String, _ method: HTTPRequest.Method, readWrite: Bool = false, managesChecks: Bool = false,
            _ handler: @escaping @Sendable (Request, Call) async throws -> Response
        ) {
            routes.on(spelled: spelling, method == .get ? [.get, .head] : [method]) { request, context in
                var request = request
                var bodyKey: String?
                if method == .post { bodyKey = try await Self.bodyKey(&request) }
                return try await handler(request, try call(request, context, bodyKey: bodyKey, readWrite: readWrite, version: version, scheme: scheme))
            } otherwise: { request, _ in
                Self.refusal(request, [method], managesChecks: managesChecks)
            }
        }
        add("checks/", .get, managesChecks: true) { request, call in list(request, call) }
        add("checks/{id}", .get, managesChecks: true) { _, call in APIResponses.json(.ok, document(try resolve(call), call)) }
        add("checks/{id}/pings/", .get, readWrite: true) { _, call in await pings(try resolve(call), call) }
        add("checks/{id}/pings/{n}/body", .get, readWrite: true) { _, call in await body(try resolve(call), n: call.parameters.get("n") ?? "") }
        add("checks/{id}/flips/", .get) { request, call in await flips(try resolve(call), request, call) }
        add("checks/{id}/notifications/", .get) { request, call in await notifications(try resolve(call), request, call) }
        add("checks/{id}/pause", .post, readWrite: true) { _, call in await pauseOrResume(try resolve(call), pause: true, call) }
        add("checks/{id}/resume", .post, readWrite: true) { _, call in await pauseOrResume(try resolve(call), pause: false, call) }
        add("channels/", .get, readWrite: true) { _, call in APIResponses.json(.ok, .object([("channels", .array(channels(call)))])) }
        add("channels/{id}/test", .post, readWrite: true) { request, call in await sendTest(request, call) }
        add("badges/", .get) { _, call in try badgeList(call) }
        add("catalog/", .get) { _, call in
            APIResponses.json(.ok, AppliedCatalogDocument.document(call.snapshot, viewer: call.viewer, status: status.snapshot))
        }
        // No key: a liveness check for clients.
        routes.on(spelled: "status/", [.get, .head]) { _, _ in APIResponses.text(.ok, "OK") } otherwise: { request, _ in Self.refusal(request, [.get]) }
        return routes
    }

    /// A route's answer to a method it does not serve: OPTIONS is a CORS preflight, the rest 405.
    private static func refusal(_ request: Request, _ methods: [HTTPRequest.Method], managesChecks: Bool = false) -> Response {
        request.method == .options ? APIResponses.preflight(methods) : APIResponses.methodNotAllowed(methods, request.method, managesChecks: managesChecks)
    }

    /// One authorized request: who asks, the catalog and time it is answered from, its URLs.
    struct Call {
        let snapshot: ServingCatalog
        let viewer: Viewer
        let urls: APIURLs
        let now: Int64
        let parameters: Parameters
    }

    private func call(
        _ request: Request, _ context: ServerContext, bodyKey: String?, readWrite: Bool, version: Int, scheme: String
    ) throws(APIError) -> Call {
        let snapshot = catalog.snapshot
        let given = request.headers[.xAPIKey] ?? bodyKey ?? ""
        guard !given.isEmpty else { throw APIError(.unauthorized, "missing api key") }
        guard let viewer = snapshot.viewer(apiKey: given) else { throw APIError(.unauthorized, "wrong api key") }
        if readWrite && !viewer.canWrite {
            throw APIError(.unauthorized, "wrong api key: this needs the project's read_write key, not its read_only key")
        }
        let urls = APIURLs(base: baseURL ?? Self.origin(request, scheme: scheme), version: version)
        return Call(snapshot: snapshot, viewer: viewer, urls: urls, now: clock(), parameters: context.parameters)
    }

    /// Healthchecks' `authorize`: a POST without an `X-Api-Key` header may carry its key as
    /// `api_key` in a JSON object body. The body is read here once (`request` keeps it for the
    /// route, which may read it again); with the header it is left to the route. An empty (or
    /// blank) body has no key; one that is not a JSON object is refused with 400.
    private static func bodyKey(_ request: inout Request) async throws(APIError) -> String? {
        guard request.headers[.xAPIKey] == nil else { return nil }
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: 16 * 1024)
        } catch {
            throw APIError(.contentTooLarge, "the body is larger than 16 KiB")
        }
        let data = Data(bytes.readableBytesView)
        if data.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return nil }
        guard let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw APIError(.badRequest, "could not parse request body: send the API key in the X-Api-Key header, or a JSON object body with \"api_key\"")
        }
        guard let object = value as? [String: Any] else {
            throw APIError(.badRequest, "json validation error: the body is not a JSON object")
        }
        guard let value = object["api_key"] else { return nil }
        guard let key = value as? String else { throw APIError(.unauthorized, "wrong api key: \"api_key\" must be a string") }
        return key
    }

    // MARK: Handlers

    private func list(_ request: Request, _ call: Call) -> Response {
        let tags = Set(request.uri.queryParameters.getAll("tag").map { String($0) })
        let slug = request.uri.queryParameters.get("slug")
        var checks: [JSONValue] = []
        for entry in call.snapshot.entries(visibleTo: call.viewer) {
            if let slug, entry.definition.slug != slug { continue }
            if !tags.isSubset(of: Set(entry.definition.tags)) { continue }
            checks.append(document(entry, call))
        }
        return APIResponses.json(.ok, .object([("checks", .array(checks))]))
    }

    /// The route's check, by UUID (canonical lower-case, as the ping URLs) or, as Healthchecks, by
    /// its `unique_key` within the viewer's project.
    private func resolve(_ call: Call) throws(APIError) -> ServingCatalog.Entry {
        let id = call.parameters.get("id") ?? ""
        if let uuid = UUID(uuidString: id), uuid.uuidString.lowercased() == id {
            guard let entry = call.snapshot.check(uuid) else { throw APIError(.notFound, "check not found") }
            guard call.viewer.canSee(entry.definition.id.project) else {
                throw APIError(.forbidden, "this check belongs to another project than the api key's")
            }
            return entry
        }
        if id.count == 40, id.allSatisfy(\.isHexDigit) {
            for entry in call.snapshot.entries(visibleTo: call.viewer) where CheckView.uniqueKey(entry.uuid) == id {
                return entry
            }
            throw APIError(.notFound, "check not found")
        }
        throw APIError(.badRequest, "'\(id.prefix(64))' is neither a check UUID (lower-case) nor a unique_key")
    }

    private func view(_ entry: ServingCatalog.Entry, _ call: Call) -> CheckView {
        call.snapshot.view(of: entry, states: states, now: call.now)
    }

    /// Healthchecks' `Check.to_dict(readonly:)` plus `project` and `key`.
    func document(_ entry: ServingCatalog.Entry, _ call: Call) -> JSONValue {
        APIDocuments.check(
            view(entry, call), readOnly: !call.viewer.canWrite, urls: call.urls, snapshot: call.snapshot, now: call.now,
            badgeURL: Self.checkBadgeURL(base: call.urls.base, badge: badges.checkBadge(entry.uuid), threeState: false, format: "svg"))
    }

    private func channels(_ call: Call) -> [JSONValue] {
        call.snapshot.catalog.projects.filter { call.viewer.canSee($0.id) }.flatMap { project in
            project.channels.map { channel in
                JSONValue.object([
                    ("id", .string(APIDocuments.channelID(project: project.id, channel: channel.name))),
                    ("name", .string(channel.name)),
                    ("kind", .string(channel.kindName)),
                    // Not in Healthchecks' document (an account's channels are one project's
                    // there); `kiothc notify PROJECT/CHANNEL` finds a channel's id by it.
                    ("project", .string(project.id)),
                ])
            }
        }
    }

    private func pings(_ entry: ServingCatalog.Entry, _ call: Call) async -> Response {
        do {
            let pings = try await reader.pings(of: entry.uuid, limit: pingLimit)
            let documents = pings.map { APIDocuments.ping($0, bodyURL: call.urls.body(entry.uuid, n: $0.n)) }
            return APIResponses.json(.ok, .object([("pings", .array(documents))]))
        } catch {
            return APIResponses.error(.serviceUnavailable, "the pings of this check cannot be read now: \(error)")
        }
    }

    private func body(_ entry: ServingCatalog.Entry, n text: String) async -> Response {
        guard let n = Int(text), n > 0, String(n) == text else {
            return APIResponses.error(.notFound, "'\(text.prefix(32))' is not a ping number")
        }
        let newest = states.state(of: entry.uuid).nPings
        guard n <= newest, n > newest - pingLimit else { return APIResponses.error(.notFound, "ping \(n) is not stored") }
        do {
            guard let ping = try await reader.ping(of: entry.uuid, n: n) else { return APIResponses.error(.notFound, "ping \(n) is not stored") }
            guard let body = ping.body, !body.isEmpty else { return APIResponses.error(.notFound, "ping \(n) has no stored body") }
            return APIResponses.text(.ok, body)
        } catch {
            return APIResponses.error(.serviceUnavailable, "the pings of this check cannot be read now: \(error)")
        }
    }

    private func flips(_ entry: ServingCatalog.Entry, _ request: Request, _ call: Call) async -> Response {
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
        if let secondsValue { start = max(start ?? .min, call.now - secondsValue * 1_000_000) }
        do {
            // Flips are few (status changes); 93 days of them are kept at most.
            let flips = try await reader.flips(of: entry.uuid, limit: 10_000).filter { stored in
                (start.map { stored.flip.time >= $0 } ?? true) && (end.map { stored.flip.time < $0 } ?? true)
            }
            // A bare list, as Healthchecks (its docs and its clients): not {"flips": [...]}.
            return APIResponses.json(.ok, .array(flips.map { APIDocuments.flip($0.flip) }))
        } catch {
            return APIResponses.error(.serviceUnavailable, "the flips of this check cannot be read now: \(error)")
        }
    }

    private func notifications(_ entry: ServingCatalog.Entry, _ request: Request, _ call: Call) async -> Response {
        var limit = 50
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), (1...100).contains(value), String(value) == String(text) else {
                return APIResponses.error(.badRequest, "limit must be a whole number from 1 to 100 (default 50)")
            }
            limit = value
        }
        do {
            let records = try await alerts.notifications(of: entry.uuid, limit: limit)
            let documents = records.map { APIDocuments.notification($0, snapshot: call.snapshot) }
            return APIResponses.json(.ok, .object([("notifications", .array(documents))]))
        } catch {
            return APIResponses.error(.serviceUnavailable, "the notifications of this check cannot be read now: \(error)")
        }
    }

    /// Sends a test notification through a channel of the key's project, optionally about one
    /// of its checks, and answers once it was tried (its `status` says how that went).
    private func sendTest(_ request: Request, _ call: Call) async -> Response {
        let id = (call.parameters.get("id") ?? "").lowercased()
        var found: (project: String, channel: String)?
        for project in call.snapshot.catalog.projects where call.viewer.canSee(project.id) {
            for channel in project.channels where APIDocuments.channelID(project: project.id, channel: channel.name) == id {
                found = (project.id, channel.name)
            }
        }
        guard let found else {
            return APIResponses.error(
                .notFound, "channel not found: no channel of this key's project has the id '\(id.prefix(64))' (GET /api/v3/channels/ lists them)")
        }
        let check: UUID?
        switch await Self.testedCheck(request, project: found.project, snapshot: call.snapshot) {
        case .success(let uuid): check = uuid
        case .failure(let refusal): return APIResponses.error(refusal.status, refusal.message)
        }
        do {
            let record = try await alerts.sendTest(project: found.project, channel: found.channel, check: check)
            return APIResponses.json(.ok, APIDocuments.notification(record, snapshot: catalog.snapshot))
        } catch let refusal as TestNotificationRefused {
            // A reload removed the channel (or the check) since the request was read.
            if catalog.snapshot.catalog.project(found.project)?.channel(named: found.channel) == nil {
                return APIResponses.error(.notFound, "channel not found: \(refusal)")
            }
            return APIResponses.error(.badRequest, "\(refusal)")
        } catch {
            return APIResponses.error(.serviceUnavailable, "the test notification could not be queued, try again: \(error)")
        }
    }

    /// The check a test notification is about: none without a body (or with `{}`), else the
    /// body's `{"check": "<uuid>"}`, a check of the channel's project. The body may also hold
    /// the key (`api_key`, read by `bodyKey`).
    private static func testedCheck(_ request: Request, project: String, snapshot: ServingCatalog) async -> Result<UUID?, APIError> {
        let usage = "send no body, or a JSON object naming a check of project '\(project)': {\"check\": \"<uuid>\"}"
        var request = request
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: 16 * 1024)
        } catch {
            return .failure(APIError(.contentTooLarge, "the body is larger than 16 KiB; \(usage)"))
        }
        let data = Data(bytes.readableBytesView)
        if data.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return .success(nil) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return .failure(APIError(.badRequest, "the body is not a JSON object; \(usage)"))
        }
        if let unknown = object.keys.sorted().first(where: { $0 != "check" && $0 != "api_key" }) {
            return .failure(APIError(.badRequest, "unknown field '\(unknown.prefix(64))' in the body; \(usage)"))
        }
        guard let value = object["check"], !(value is NSNull) else { return .success(nil) }
        guard let text = value as? String, let uuid = UUID(uuidString: text) else {
            return .failure(APIError(.badRequest, "\"check\" must be a check's UUID; \(usage)"))
        }
        guard let entry = snapshot.check(uuid), entry.definition.id.project == project else {
            return .failure(APIError(.badRequest, "no check \(uuid.uuidString.lowercased()) in project '\(project)'; \(usage)"))
        }
        return .success(uuid)
    }

    private func pauseOrResume(_ entry: ServingCatalog.Entry, pause paused: Bool, _ call: Call) async -> Response {
        if !paused, entry.definition.paused {
            return APIResponses.error(.conflict, "check is paused in its configuration file (paused: true); remove that line to resume it")
        }
        do {
            if paused {
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
        let after = Call(snapshot: call.snapshot, viewer: call.viewer, urls: call.urls, now: clock(), parameters: call.parameters)
        return APIResponses.json(.ok, document(entry, after))
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
