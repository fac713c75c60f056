import Foundation
import Monitoring

/// Which channels a check alerts: all of its project's, or the named ones.
public enum ChannelSelection: Sendable, Hashable {
    case all
    case named([String])
}

/// A check as declared in configuration, with defaults applied and everything validated.
public struct CheckDefinition: Sendable {
    /// A check's identity: it keeps its UUID, pings and history as long as this is unchanged.
    public typealias ID = CheckIdentity

    /// When pings are expected: every `timeout` seconds, or on a schedule.
    public enum Expectation: Sendable {
        case timeout(seconds: Int)
        case schedule(Schedule)
    }

    public enum Methods: String, Sendable, Hashable {
        /// HEAD, GET and POST are all pings.
        case any = ""
        /// Only POST is a ping; others are recorded as `ign`.
        case post = "POST"
    }

    public static let defaultTimeout = 86_400
    public static let defaultGrace = 3_600
    public static let defaultTimeZone = "UTC"

    public var id: ID
    public var name: String
    public var slug: String
    public var expectation: Expectation
    public var grace: Int
    public var tz: String
    public var tags: [String]
    public var desc: String
    public var methods: Methods
    public var manualResume: Bool
    public var paused: Bool
    public var channels: ChannelSelection
    public var location: Diagnostic.Location
    /// `uuid:`: the UUID the check must have (a check taken over from Healthchecks keeps its
    /// ping URL); nil: the data directory assigns one (SPEC §13).
    public var pinnedUUID: UUID?
    /// `maintenance:` of its project and its own (SPEC §14): when its alerts are held.
    public var maintenance: MaintenanceCalendar
    /// `depends_on:`, resolved: while one of these (or one they depend on) is down, its down
    /// alerts are held (SPEC §14). The load refuses unknown targets and cycles.
    public var dependsOn: [CheckIdentity]

    public init(
        id: ID, name: String, expectation: Expectation, grace: Int, tz: String, tags: [String], desc: String,
        methods: Methods, manualResume: Bool, paused: Bool, channels: ChannelSelection, location: Diagnostic.Location,
        slug: String? = nil, pinnedUUID: UUID? = nil, maintenance: MaintenanceCalendar = MaintenanceCalendar([]), dependsOn: [CheckIdentity] = []
    ) {
        self.id = id
        self.name = name
        // `slug:` pins it (Healthchecks 2.10+ lets a slug differ from the name).
        self.slug = slug ?? Slug.slugify(name)
        self.pinnedUUID = pinnedUUID
        self.maintenance = maintenance
        self.dependsOn = dependsOn
        self.expectation = expectation
        self.grace = grace
        self.tz = tz
        self.tags = tags
        self.desc = desc
        self.methods = methods
        self.manualResume = manualResume
        self.paused = paused
        self.channels = channels
        self.location = location
    }
}
