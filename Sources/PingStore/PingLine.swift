import Foundation
import Monitoring

/// The line schema of `pings/<uuid>.jsonl`, version 1 (docs/storage.md):
///
///     {"v":1,"n":7,"time_us":1732700000123456,"kind":"success","method":"POST","scheme":"https",
///      "remote_addr":"192.0.2.1","ua":"curl/8.5.0","body_size":5,"exit_status":0,
///      "rid":"…","duration_us":90000000,"body":"hello"}
///
/// `exit_status`, `rid`, `duration_us` and `body` are left out when absent; `body` comes last
/// because it is the long one.
enum PingLine {
    static let version: Int64 = 1

    static func encode(_ ping: Ping) -> [UInt8] {
        var writer = JSONLineWriter(capacity: 192 + (ping.body?.utf8.count ?? 0))
        writer.field("v", version)
        writer.field("n", ping.n)
        writer.field("time_us", ping.time)
        writer.field("kind", ping.kind.rawValue)
        writer.field("method", ping.method)
        writer.field("scheme", ping.scheme)
        writer.field("remote_addr", ping.remoteAddress)
        writer.field("ua", ping.userAgent)
        writer.field("body_size", ping.bodySize)
        if let exitStatus = ping.exitStatus { writer.field("exit_status", exitStatus) }
        if let rid = ping.rid { writer.field("rid", rid) }
        if let duration = ping.duration { writer.field("duration_us", duration) }
        if let body = ping.body { writer.field("body", body) }
        return writer.line()
    }

    /// `line` without its newline. The error says which field is wrong.
    static func decode(_ line: ArraySlice<UInt8>) throws(LineError) -> Ping {
        let record = try LineFields(parsing: line, version: Self.version)
        let kindName = try record.string("kind")
        guard let kind = Ping.Kind(rawValue: kindName) else { throw LineError("unknown kind '\(kindName)'") }
        var rid: UUID?
        if let text = try record.optionalString("rid") {
            guard let parsed = UUID(uuidString: text) else { throw LineError("rid '\(text)' is not a UUID") }
            rid = parsed
        }
        return Ping(
            n: Int(try record.integer("n")), time: try record.integer("time_us"), kind: kind,
            method: try record.string("method"), scheme: try record.string("scheme"),
            remoteAddress: try record.string("remote_addr"), userAgent: try record.string("ua"),
            body: try record.optionalString("body"), bodySize: Int(try record.integer("body_size")),
            exitStatus: try record.optionalInteger("exit_status").map(Int.init), rid: rid,
            duration: try record.optionalInteger("duration_us"))
    }
}

/// A line that does not follow its schema.
struct LineError: Error, Equatable, CustomStringConvertible {
    let reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { reason }
}

/// Typed access to a parsed line's fields with errors naming the field.
struct LineFields {
    private let fields: [String: FlatJSONValue]
    init(_ fields: [String: FlatJSONValue]) { self.fields = fields }

    /// Parses one object without a version field (an entry of a larger document).
    init(parsing line: ArraySlice<UInt8>, allowingStringObjects: Bool = false) throws(LineError) {
        do {
            fields = try FlatJSON.parse(line, allowingStringObjects: allowingStringObjects)
        } catch {
            throw LineError("not a JSON object (\(error.reason) at byte \(error.offset)): \(String(decoding: line.prefix(120), as: UTF8.self))")
        }
    }

    /// Parses one line of a versioned schema; the error says what is wrong with it.
    init(parsing line: ArraySlice<UInt8>, version expected: Int64) throws(LineError) {
        do {
            fields = try FlatJSON.parse(line)
        } catch {
            throw LineError("not a JSON object (\(error.reason) at byte \(error.offset))")
        }
        let version = try integer("v")
        guard version == expected else { throw LineError("unknown schema version \(version)") }
    }

    func integer(_ name: String) throws(LineError) -> Int64 {
        guard let value = try optionalInteger(name) else { throw LineError("missing field '\(name)'") }
        return value
    }

    func optionalInteger(_ name: String) throws(LineError) -> Int64? {
        switch fields[name] {
        case .integer(let value): return value
        case nil, .null: return nil
        default: throw LineError("field '\(name)' is not an integer")
        }
    }

    func string(_ name: String) throws(LineError) -> String {
        guard let value = try optionalString(name) else { throw LineError("missing field '\(name)'") }
        return value
    }

    func optionalBool(_ name: String) throws(LineError) -> Bool? {
        switch fields[name] {
        case .bool(let value): return value
        case nil, .null: return nil
        default: throw LineError("field '\(name)' is not true or false")
        }
    }

    func optionalStrings(_ name: String) throws(LineError) -> [String]? {
        switch fields[name] {
        case .strings(let values): return values
        case nil, .null: return nil
        default: throw LineError("field '\(name)' is not an array of strings")
        }
    }

    func stringObject(_ name: String) throws(LineError) -> [String: String] {
        switch fields[name] {
        case .stringObject(let value): return value
        case nil: throw LineError("missing field '\(name)'")
        default: throw LineError("field '\(name)' is not an object of strings")
        }
    }

    func optionalString(_ name: String) throws(LineError) -> String? {
        switch fields[name] {
        case .string(let value): return value
        case nil, .null: return nil
        default: throw LineError("field '\(name)' is not a string")
        }
    }
}
