import Foundation

/// Renders a load result for people (text), for programs (JSON, SPEC §8) and for GitHub
/// Actions (workflow commands that annotate the pull request).
public struct DiagnosticReport: Sendable {
    public enum Format: String, Sendable, CaseIterable { case text, json, github }

    public let result: LoadResult
    public let strict: Bool

    public init(_ result: LoadResult, strict: Bool) {
        self.result = result
        self.strict = strict
    }

    /// The CLI's verdict: errors fail; warnings fail too under `--strict`.
    public var passes: Bool {
        result.errorCount == 0 && (!strict || result.warningCount == 0)
    }

    public func render(_ format: Format, colour: Bool = false) -> String {
        switch format {
        case .text: text(colour: colour)
        case .json: json()
        case .github: github()
        }
    }

    // MARK: Text

    func text(colour: Bool) -> String {
        let style = TextStyle(enabled: colour)
        var out = ""
        for diagnostic in result.diagnostics {
            let severity = diagnostic.severity == .error ? style.red("error") : style.yellow("warning")
            out += "\(style.bold(Self.position(diagnostic.location))): \(severity): \(diagnostic.message) [\(diagnostic.code.rawValue)]\n"
            for note in diagnostic.notes {
                let prefix = note.location.map { "\(Self.position($0)): " } ?? "    "
                out += "\(prefix)\(style.cyan("note")): \(note.message)\n"
            }
        }
        out += summary() + "\n"
        return out
    }

    func summary() -> String {
        let catalog = result.catalog
        let counts = "\(plural(result.errorCount, "error")), \(plural(result.warningCount, "warning"))"
        let size = "\(plural(catalog.checks.count, "check")) in \(plural(catalog.projects.count, "project")) from \(plural(catalog.files.count, "file"))"
        let verdict: String
        if result.errorCount > 0 {
            verdict = "invalid"
        } else if strict && result.warningCount > 0 {
            verdict = "rejected (--strict treats warnings as errors)"
        } else {
            verdict = "valid"
        }
        return "\(verdict): \(size); \(counts)"
    }

    private func plural(_ count: Int, _ word: String) -> String {
        "\(count) \(word)\(count == 1 ? "" : "s")"
    }

    public static func position(_ location: Diagnostic.Location) -> String {
        "\(location.file):\(location.line):\(location.column)"
    }

    // MARK: JSON

    struct JSONReport: Encodable {
        struct Note: Encodable {
            var message: String
            var file: String?
            var line: Int?
            var column: Int?
        }

        struct Item: Encodable {
            var severity: String
            var code: String
            var message: String
            var file: String
            var line: Int
            var column: Int
            var notes: [Note]
        }

        var valid: Bool
        var errors: Int
        var warnings: Int
        var projects: Int
        var checks: Int
        var diagnostics: [Item]
    }

    func json() -> String {
        let report = JSONReport(
            valid: passes,
            errors: result.errorCount,
            warnings: result.warningCount,
            projects: result.catalog.projects.count,
            checks: result.catalog.checks.count,
            diagnostics: result.diagnostics.map { diagnostic in
                JSONReport.Item(
                    severity: diagnostic.severity.rawValue, code: diagnostic.code.rawValue, message: diagnostic.message,
                    file: diagnostic.location.file, line: diagnostic.location.line, column: diagnostic.location.column,
                    notes: diagnostic.notes.map {
                        JSONReport.Note(message: $0.message, file: $0.location?.file, line: $0.location?.line, column: $0.location?.column)
                    })
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    // MARK: GitHub

    func github() -> String {
        var out = ""
        for diagnostic in result.diagnostics {
            let command = diagnostic.severity == .error ? "error" : "warning"
            var message = diagnostic.message
            for note in diagnostic.notes {
                message += "\n" + (note.location.map { "\(Self.position($0)): " } ?? "") + "note: " + note.message
            }
            let location = diagnostic.location
            out += "::\(command) file=\(Self.escapeProperty(location.file)),line=\(location.line),col=\(location.column),title=\(Self.escapeProperty(diagnostic.code.rawValue))::\(Self.escapeData(message))\n"
        }
        out += summary() + "\n"
        return out
    }

    /// GitHub's escaping for workflow command data.
    public static func escapeData(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }

    /// GitHub's escaping for workflow command properties.
    public static func escapeProperty(_ text: String) -> String {
        escapeData(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}

/// ANSI styling, used only when writing to a terminal.
struct TextStyle {
    let enabled: Bool

    func bold(_ text: String) -> String { wrap(text, "1") }
    func red(_ text: String) -> String { wrap(text, "1;31") }
    func yellow(_ text: String) -> String { wrap(text, "1;33") }
    func cyan(_ text: String) -> String { wrap(text, "1;36") }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
