import YAMLParser

/// One problem found in a configuration: where it is, how bad, a stable code, a message for a
/// person, and notes that point at related places ("first defined here").
public struct Diagnostic: Error, Sendable, Hashable {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    public struct Location: Sendable, Hashable, Comparable {
        public var file: String
        public var line: Int
        public var column: Int

        public init(file: String, line: Int, column: Int) {
            self.file = file
            self.line = line
            self.column = column
        }

        public init(file: String, _ mark: Mark) {
            self.init(file: file, line: mark.line, column: mark.column)
        }

        public static func < (a: Location, b: Location) -> Bool {
            (a.file, a.line, a.column) < (b.file, b.line, b.column)
        }
    }

    public struct Note: Sendable, Hashable {
        public var message: String
        public var location: Location?

        public init(_ message: String, at location: Location? = nil) {
            self.message = message
            self.location = location
        }
    }

    public var severity: Severity
    public var code: Code
    public var message: String
    public var location: Location
    public var notes: [Note]

    public init(_ severity: Severity, _ code: Code, _ message: String, at location: Location, notes: [Note] = []) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
        self.notes = notes
    }
}
