import Foundation
import Monitoring
import Runtime

/// A ping URL taken apart, with the rules of Healthchecks' URL patterns (SPEC §2):
/// `/ping/<uuid>[/]`, `/ping/<uuid>/<start|fail|log|exit-status>`,
/// `/ping/<ping-key>/<slug>[/<start|fail|log|exit-status>]`.
struct PingRoute: Equatable {
    enum Target: Equatable {
        case uuid(UUID)
        case slug(pingKey: Substring, slug: Substring)
    }

    enum Action: Equatable {
        case success, start, fail, log
        /// Any run of digits; values over 255 are rejected after the check is found.
        case exitStatus(Int)
    }

    enum Failure: Error, Equatable {
        /// 404 `not found`: no URL pattern matches.
        case notFound
        /// 400 `invalid url format`: an upper-case slug.
        case invalidFormat
    }

    var target: Target
    var action: Action

    /// Parses the part of the path after `/ping/`.
    static func parse(_ path: Substring) -> Result<PingRoute, Failure> {
        let segments = segments(path)
        switch segments.count {
        case 1:
            // Django's `uuid` converter: canonical, lower-case (upper case is no match).
            guard let uuid = UUID(canonicalText: segments[0]) else { return .failure(.notFound) }
            return .success(PingRoute(target: .uuid(uuid), action: .success))
        case 2:
            if let uuid = UUID(canonicalText: segments[0]) {
                if segments[1].isEmpty { return .success(PingRoute(target: .uuid(uuid), action: .success)) }
                if let action = action(segments[1]) { return .success(PingRoute(target: .uuid(uuid), action: action)) }
            }
            return slugRoute(pingKey: segments[0], slug: segments[1], action: .success)
        case 3:
            guard let action = action(segments[2]) else { return .failure(.notFound) }
            return slugRoute(pingKey: segments[0], slug: segments[1], action: action)
        default:
            return .failure(.notFound)
        }
    }

    /// The path split at "/" byte by byte (`split` on a Substring compares Characters, which
    /// showed in the ping path's profile); at most 4 segments, enough to tell every pattern.
    private static func segments(_ path: Substring) -> [Substring] {
        var segments: [Substring] = []
        var start = path.startIndex
        var index = path.utf8.startIndex
        while index != path.utf8.endIndex {
            if path.utf8[index] == UInt8(ascii: "/") {
                segments.append(path[start..<index])
                if segments.count == 3 { return segments + [path[path.utf8.index(after: index)...]] }
                start = path.utf8.index(after: index)
            }
            path.utf8.formIndex(after: &index)
        }
        segments.append(path[start...])
        return segments
    }

    private static func slugRoute(pingKey: Substring, slug: Substring, action: Action) -> Result<PingRoute, Failure> {
        guard isSlugSegment(pingKey), isSlugSegment(slug) else { return .failure(.notFound) }
        if slug.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) { return .failure(.invalidFormat) }
        return .success(PingRoute(target: .slug(pingKey: pingKey, slug: slug), action: action))
    }

    private static func action(_ segment: Substring) -> Action? {
        switch segment {
        case "start": return .start
        case "fail": return .fail
        case "log": return .log
        default:
            guard !segment.isEmpty, segment.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            // Any run of digits is an exit status; an overflowing one is simply too large.
            return .exitStatus(Int(segment) ?? Int.max)
        }
    }

    /// Django's `slug` converter: `[-a-zA-Z0-9_]+`.
    private static func isSlugSegment(_ segment: Substring) -> Bool {
        !segment.isEmpty && segment.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

}
