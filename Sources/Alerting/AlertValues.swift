/// The values of a notification's placeholders (SPEC §6), captured when the flip happens so
/// every retry sends the same text.
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

    public init(name: String, slug: String, code: String, status: String, now: String, tags: String, project: String, exitStatus: String, body: String) {
        self.name = name
        self.slug = slug
        self.code = code
        self.status = status
        self.now = now
        self.tags = tags
        self.project = project
        self.exitStatus = exitStatus
        self.body = body
    }

    /// Placeholder names, without `$`, and their values; also the environment of commands.
    public var byName: [String: String] {
        [
            "NAME": name, "SLUG": slug, "CODE": code, "STATUS": status, "NOW": now, "TAGS": tags,
            "PROJECT": project, "EXITSTATUS": exitStatus, "BODY": body,
        ]
    }

    enum CodingKeys: String, CodingKey {
        case name, slug, code, status, now, tags, project, body
        case exitStatus = "exit_status"
    }
}
