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

    /// Everything a definition holds, in one immutable box shared by its copies: a definition
    /// is moved and copied as one reference (a fleet's million checks pass through several
    /// arrays on their way to serving, and a value of a dozen strings and arrays cost a dozen
    /// retains per copy and 200 bytes per move). A change puts the changed fields in a new box.
    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private struct Fields: Sendable {
        var id: ID
        var name: String
        var slug: String
        var expectation: Expectation
        var grace: Int
        var tz: String
        var tags: [String]
        var desc: String
        var methods: Methods
        var manualResume: Bool
        var paused: Bool
        var channels: ChannelSelection
        var location: Diagnostic.Location
        var pinnedUUID: UUID?
        var maintenance: MaintenanceCalendar
        var dependsOn: [CheckIdentity]
    }

    private var box: Box

    public var id: ID {
        get { box.fields.id }
        set { update { $0.id = newValue } }
    }

    public var name: String {
        get { box.fields.name }
        set { update { $0.name = newValue } }
    }

    public var slug: String {
        get { box.fields.slug }
        set { update { $0.slug = newValue } }
    }

    public var expectation: Expectation {
        get { box.fields.expectation }
        set { update { $0.expectation = newValue } }
    }

    public var grace: Int {
        get { box.fields.grace }
        set { update { $0.grace = newValue } }
    }

    public var tz: String {
        get { box.fields.tz }
        set { update { $0.tz = newValue } }
    }

    public var tags: [String] {
        get { box.fields.tags }
        set { update { $0.tags = newValue } }
    }

    public var desc: String {
        get { box.fields.desc }
        set { update { $0.desc = newValue } }
    }

    public var methods: Methods {
        get { box.fields.methods }
        set { update { $0.methods = newValue } }
    }

    public var manualResume: Bool {
        get { box.fields.manualResume }
        set { update { $0.manualResume = newValue } }
    }

    public var paused: Bool {
        get { box.fields.paused }
        set { update { $0.paused = newValue } }
    }

    public var channels: ChannelSelection {
        get { box.fields.channels }
        set { update { $0.channels = newValue } }
    }

    public var location: Diagnostic.Location {
        get { box.fields.location }
        set { update { $0.location = newValue } }
    }

    /// `uuid:`: the UUID the check must have (a check taken over from Healthchecks keeps its
    /// ping URL); nil: the data directory assigns one (SPEC §13).
    public var pinnedUUID: UUID? {
        get { box.fields.pinnedUUID }
        set { update { $0.pinnedUUID = newValue } }
    }

    /// `maintenance:` of its project and its own (SPEC §14): when its alerts are held.
    public var maintenance: MaintenanceCalendar {
        get { box.fields.maintenance }
        set { update { $0.maintenance = newValue } }
    }

    /// `depends_on:`, resolved: while one of these (or one they depend on) is down, its down
    /// alerts are held (SPEC §14). The load refuses unknown targets and cycles.
    public var dependsOn: [CheckIdentity] {
        get { box.fields.dependsOn }
        set { update { $0.dependsOn = newValue } }
    }

    public init(
        id: ID, name: String, expectation: Expectation, grace: Int, tz: String, tags: [String], desc: String,
        methods: Methods, manualResume: Bool, paused: Bool, channels: ChannelSelection, location: Diagnostic.Location,
        slug: String? = nil, pinnedUUID: UUID? = nil, maintenance: MaintenanceCalendar = MaintenanceCalendar([]), dependsOn: [CheckIdentity] = []
    ) {
        box = Box(Fields(
            id: id, name: name,
            // `slug:` pins it (Healthchecks 2.10+ lets a slug differ from the name).
            slug: slug ?? Slug.slugify(name),
            expectation: expectation, grace: grace, tz: tz, tags: tags, desc: desc, methods: methods, manualResume: manualResume,
            paused: paused, channels: channels, location: location, pinnedUUID: pinnedUUID, maintenance: maintenance, dependsOn: dependsOn))
    }

    private mutating func update(_ change: (inout Fields) -> Void) {
        var fields = box.fields
        change(&fields)
        box = Box(fields)
    }

    /// Whether `other` is a copy of this very definition (the same box): then every field is
    /// equal without being compared.
    func isCopy(of other: CheckDefinition) -> Bool { box === other.box }
}
