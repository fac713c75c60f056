import Foundation
import Monitoring
import YAMLParser

/// One file's decoded checks in the cache's binary form (`ParsedFiles.persisted`), read back
/// into the very `FileDraft` that decoding its YAML gave: a restart on unchanged files skips
/// libyaml, the larger part of loading a fleet.
///
/// Only a file of checks that decoded without a problem is written: one that declares
/// projects (channels, integrations, secrets) or has diagnostics to show again is parsed
/// from its YAML at every start, as before the cache. Every location of such a file is in
/// it, so lines and columns are stored without the path.
enum DraftCodec {
    /// Whether `draft` can be written (see the type).
    static func isCacheable(_ decoded: (FileDraft, [Diagnostic])) -> Bool {
        let (draft, diagnostics) = decoded
        return diagnostics.isEmpty && draft.projects.isEmpty && (draft.project.map { $0.location.file == draft.path } ?? true)
            // (Read in place: a binding would copy each check, a dozen retains, a million times.)
            && draft.checks.withUnsafeBufferPointer { checks in checks.indices.allSatisfy { isLocal(checks[$0], file: draft.path) } }
    }

    private static func isLocal(_ check: CheckDraft, file: String) -> Bool {
        check.location.file == file && (check.project?.location.file ?? file) == file && (check.uuid?.location.file ?? file) == file
            && check.channelReferences.allSatisfy { $0.location.file == file } && check.maintenance.allSatisfy { $0.location.file == file }
            && check.dependsOn.allSatisfy { $0.location.file == file }
    }

    private static func encode(_ draft: FileDraft, into writer: inout CacheWriter) {
        writer.byte(draft.project == nil ? 0 : 1)
        if let project = draft.project { writeReference(project, &writer) }
        writer.unsigned(UInt64(draft.checks.count))
        for check in draft.checks { encode(check, into: &writer) }
    }

    /// `draft` alone in this form: two decodings of one file are equal when these bytes are.
    static func encoded(_ draft: FileDraft) -> [UInt8] {
        var writer = CacheWriter(capacity: draft.checks.count * 80)
        encode(draft, into: &writer)
        return writer.bytes
    }

    /// The draft `encode` wrote as `payload`; nil when its checksum or its contents are not
    /// what was written.
    static func read(_ payload: ArraySlice<UInt8>, checksum: UInt64, path: String, schedules: ScheduleCache) -> FileDraft? {
        payload.withUnsafeBytes { bytes -> FileDraft? in
            guard ContentHash.of(bytes) == checksum else { return nil }
            var reader = CacheReader(bytes)
            guard let draft = try? decode(&reader, path: path, schedules: schedules), reader.isAtEnd else { return nil }
            return draft
        }
    }

    static func decode(_ reader: inout CacheReader, path: String, schedules: ScheduleCache) throws(CacheReader.Malformed) -> FileDraft {
        var draft = FileDraft(path: path)
        if try reader.bool() { draft.project = try readReference(&reader, path) }
        let count = try reader.count()
        draft.checks.reserveCapacity(count)
        for _ in 0..<count { draft.checks.append(try decodeCheck(&reader, path: path, schedules: schedules)) }
        return draft
    }

    // MARK: Checks

    /// Which optional fields follow, in this order.
    private struct Present: OptionSet {
        let rawValue: UInt32
        static let project = Present(rawValue: 1 << 0)
        static let name = Present(rawValue: 1 << 1)
        static let timeout = Present(rawValue: 1 << 2)
        static let schedule = Present(rawValue: 1 << 3)
        static let tz = Present(rawValue: 1 << 4)
        static let grace = Present(rawValue: 1 << 5)
        static let tags = Present(rawValue: 1 << 6)
        static let desc = Present(rawValue: 1 << 7)
        static let methods = Present(rawValue: 1 << 8)
        static let manualResume = Present(rawValue: 1 << 9)
        static let paused = Present(rawValue: 1 << 10)
        static let channels = Present(rawValue: 1 << 11)
        static let uuid = Present(rawValue: 1 << 12)
        static let slug = Present(rawValue: 1 << 13)
        static let references = Present(rawValue: 1 << 14)
        static let maintenance = Present(rawValue: 1 << 15)
        static let dependsOn = Present(rawValue: 1 << 16)
        /// The last bit in use: anything above it is not a field of this format.
        static let known = Present(rawValue: (1 << 17) - 1)
    }

