import Monitoring

/// A check's settings as short strings, for `kiothc plan`, the reload log and the snapshot of
/// the last applied catalog (`data/catalog.json`): two checks whose settings print the same
/// behave the same. Name and slug are left out: a rename is reported on its own.
extension CheckDefinition {
    /// Field names in the order a plan lists them.
    public static let settingFields = [
        "timeout", "schedule", "tz", "grace", "tags", "desc", "methods", "manual_resume", "paused", "channels", "maintenance", "depends_on",
    ]

    public var settings: [String: String] {
        var settings = [String: String](minimumCapacity: Self.settingFields.count)
        switch expectation {
        case .timeout(let seconds):
            settings["timeout"] = DurationSyntax.format(seconds)
        case .schedule(let schedule):
            settings["schedule"] = schedule.expression
            settings["tz"] = tz
        }
        settings["grace"] = DurationSyntax.format(grace)
        settings["tags"] = tags.joined(separator: " ")
        settings["desc"] = desc
        settings["methods"] = methods.rawValue
        settings["manual_resume"] = String(manualResume)
        settings["paused"] = String(paused)
        switch channels {
        case .all: settings["channels"] = "*"
        case .named(let names): settings["channels"] = names.joined(separator: " ")
        }
        // Only when set, so a catalog applied before windows and dependencies existed compares
        // equal to the same checks now.
        if !maintenance.isEmpty { settings["maintenance"] = maintenance.windows.map(Self.describe).joined(separator: "; ") }
        if !dependsOn.isEmpty { settings["depends_on"] = dependsOn.map(\.description).joined(separator: " ") }
        return settings
    }

    /// Whether `settings` prints the same for `other`, told without printing: true only when
    /// every field it prints from is equal (a reload asks this of every unchanged check, whose
    /// strings and arrays are mostly the very same storage, so each comparison is a pointer's).
    /// False can still mean the same printed settings; callers then compare those.
    public func hasSameSettings(as other: CheckDefinition) -> Bool {
        let sameExpectation: Bool
        switch (expectation, other.expectation) {
        case (.timeout(let a), .timeout(let b)): sameExpectation = a == b
        case (.schedule(let a), .schedule(let b)): sameExpectation = a.expression == b.expression && tz == other.tz
        default: sameExpectation = false
        }
        return sameExpectation && grace == other.grace && tags == other.tags && desc == other.desc && methods == other.methods
            && manualResume == other.manualResume && paused == other.paused && channels == other.channels
            && maintenance == other.maintenance && dependsOn == other.dependsOn
    }

    /// `0 1 * * sun (Europe/Riga) for 3h`, `2026-12-24T00:00:00Z until 2026-12-27T00:00:00Z`,
    /// with ` — <reason>` when there is one.
    static func describe(_ window: MaintenanceWindow) -> String {
        let text: String
        switch window.timing {
        case .recurring(let schedule, let duration, let zone): text = "\(schedule.expression) (\(zone)) for \(DurationSyntax.format(duration))"
        case .fixed(let from, let until): text = "\(UTCTime.secondsZ(from)) until \(UTCTime.secondsZ(until))"
        }
        return window.reason.isEmpty ? text : "\(text) — \(window.reason)"
    }
}

extension CheckDefinition {
    /// Why `init(id:name:settings:location:)` cannot rebuild a check: a field missing or not as
    /// `settings` prints it (a `catalog.json` edited by hand, or from another version).
    public struct SettingsError: Error, Sendable, CustomStringConvertible {
        public let field: String
        public let value: String?
        public var description: String {
            value.map { "\(field) '\($0)' is not a setting as kiothc writes it" } ?? "\(field) is missing"
        }
    }

    /// The check that `settings` describes: the inverse of `settings`, for `kiothc status`
    /// showing the configuration a server last applied (`data/catalog.json`) while the files on
    /// disk do not load.
    public init(id: ID, name: String, settings: [String: String], location: Diagnostic.Location) throws(SettingsError) {
        func value(_ field: String) throws(SettingsError) -> String {
            guard let value = settings[field] else { throw SettingsError(field: field, value: nil) }
            return value
        }
        func duration(_ field: String) throws(SettingsError) -> Int {
            let text = try value(field)
            guard case .success(let seconds) = DurationSyntax.parse(text) else { throw SettingsError(field: field, value: text) }
            return seconds
        }
        func flag(_ field: String) throws(SettingsError) -> Bool {
            let text = try value(field)
            guard let flag = Bool(text) else { throw SettingsError(field: field, value: text) }
            return flag
        }
        let expectation: Expectation
        if let expression = settings["schedule"] {
            guard let schedule = try? Schedule(parsing: expression) else { throw SettingsError(field: "schedule", value: expression) }
            expectation = .schedule(schedule)
        } else {
            expectation = .timeout(seconds: try duration("timeout"))
        }
        let methodsText = try value("methods")
        guard let methods = Methods(rawValue: methodsText) else { throw SettingsError(field: "methods", value: methodsText) }
        let channels = try value("channels")
        self.init(
            id: id, name: name, expectation: expectation, grace: try duration("grace"), tz: settings["tz"] ?? Self.defaultTimeZone,
            tags: try value("tags").split(separator: " ").map(String.init), desc: try value("desc"), methods: methods,
            manualResume: try flag("manual_resume"), paused: try flag("paused"),
            channels: channels == "*" ? .all : .named(channels.split(separator: " ").map(String.init)), location: location,
            // Windows are not rebuilt: a fallback shows statuses and holds no alerts.
            dependsOn: (settings["depends_on"] ?? "").split(separator: " ").compactMap { id in
                id.firstIndex(of: "/").map { CheckIdentity(project: String(id[..<$0]), key: String(id[id.index(after: $0)...])) }
            })
    }
}
