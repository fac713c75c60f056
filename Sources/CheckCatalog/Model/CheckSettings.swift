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