    private static func encode(_ check: CheckDraft, into writer: inout CacheWriter) {
        var present: Present = []
        if check.project != nil { present.insert(.project) }
        if check.name != nil { present.insert(.name) }
        if check.timeout != nil { present.insert(.timeout) }
        if check.schedule != nil { present.insert(.schedule) }
        if check.tz != nil { present.insert(.tz) }
        if check.grace != nil { present.insert(.grace) }
        if check.tags != nil { present.insert(.tags) }
        if check.desc != nil { present.insert(.desc) }
        if check.methods != nil { present.insert(.methods) }
        if check.manualResume != nil { present.insert(.manualResume) }
        if check.paused != nil { present.insert(.paused) }
        if check.channels != nil { present.insert(.channels) }
        if check.uuid != nil { present.insert(.uuid) }
        if check.slug != nil { present.insert(.slug) }
        if !check.channelReferences.isEmpty { present.insert(.references) }
        if !check.maintenance.isEmpty { present.insert(.maintenance) }
        if !check.dependsOn.isEmpty { present.insert(.dependsOn) }

        writer.string(check.key)
        writeMark(check.location, &writer)
        writer.unsigned(UInt64(present.rawValue))
        if let project = check.project { writeReference(project, &writer) }
        if let name = check.name { writer.string(name) }
        if let timeout = check.timeout { writer.int(timeout) }
        if let schedule = check.schedule { writeExpectation(schedule, &writer) }
        if let tz = check.tz { writer.string(tz) }
        if let grace = check.grace { writer.int(grace) }
        if let tags = check.tags { writeStrings(tags, &writer) }
        if let desc = check.desc { writer.string(desc) }
        if let methods = check.methods { writer.string(methods.rawValue) }
        if let manualResume = check.manualResume { writer.byte(manualResume ? 1 : 0) }
        if let paused = check.paused { writer.byte(paused ? 1 : 0) }
        if let channels = check.channels {
            switch channels {
            case .all: writer.byte(0)
            case .named(let names):
                writer.byte(1)
                writeStrings(names, &writer)
            }
        }
        if let (uuid, location) = check.uuid {
            writer.uuid(uuid)
            writeMark(location, &writer)
        }
        if let slug = check.slug { writer.string(slug) }
        if present.contains(.references) {
            writer.unsigned(UInt64(check.channelReferences.count))
            for reference in check.channelReferences { writeReference(reference, &writer) }
        }
        if present.contains(.maintenance) {
            writer.unsigned(UInt64(check.maintenance.count))
            for window in check.maintenance { writeWindow(window, &writer) }
        }
        if present.contains(.dependsOn) {
            writer.unsigned(UInt64(check.dependsOn.count))
            for dependency in check.dependsOn {
                writer.byte(dependency.project == nil ? 0 : 1)
                if let project = dependency.project { writer.string(project) }
                writer.string(dependency.key)
                writer.string(dependency.text)
                writeMark(dependency.location, &writer)
            }
        }
    }

    private static func decodeCheck(_ reader: inout CacheReader, path: String, schedules: ScheduleCache) throws(CacheReader.Malformed) -> CheckDraft {
        let key = try reader.string()
        var check = CheckDraft(key: key, location: try readMark(&reader, path))
        let raw = try reader.unsigned()
        guard raw <= UInt64(Present.known.rawValue) else { throw CacheReader.Malformed() }
        let present = Present(rawValue: UInt32(raw))
        if present.contains(.project) { check.project = try readReference(&reader, path) }
        if present.contains(.name) { check.name = try reader.string() }
        if present.contains(.timeout) { check.timeout = try reader.int() }
        if present.contains(.schedule) { check.schedule = try readExpectation(&reader, schedules) }
        if present.contains(.tz) { check.tz = try reader.string() }
        if present.contains(.grace) { check.grace = try reader.int() }
        if present.contains(.tags) { check.tags = try readStrings(&reader) }
        if present.contains(.desc) { check.desc = try reader.string() }
        if present.contains(.methods) {
            guard let methods = CheckDefinition.Methods(rawValue: try reader.string()) else { throw CacheReader.Malformed() }
            check.methods = methods
        }
        if present.contains(.manualResume) { check.manualResume = try reader.bool() }
        if present.contains(.paused) { check.paused = try reader.bool() }
        if present.contains(.channels) {
            switch try reader.byte() {
            case 0: check.channels = .all
            case 1: check.channels = .named(try readStrings(&reader))
            default: throw CacheReader.Malformed()
            }
        }
        if present.contains(.uuid) {
            check.uuid = (try reader.uuid(), try readMark(&reader, path))
        }
        if present.contains(.slug) { check.slug = try reader.string() }
        if present.contains(.references) {
            for _ in 0..<(try reader.count()) { check.channelReferences.append(try readReference(&reader, path)) }
        }
        if present.contains(.maintenance) {
            for _ in 0..<(try reader.count()) { check.maintenance.append(try readWindow(&reader, path, schedules)) }
        }
        if present.contains(.dependsOn) {
            for _ in 0..<(try reader.count()) {
                let project = try reader.bool() ? try reader.string() : nil
                let key = try reader.string()
                let text = try reader.string()
                check.dependsOn.append(Dependency(project: project, key: key, text: text, location: try readMark(&reader, path)))
            }
        }
        return check
    }

