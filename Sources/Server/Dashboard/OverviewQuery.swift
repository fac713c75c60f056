import Foundation
import Runtime

/// What the overview at `/` shows, as its URL says it (issue 26): filters (`project`, `tag`,
/// `status`, `q`), the order (`sort`), the page and wall mode. A bookmarked or wall-mounted URL
/// shows the same view every time; the GET form of the page writes these same parameters.
///
/// Repeated `project=` or `status=` match any of the values given, repeated `tag=` all of them
/// (as the API's `?tag=`). Empty values (the form's "any") are no filter. A value that is not
/// valid is left out and explained in `problems`; the page still answers.
struct OverviewQuery: Equatable, Sendable {
    enum Sort: String, CaseIterable, Sendable {
        /// Problems first: down, then late (grace), then new, up and paused; the default.
        case status
        /// By name, case-insensitively.
        case name
        /// The most recent last ping first; checks never pinged last.
        case lastPing = "last_ping"
    }

    var projects: [String] = []
    var tags: [String] = []
    var statuses: [CheckView.Status] = []
    var search = ""
    var sort = Sort.status
    /// 1-based.
    var page = 1
    var wall = false
    /// Why a parameter was left out, for the page (people wrote the URL).
    var problems: [String] = []

    /// Longest `q` searched for; a longer one is cut there (and said so).
    static let searchLimit = 200

    init() {}

    /// The query of `uri` (everything after `?`, still percent-encoded; nil: none).
    init(query: String?) {
        self.init()
        for (name, value) in Self.pairs(query ?? "") {
            switch name {
            case "project":
                if !value.isEmpty && !projects.contains(value) { projects.append(value) }
            case "tag":
                if !value.isEmpty && !tags.contains(value) { tags.append(value) }
            case "status":
                guard !value.isEmpty else { continue }
                if let status = Self.status(value) {
                    if !statuses.contains(status) { statuses.append(status) }
                } else {
                    problems.append("'\(Self.shown(value))' is not a status, so it was left out of the filter: use new, up, grace (or late), down or paused")
                }
            case "q":
                let trimmed = value.trimmingCharacters(in: .whitespaces)
                if trimmed.count > Self.searchLimit {
                    problems.append("The search was cut to its first \(Self.searchLimit) characters")
                    search = String(trimmed.prefix(Self.searchLimit))
                } else {
                    search = trimmed
                }
            case "sort":
                guard !value.isEmpty else { continue }
                if let sort = Sort(rawValue: value) {
                    self.sort = sort
                } else {
                    problems.append("'\(Self.shown(value))' is not a sort order, so checks are in the default order (problems first): use status, name or last_ping")
                }
            case "page":
                guard !value.isEmpty else { continue }
                if let page = Int(value), page >= 1 {
                    self.page = page
                } else {
                    problems.append("'\(Self.shown(value))' is not a page number (1, 2, …), so this is page 1")
                }
            case "wall":
                wall = value == "1" || value == "true" || value == "yes"
            default:
                continue  // other parameters (a cache buster, a tracking tag) change nothing
            }
        }
    }

    /// A status as the URL names it; `late` is grace, as people say.
    static func status(_ text: String) -> CheckView.Status? {
        let lowered = text.lowercased()
        return lowered == "late" ? .grace : CheckView.Status(rawValue: lowered)
    }

    /// A value from the URL quoted back in a message: at most 40 characters.
    private static func shown(_ value: String) -> String {
        value.count > 40 ? String(value.prefix(40)) + "…" : value
    }

    /// Whether anything narrows the visible checks.
    var filters: Bool { !projects.isEmpty || !tags.isEmpty || !statuses.isEmpty || !search.isEmpty }

    /// This view's URL (path and query), with `change` applied: the filters kept, defaults
    /// left out, parameters in one order.
    func url(_ change: (inout OverviewQuery) -> Void = { _ in }) -> String {
        var query = self
        change(&query)
        var pairs: [(String, String)] = []
        pairs += query.projects.map { ("project", $0) }
        pairs += query.tags.map { ("tag", $0) }
        pairs += query.statuses.map { ("status", $0.rawValue) }
        if !query.search.isEmpty { pairs.append(("q", query.search)) }
        if query.sort != .status { pairs.append(("sort", query.sort.rawValue)) }
        if query.page > 1 { pairs.append(("page", String(query.page))) }
        if query.wall { pairs.append(("wall", "1")) }
        guard !pairs.isEmpty else { return "/" }
        return "/?" + pairs.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// `name=value` pairs of a query as browsers send a GET form: `+` is a space, then
    /// percent-decoding; a pair that does not decode is dropped.
    static func pairs(_ query: String) -> [(String, String)] {
        query.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = parts.first.flatMap(decode), let value = parts.count > 1 ? decode(parts[1]) : "" else { return nil }
            return (name, value)
        }
    }
}
