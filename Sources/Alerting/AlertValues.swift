/// The values of a notification's placeholders (SPEC §6), captured when the flip happens so
/// every retry sends the same text, and the facts the native kinds and email add to them
/// (SPEC §12): the schedule and the last ping's time.
public struct AlertValues: Sendable, Hashable, Codable {
    /// `$NAME`: the check's name.
    public var name: String
    /// `$SLUG`
    public var slug: String
    /// `$CODE`: the check's UUID, lower case.
    public var code: String
    /// `$STATUS`: `down` or `up`.
    public var status: String
    /// `$NOW`: the flip's time, ISO 8601 UTC with seconds (`2026-03-29T23:00:00Z`).
    public var now: String
    /// `$TAGS`: space-separated.
    public var tags: String
    /// `$PROJECT`: the project's name.
    public var project: String
    /// `$EXITSTATUS`: exit status of the last ping, or "" when it had none.
    public var exitStatus: String
    /// `$BODY`: the last ping's stored body, or "".
    public var body: String
    /// When pings are expected, for a person: `every 1 day, grace 1 hour` or
    /// `0 2 * * * (Europe/Riga), grace 30 minutes`; "" in alerts queued before issue 21.
    public var schedule: String
    /// The last ping's time, ISO 8601 UTC (`2026-03-29T22:58:10Z`), or "" when there was none.
    public var lastPing: String

    public init(
        name: String, slug: String, code: String, status: String, now: String, tags: String, project: String, exitStatus: String, body: String,
        schedule: String = "", lastPing: String = ""
    ) {
        self.name = name
        self.slug = slug
        self.code = code
        self.status = status
        self.now = now
        self.tags = tags
        self.project = project
        self.exitStatus = exitStatus
        self.body = body
        self.schedule = schedule
        self.lastPing = lastPing
    }

    /// Placeholder names, without `$`, and their values; also the environment of commands.
    public var byName: [String: String] {
        [
            "NAME": name, "SLUG": slug, "CODE": code, "STATUS": status, "NOW": now, "TAGS": tags,
            "PROJECT": project, "EXITSTATUS": exitStatus, "BODY": body,
        ]
    }

    enum CodingKeys: String, CodingKey {
        case name, slug, code, status, now, tags, project, body, schedule
        case exitStatus = "exit_status"
        case lastPing = "last_ping"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name), slug: try container.decode(String.self, forKey: .slug),
            code: try container.decode(String.self, forKey: .code), status: try container.decode(String.self, forKey: .status),
            now: try container.decode(String.self, forKey: .now), tags: try container.decode(String.self, forKey: .tags),
            project: try container.decode(String.self, forKey: .project), exitStatus: try container.decode(String.self, forKey: .exitStatus),
            body: try container.decode(String.self, forKey: .body),
            // Absent from alerts queued by servers before issue 21.
            schedule: try container.decodeIfPresent(String.self, forKey: .schedule) ?? "",
            lastPing: try container.decodeIfPresent(String.self, forKey: .lastPing) ?? "")
    }
}
