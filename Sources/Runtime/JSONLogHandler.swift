import Glibc
import Logging
import Monitoring
import Synchronization

/// `serve --log-format json`: one JSON object per line, for log shippers (journald's JSON
/// parsers, Vector, Fluent Bit, Loki). The same fields the text form shows: `ts` (UTC with
/// microseconds), `level`, `msg`, `label` (the logger's) and `source` (the module), then each
/// metadata key as its own key with a string value (`check`, `check.uuid`, `file`, …).
///
/// Nested metadata is flattened: a dictionary's entries become `key.inner` keys, an array
/// becomes a JSON array of strings (each element as the text form shows it). A metadata key
/// that is one of the fixed keys is written as `metadata.<key>`, so the fixed keys always mean
/// the same thing. Strings are escaped by the repository's one JSON escaper (`JSONValue.quote`).
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: @Sendable (String) -> Void
    private let clock: @Sendable () -> Int64

    /// Writes each line with `output`; `clock` gives microseconds since the epoch (tests pass
    /// their own, to compare whole lines).
    public init(
        label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider, clock: @escaping @Sendable () -> Int64 = { JSONLogHandler.now() },
        output: @escaping @Sendable (String) -> Void
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.clock = clock
        self.output = output
    }

    /// To standard error, one whole line per write(2).
    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label) { StandardError.write($0) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { $1 } }
        if let explicit = event.metadata, !explicit.isEmpty { merged.merge(explicit) { $1 } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        output(Self.line(time: clock(), level: event.level, label: label, source: event.source, message: "\(event.message)", metadata: merged))
    }

    static let fixedKeys: Set<String> = ["ts", "level", "msg", "label", "source"]

    /// One log line, ending in a line feed. Metadata keys are sorted, as in the text form.
    static func line(time: Int64, level: Logger.Level, label: String, source: String, message: String, metadata: Logger.Metadata) -> String {
        var fields: [(String, JSONValue)] = [
            ("ts", .string(UTCTime.microsecondsZ(time))), ("level", .string(level.rawValue)), ("msg", .string(message)),
            ("label", .string(label)), ("source", .string(source)),
        ]
        var flat: [(String, JSONValue)] = []
        for (key, value) in metadata { flatten(key, value, into: &flat) }
        for (key, value) in flat.sorted(by: { $0.0 < $1.0 }) {
            fields.append((fixedKeys.contains(key) ? "metadata." + key : key, value))
        }
        var out = ""
        out.reserveCapacity(160)
        out += "{"
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { out += "," }
            JSONValue.quote(key, into: &out)
            out += ":"
            out += value.rendered()
        }
        out += "}\n"
        return out
    }

    private static func flatten(_ key: String, _ value: Logger.MetadataValue, into fields: inout [(String, JSONValue)]) {
        switch value {
        case .string(let text): fields.append((key, .string(text)))
        case .stringConvertible(let convertible): fields.append((key, .string(convertible.description)))
        case .dictionary(let inner):
            for (innerKey, innerValue) in inner { flatten(key + "." + innerKey, innerValue, into: &fields) }
        case .array(let items): fields.append((key, .array(items.map { .string($0.description) })))
        }
    }

    /// Microseconds since the epoch, from the realtime clock.
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1_000
    }
}

/// Whole lines to file descriptor 2, one writer at a time: a line longer than a pipe's atomic
/// write (4 KiB) is not interleaved with another thread's.
enum StandardError {
    private static let lock = Mutex(())

    static func write(_ line: String) {
        var line = line
        lock.withLock { _ in
            line.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return  // nowhere left to say it
                    }
                    offset += written
                }
            }
        }
    }
}
