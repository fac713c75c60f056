import Foundation

/// One Healthchecks project as its API v3 lists it to a read-write key (`GET /api/v3/checks/`
/// and `GET /api/v3/channels/`), for `kiothc import healthchecks`. Pure: JSON in, values out.
public struct HealthchecksProject: Sendable, Equatable {
    public struct Check: Sendable, Equatable {
        /// Lower-case; from `uuid`, else the last segment of `ping_url`.
        public var uuid: String
        public var name: String
        public var slug: String
        public var desc: String
        /// `tags` split on whitespace, in their order, without repeats.
        public var tags: [String]
        public var grace: Int
        public var schedule: Schedule
        /// `""` or `"POST"`.
        public var methods: String
        public var manualResume: Bool
        /// `status == "paused"`.
        public var paused: Bool
        /// The channels' ids (`channels`: comma-separated).
        public var channelIDs: [String]
    }

    public enum Schedule: Sendable, Equatable {
        /// Seconds (a simple check).
        case timeout(Int)
        /// Cron or OnCalendar, with its time zone.
        case schedule(String, tz: String)
    }

    public struct Channel: Sendable, Equatable {
        public var id: String
        public var name: String
        public var kind: String
    }

    public var checks: [Check]
    public var channels: [Channel]

    public init(checks: [Check], channels: [Channel]) {
        self.checks = checks
        self.channels = channels
    }

    /// Why an answer cannot be imported, for people.
    public struct Problem: Error, Sendable, Equatable {
        public let message: String
        /// The key is read-only: its check documents carry `unique_key`, not the UUID.
        public let readOnlyKey: Bool

        init(_ message: String, readOnlyKey: Bool = false) {
            self.message = message
            self.readOnlyKey = readOnlyKey
        }
    }

    /// The checks of `GET /api/v3/checks/`'s body (`{"checks": [...]}`).
    public static func checks(fromJSON body: Data) throws(Problem) -> [Check] {
        guard let document = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let list = document["checks"] as? [Any] else {
            throw Problem("the answer to GET /api/v3/checks/ is not Healthchecks' JSON (\(Self.start(of: body))); is --url the address of the Healthchecks site?")
        }
        var checks: [Check] = []
        for (index, item) in list.enumerated() {
            guard let fields = item as? [String: Any] else { throw Problem("check \(index + 1) of GET /api/v3/checks/ is not a JSON object") }
            checks.append(try check(fields, index: index))
        }
        return checks
    }

    /// The channels of `GET /api/v3/channels/`'s body (`{"channels": [{"id", "name", "kind"}]}`).
    public static func channels(fromJSON body: Data) throws(Problem) -> [Channel] {
        guard let document = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let list = document["channels"] as? [Any] else {
            throw Problem("the answer to GET /api/v3/channels/ is not Healthchecks' JSON (\(Self.start(of: body)))")
        }
        var channels: [Channel] = []
        for (index, item) in list.enumerated() {
            guard let fields = item as? [String: Any], let id = fields["id"] as? String else {
                throw Problem("channel \(index + 1) of GET /api/v3/channels/ has no \"id\"")
            }
            channels.append(Channel(id: id.lowercased(), name: fields["name"] as? String ?? "", kind: fields["kind"] as? String ?? "?"))
        }
        return channels
    }

    private static func check(_ fields: [String: Any], index: Int) throws(Problem) -> Check {
        let name = fields["name"] as? String ?? ""
        let which = name.isEmpty ? "check \(index + 1)" : "check '\(name)'"
        guard let uuid = uuid(fields) else {
            if fields["unique_key"] != nil {
                throw Problem(
                    "the API key is read-only: Healthchecks lists checks to it without their UUIDs, and the import keeps every UUID so that existing ping URLs keep working; give the project's read-write API key (Healthchecks: Settings → API Access)",
                    readOnlyKey: true)
            }
            throw Problem("\(which) of GET /api/v3/checks/ has neither \"uuid\" nor \"ping_url\"")
        }
        let schedule: Schedule
        if let text = fields["schedule"] as? String {
            schedule = .schedule(text, tz: fields["tz"] as? String ?? "UTC")
        } else if let seconds = integer(fields["timeout"]) {
            schedule = .timeout(seconds)
        } else {
            throw Problem("\(which) of GET /api/v3/checks/ has neither \"timeout\" nor \"schedule\"")
        }
        guard let grace = integer(fields["grace"]) else { throw Problem("\(which) of GET /api/v3/checks/ has no \"grace\"") }
        var tags: [String] = []
        for tag in (fields["tags"] as? String ?? "").split(whereSeparator: \.isWhitespace).map(String.init) where !tags.contains(tag) {
            tags.append(tag)
        }
        let channelIDs = (fields["channels"] as? String ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        return Check(
            uuid: uuid, name: name, slug: fields["slug"] as? String ?? "", desc: fields["desc"] as? String ?? "", tags: tags, grace: grace,
            schedule: schedule, methods: fields["methods"] as? String ?? "", manualResume: fields["manual_resume"] as? Bool ?? false,
            paused: fields["status"] as? String == "paused", channelIDs: channelIDs.sorted())
    }

    /// `uuid` (Healthchecks 3.x), else the last segment of `ping_url` (both only for read-write keys).
    private static func uuid(_ fields: [String: Any]) -> String? {
        if let text = fields["uuid"] as? String, let uuid = UUID(uuidString: text) { return uuid.uuidString.lowercased() }
        if let url = fields["ping_url"] as? String, let last = url.split(separator: "/").last, let uuid = UUID(uuidString: String(last)) {
            return uuid.uuidString.lowercased()
        }
        return nil
    }

    private static func integer(_ value: Any?) -> Int? {
        if let number = value as? NSNumber, !(value is Bool) { return number.intValue }
        return nil
    }

    /// What an unexpected body starts with, on one line.
    static func start(of body: Data) -> String {
        if body.isEmpty { return "it is empty" }
        let text = String(decoding: body.prefix(60), as: UTF8.self).map { $0.isNewline || $0 == "\t" ? " " : String($0) }.joined()
        return "it starts with '\(text.trimmingCharacters(in: .whitespaces))'"
    }
}
