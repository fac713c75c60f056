import Monitoring

/// A check's settings as short strings, for `kiothc plan`, the reload log and the snapshot of
/// the last applied catalog (`data/catalog.json`): two checks whose settings print the same
/// behave the same. Name and slug are left out: a rename is reported on its own.
extension CheckDefinition {
    /// Field names in the order a plan lists them.
    public static let settingFields = [
        "timeout", "schedule", "tz", "grace", "tags", "desc", "methods", "manual_resume", "paused", "channels",
    ]

    public var settings: [String: String] {
        var settings: [String: String] = [:]
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
        return settings
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
            channels: channels == "*" ? .all : .named(channels.split(separator: " ").map(String.init)), location: location)
    }
}