    // MARK: Parts

    private static func writeMark(_ location: Diagnostic.Location, _ writer: inout CacheWriter) {
        writer.int(location.line)
        writer.int(location.column)
    }

    private static func readMark(_ reader: inout CacheReader, _ path: String) throws(CacheReader.Malformed) -> Diagnostic.Location {
        Diagnostic.Location(file: path, line: try reader.int(), column: try reader.int())
    }

    private static func writeReference(_ reference: Reference, _ writer: inout CacheWriter) {
        writer.string(reference.name)
        writeMark(reference.location, &writer)
    }

    private static func readReference(_ reader: inout CacheReader, _ path: String) throws(CacheReader.Malformed) -> Reference {
        Reference(name: try reader.string(), location: try readMark(&reader, path))
    }

    private static func writeStrings(_ strings: [String], _ writer: inout CacheWriter) {
        writer.unsigned(UInt64(strings.count))
        for string in strings { writer.string(string) }
    }

    private static func readStrings(_ reader: inout CacheReader) throws(CacheReader.Malformed) -> [String] {
        let count = try reader.count()
        var strings: [String] = []
        strings.reserveCapacity(count)
        for _ in 0..<count { strings.append(try reader.string()) }
        return strings
    }

    private static func writeExpectation(_ expectation: CheckDefinition.Expectation, _ writer: inout CacheWriter) {
        switch expectation {
        case .timeout(let seconds):
            writer.byte(0)
            writer.int(seconds)
        case .schedule(let schedule):
            writer.byte(1)
            writer.string(schedule.expression)
        }
    }

    private static func readExpectation(_ reader: inout CacheReader, _ schedules: ScheduleCache) throws(CacheReader.Malformed) -> CheckDefinition.Expectation {
        switch try reader.byte() {
        case 0: return .timeout(seconds: try reader.int())
        case 1: return .schedule(try readSchedule(&reader, schedules))
        default: throw CacheReader.Malformed()
        }
    }

    /// The expression, parsed again (once per distinct expression of the load, through the
    /// load's cache): the parsed form is this build's, the text is the file's.
    private static func readSchedule(_ reader: inout CacheReader, _ schedules: ScheduleCache) throws(CacheReader.Malformed) -> Schedule {
        do {
            return try schedules.schedule(try reader.string())
        } catch {
            throw CacheReader.Malformed()
        }
    }

    private static func writeWindow(_ window: WindowDraft, _ writer: inout CacheWriter) {
        switch window.timing {
        case .recurring(let schedule, let duration):
            writer.byte(0)
            writer.string(schedule.expression)
            writer.int(duration)
        case .fixed(let from, let until, let untilMark):
            writer.byte(1)
            for instant in [from, until] {
                writer.signed(instant.wall)
                writer.byte(instant.offset == nil ? 0 : 1)
                if let offset = instant.offset { writer.int(offset) }
            }
            writer.int(untilMark.line)
            writer.int(untilMark.column)
        }
        writer.byte(window.zone == nil ? 0 : 1)
        if let zone = window.zone { writer.string(zone) }
        writer.string(window.reason)
        writeMark(window.location, &writer)
    }

    private static func readWindow(
        _ reader: inout CacheReader, _ path: String, _ schedules: ScheduleCache
    ) throws(CacheReader.Malformed) -> WindowDraft {
        let timing: WindowDraft.Timing
        switch try reader.byte() {
        case 0:
            timing = .recurring(schedule: try readSchedule(&reader, schedules), duration: try reader.int())
        case 1:
            var instants: [WallInstant] = []
            for _ in 0..<2 {
                let wall = try reader.signed()
                instants.append(WallInstant(wall: wall, offset: try reader.bool() ? try reader.int() : nil))
            }
            let untilMark = Mark(line: try reader.int(), column: try reader.int())
            timing = .fixed(from: instants[0], until: instants[1], untilMark: untilMark)
        default:
            throw CacheReader.Malformed()
        }
        let zone = try reader.bool() ? try reader.string() : nil
        let reason = try reader.string()
        return WindowDraft(timing: timing, zone: zone, reason: reason, location: try readMark(&reader, path))
    }
}
