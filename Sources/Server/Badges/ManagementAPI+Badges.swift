import Foundation
import Hummingbird
import Runtime

extension ManagementAPI {
    /// `GET badges/`, as Healthchecks': for `*` and every tag of the key's project, the URLs of
    /// the badge in each format, two-state (`svg`, `json`, `shields`) and three-state (`…3`).
    func badgeList(_ call: Call) throws(APIError) -> Response {
        guard let project = call.viewer.project else {
            throw APIError(.badRequest, "badges belong to one project: ask with that project's api key, not the admin token")
        }
        var tags: Set<String> = ["*"]
        for entry in call.snapshot.entries(visibleTo: call.viewer) where entry.definition.id.project == project {
            tags.formUnion(entry.definition.tags)
        }
        let key = badges.badgeKey(project: project)
        let base = call.urls.base
        let documents = tags.sorted().map { tag -> (String, JSONValue) in
            let signature = badges.signature(badgeKey: key, tag: tag)
            func url(_ format: String, threeState: Bool) -> JSONValue {
                let sig = threeState ? signature : signature + "-2"
                let path = tag == "*" ? "\(sig).\(format)" : "\(sig)/\(Self.quoted(tag)).\(format)"
                return .string("\(base)\(BadgeEndpoint.tagPrefix)\(key)/\(path)")
            }
            return (
                tag,
                .object([
                    ("svg", url("svg", threeState: false)), ("svg3", url("svg", threeState: true)),
                    ("json", url("json", threeState: false)), ("json3", url("json", threeState: true)),
                    ("shields", url("shields", threeState: false)), ("shields3", url("shields", threeState: true)),
                ])
            )
        }
        return APIResponses.json(.ok, .object([("badges", .object(documents))]))
    }

    /// Percent-encoded but for letters, digits and `-._~` (Python's `quote(tag, safe="")`).
    static func quoted(_ tag: String) -> String {
        var allowed = CharacterSet()
        allowed.insert(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return tag.addingPercentEncoding(withAllowedCharacters: allowed) ?? tag
    }

    /// The badge URLs of one check (`/b/2/…` and `/b/3/…`), for its project's key holders.
    static func checkBadgeURL(base: String, badge: String, threeState: Bool, format: String) -> String {
        "\(base)\(BadgeEndpoint.checkPrefix)\(threeState ? 3 : 2)/\(badge).\(format)"
    }
}
