import Foundation
import HTTPTypes
import Hummingbird
import Runtime

/// Status badges at Healthchecks' URLs (SPEC §13), no key needed (the URL is the secret):
///
/// | route | badge |
/// |---|---|
/// | `/badge/<badge key>/<sig>/<tag>.<fmt>` | the project's checks with the tag |
/// | `/badge/<badge key>/<sig>.<fmt>` | all the project's checks (the tag `*`) |
/// | `/b/<states>/<badge uuid>.<fmt>` | one check |
///
/// `fmt` is `svg`, `json` or `shields`. A signature of 8 characters is the three-state form
/// (up, late, down), one ending in `-2` after them the two-state form (late shows as up); for
/// one check, `states` 3 is three-state and any other number two-state, as Healthchecks reads
/// them. An unknown key, a wrong signature or format: 404. Every answer of these routes is never
/// cached and carries Healthchecks' CORS headers; GET and HEAD are served, OPTIONS is a
/// preflight, other methods 405. The router only dispatches: `badge(at:)` reads the raw path
/// itself, as Healthchecks' URL patterns do (a tag is percent-decoded once, after matching).
struct BadgeEndpoint: Sendable {
    static let tagPrefix = "/badge/"
    static let checkPrefix = "/b/"

    let catalog: CurrentCatalog
    let states: CheckStates
    let signer: BadgeSigner
    let clock: @Sendable () -> Int64

    /// The three routes, every method (`respond` answers each).
    func routes() -> RouteCollection<ServerContext> {
        let routes = RouteCollection(context: ServerContext.self)
        for spelling in ["/badge/{key}/{part}/{file}", "/badge/{key}/{part}", "/b/{states}/{part}"] {
            routes.on(spelled: spelling, HTTPRequest.Method.routed) { request, _ in respond(to: request) }
        }
        return routes
    }

    enum Format: String {
        case svg, json, shields
    }

    func respond(to request: Request) -> Response {
        guard let found = badge(at: request.uri.path) else { return Self.notFound() }
        switch request.method {
        case .get, .head: break
        case .options: return Response(status: .noContent, headers: Self.headers())
        default:
            var headers = Self.headers()
            headers[.allow] = "GET, HEAD, OPTIONS"
            return Self.answer(.methodNotAllowed, headers, "method not allowed: use GET", head: false)
        }
        var headers = Self.headers()
        let status = found.tally.status(threeState: found.threeState)
        let body: String
        switch found.format {
        case .svg:
            headers[.contentType] = "image/svg+xml"
            body = BadgeRenderer.svg(label: found.label, status)
        case .json:
            headers[.contentType] = "application/json"
            body = BadgeRenderer.json(found.tally, threeState: found.threeState).rendered()
        case .shields:
            headers[.contentType] = "application/json"
            body = BadgeRenderer.shields(label: found.label, status).rendered()
        }
        return Self.answer(.ok, headers, body, head: request.method == .head)
    }

    struct Badge {
        let label: String
        let tally: BadgeTally
        let threeState: Bool
        let format: Format
    }

    /// The badge a path names, counted now; nil when it names none.
    func badge(at path: String) -> Badge? {
        let snapshot = catalog.snapshot
        let now = clock()
        if path.hasPrefix(Self.checkPrefix) {
            let parts = path.dropFirst(Self.checkPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isASCIIDigit), case let (id, format)? = Self.file(parts[1]),
                Self.isUUIDText(id)
            else { return nil }
            guard let entry = snapshot.entries.first(where: { signer.checkBadge($0.uuid) == id }) else { return nil }
            let view = CheckView(uuid: entry.uuid, definition: entry.definition, state: states.state(of: entry.uuid), now: now)
            let label = entry.definition.name.isEmpty ? view.code : entry.definition.name
            return Badge(label: label, tally: BadgeTally([view.status]), threeState: parts[0].drop(while: { $0 == "0" }) == "3", format: format)
        }
        let parts = path.dropFirst(Self.tagPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let key = parts[0]
        let signature: Substring
        let tag: String
        let format: Format
        if parts.count == 2 {
            guard case let (sig, fmt)? = Self.file(parts[1]) else { return nil }
            signature = sig
            tag = "*"
            format = fmt
        } else {
            guard case let (quoted, fmt)? = Self.file(parts[2], name: Self.isQuotedTag), let unquoted = String(quoted).removingPercentEncoding,
                !unquoted.isEmpty
            else { return nil }
            signature = parts[1]
            tag = unquoted
            format = fmt
        }
        guard Self.isSlug(key), Self.isSlug(signature),
            let project = snapshot.catalog.projects.first(where: { signer.badgeKey(project: $0.id) == key }),
            signer.verifies(String(signature), badgeKey: String(key), tag: tag)
        else { return nil }
        var tally = BadgeTally()
        for entry in snapshot.entries where entry.definition.id.project == project.id {
            if tag != "*" && !entry.definition.tags.contains(tag) { continue }
            tally.add(CheckView(uuid: entry.uuid, definition: entry.definition, state: states.state(of: entry.uuid), now: now).status)
        }
        let threeState = !(signature.count == 10 && signature.hasSuffix("-2"))
        let label = tag != "*" ? tag : (project.name.isEmpty ? project.id : project.name)
        return Badge(label: label, tally: tally, threeState: threeState, format: format)
    }

    /// `name.fmt` split at its last dot, the format known.
    private static func file(_ segment: Substring, name valid: (Substring) -> Bool = BadgeEndpoint.isSlug) -> (Substring, Format)? {
        guard let dot = segment.lastIndex(of: ".") else { return nil }
        let name = segment[..<dot]
        let suffix = segment[segment.index(after: dot)...]
        guard valid(name), isSlug(suffix), let format = Format(rawValue: String(suffix)) else { return nil }
        return (name, format)
    }

    /// Healthchecks' `slug` path converter: `[-a-zA-Z0-9_]+`.
    static func isSlug(_ text: Substring) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }
    }

    /// Healthchecks' tag segment: word characters, `%`, `~`, `.` and `-` (percent-decoded after).
    static func isQuotedTag(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "_%~.-".contains($0) }
    }

    private static func isUUIDText(_ text: Substring) -> Bool {
        UUID(uuidString: String(text))?.uuidString.lowercased() == String(text)
    }

    private static func headers() -> HTTPFields {
        var headers = APIResponses.cors("GET, OPTIONS")
        headers[.expires] = "0"
        return headers
    }

    private static func answer(_ status: HTTPResponse.Status, _ headers: HTTPFields, _ body: String, head: Bool) -> Response {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = "text/plain; charset=utf-8" }
        headers[.contentLength] = String(body.utf8.count)
        return Response(status: status, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func notFound() -> Response {
        answer(.notFound, headers(), "not found", head: false)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
