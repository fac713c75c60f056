import ArgumentParser
import Foundation

/// One option's rules, shared by its flag and its `KIOTHC_*` variable: how text becomes a value
/// (for a flag ArgumentParser does it with the same `init?(argument:)`), which values are
/// accepted, and the default. So a variable is parsed exactly as its flag is.
struct Setting<Value: Sendable>: Sendable {
    let flag: String
    let variable: EnvironmentVariable
    /// What a valid value looks like, for errors: "one of: fsync, write".
    let expected: String
    let defaultValue: Value?
    /// The default as help shows it; nil: none shown.
    let defaultText: String?
    let parse: @Sendable (String) -> Value?
    let accepts: @Sendable (Value) -> Bool

    init(
        flag: String, variable: EnvironmentVariable, expected: String, default defaultValue: Value? = nil, shown defaultText: String? = nil,
        parse: @escaping @Sendable (String) -> Value?, accepts: @escaping @Sendable (Value) -> Bool = { _ in true }
    ) {
        self.flag = flag
        self.variable = variable
        self.expected = expected
        self.defaultValue = defaultValue
        self.defaultText = defaultText ?? defaultValue.map { "\($0)" }
        self.parse = parse
        self.accepts = accepts
    }

    /// The usage error for a value its rules refuse, from its flag or its variable: what, where
    /// from, and what is expected; a secret's value is never shown.
    func rejection(_ text: String, fromVariable: Bool) -> ValidationError {
        let source = fromVariable ? variable.rawValue : flag
        let shown: String
        if variable.isSecret {
            shown = fromVariable ? " is not valid (a secret: its value is not shown)" : " is not valid"
        } else {
            shown = (fromVariable ? "='\(text)'" : " '\(text)'") + " is not valid"
        }
        return ValidationError("\(source)\(shown); expected \(expected)")
    }

    /// The option's help with its variable and default: "The config directory. (env:
    /// KIOTHC_CONFIG; default: checks.d)". Never the variable's value.
    func help(_ abstract: String, valueName: String? = nil) -> ArgumentHelp {
        var note = "env: \(variable.rawValue)"
        if let defaultText { note += "; default: \(defaultText)" }
        return ArgumentHelp("\(abstract) (\(note))", valueName: valueName)
    }
}

extension Setting where Value: ExpressibleByArgument {
    init(
        flag: String, variable: EnvironmentVariable, expected: String, default defaultValue: Value? = nil, shown defaultText: String? = nil,
        accepts: @escaping @Sendable (Value) -> Bool = { _ in true }
    ) {
        self.init(
            flag: flag, variable: variable, expected: expected, default: defaultValue, shown: defaultText,
            parse: { Value(argument: $0) }, accepts: accepts)
    }
}

extension Setting where Value: ExpressibleByArgument & CaseIterable & RawRepresentable<String> {
    /// An enumeration: the same values for the flag and the variable, listed in errors.
    init(flag: String, variable: EnvironmentVariable, default defaultValue: Value) {
        self.init(
            flag: flag, variable: variable, expected: "one of: " + Value.allCases.map(\.rawValue).joined(separator: ", "),
            default: defaultValue, shown: defaultValue.rawValue)
    }
}

/// The process environment, read only here and only after the command line is parsed (an
/// option's default would be printed by --help). A value comes from the flag, or else from its
/// variable, or else the default; either source is checked by the same rules, and an invalid one
/// is a usage error (exit 64) naming where it came from. An empty variable counts as unset (as
/// `Environment=KIOTHC_X=` in a unit or `KIOTHC_X=` in an env file).
struct Environment: Sendable {
    let variables: [String: String]

    init(_ variables: [String: String] = ProcessInfo.processInfo.environment) {
        self.variables = variables
    }

    /// Flag, else variable, else the default; nil only for a setting without a default.
    func optional<Value>(_ flag: Value?, _ setting: Setting<Value>) throws -> Value? {
        try checked(flag, setting) ?? variable(setting) ?? setting.defaultValue
    }

    /// Flag, else variable, else the default, for a setting that has one.
    func value<Value>(_ flag: Value?, _ setting: Setting<Value>) throws -> Value {
        guard let value = try optional(flag, setting) else {
            throw ValidationError("give \(setting.flag) or \(setting.variable.rawValue)")
        }
        return value
    }

    /// The flag's value (already parsed by ArgumentParser), checked by the setting's rules.
    func checked<Value>(_ flag: Value?, _ setting: Setting<Value>) throws -> Value? {
        guard let flag else { return nil }
        guard setting.accepts(flag) else { throw setting.rejection("\(flag)", fromVariable: false) }
        return flag
    }

    /// A flag's text parsed by the setting's rules, for a flag that ArgumentParser keeps as text
    /// (`--listen`, whose variable holds a list).
    func parsed<Value>(flag text: String, _ setting: Setting<Value>) throws -> Value {
        guard let value = setting.parse(text), setting.accepts(value) else { throw setting.rejection(text, fromVariable: false) }
        return value
    }

    /// The variable's value, nil when it is unset or empty.
    func variable<Value>(_ setting: Setting<Value>) throws -> Value? {
        let name = setting.variable.rawValue
        guard let text = variables[name], !text.isEmpty else { return nil }
        guard let value = setting.parse(text), setting.accepts(value) else { throw setting.rejection(text, fromVariable: true) }
        return value
    }
}
