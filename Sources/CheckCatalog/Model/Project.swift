import Monitoring

/// A project: a namespace of checks with its own ping key, API keys and channels.
public struct Project: Sendable {
    /// The project that exists without being declared, so a one-file setup needs no `projects:`.
    public static let defaultID = "default"

    public var id: String
    public var name: String
    /// nil: generated once and kept in the data directory.
    public var pingKey: Secret?
    public var readOnlyKey: Secret?
    public var readWriteKey: Secret?
    public var channels: [Channel]
    public var defaults: CheckDefaults
    /// `maintenance:` (SPEC §14): windows for every check of the project, which each check's
    /// `CheckDefinition.maintenance` includes.
    public var maintenance: [MaintenanceWindow] = []
    /// `status_page: true`: the project has a public, read-only status page (check names and
    /// statuses only) at a generated, unguessable URL (docs/dashboard.md).
    public var statusPage = false
    /// nil for the implicit `default` project.
    public var location: Diagnostic.Location?

    public init(
        id: String, name: String, pingKey: Secret? = nil, readOnlyKey: Secret? = nil, readWriteKey: Secret? = nil,
        channels: [Channel] = [], defaults: CheckDefaults = CheckDefaults(), location: Diagnostic.Location? = nil
    ) {
        self.id = id
        self.name = name
        self.pingKey = pingKey
        self.readOnlyKey = readOnlyKey
        self.readWriteKey = readWriteKey
        self.channels = channels
        self.defaults = defaults
        self.location = location
    }

    public func channel(named name: String) -> Channel? {
        channels.first { $0.name == name }
    }
}

/// Settings a project lays under each of its checks; a check's own value wins.
public struct CheckDefaults: Sendable {
    public var timeout: Int?
    public var grace: Int?
    public var tz: String?
    public var channels: ChannelSelection?
    public var tags: [String]?
    public var methods: CheckDefinition.Methods?
    public var manualResume: Bool?

    public init() {}
}
