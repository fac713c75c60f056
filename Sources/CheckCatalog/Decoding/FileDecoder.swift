import Foundation
import Monitoring
import YAMLParser

/// Decodes one file's node tree against the schema of SPEC §1.2, strictly, collecting every
/// problem. Cross-file rules (references, duplicates, conflicts) are `CatalogBuilder`'s.
struct FileDecoder {
    static let topLevelKeys = ["projects", "project", "checks"]
    static let projectKeys = ["name", "ping_key", "api_keys", "defaults", "channels", "maintenance", "status_page"]
    static let apiKeyKeys = ["read_only", "read_write"]
    static let defaultsKeys = ["timeout", "grace", "tz", "channels", "tags", "methods", "manual_resume"]
    /// A check's keys, in the order `checkKeys` lists them.
    enum CheckField: Int, CaseIterable {
        case name, schedule, timeout, tz, grace, tags, desc, methods, manualResume, paused, uuid, slug, channels, project, maintenance, dependsOn

        var key: String {
            switch self {
            case .manualResume: "manual_resume"
            case .dependsOn: "depends_on"
            default: "\(self)"
            }
        }

        /// The order a check's fields are decoded and their problems reported in.
        static let decodingOrder: [CheckField] = [
            .project, .name, .desc, .uuid, .slug, .timeout, .grace, .schedule, .tz, .tags, .methods, .manualResume, .paused, .channels,
            .maintenance, .dependsOn,
        ]

        /// The field whose key is `key`: told by its length and first byte, then compared once
        /// (a fleet's config names a field a few million times).
        init?(named key: String) {
            let field: CheckField
            switch (key.utf8.count, key.utf8.first) {
            case (4, UInt8(ascii: "n")): field = .name
            case (8, UInt8(ascii: "s")): field = .schedule
            case (7, UInt8(ascii: "t")): field = .timeout
            case (2, UInt8(ascii: "t")): field = .tz
            case (5, UInt8(ascii: "g")): field = .grace
            case (4, UInt8(ascii: "t")): field = .tags
            case (4, UInt8(ascii: "d")): field = .desc
            case (7, UInt8(ascii: "m")): field = .methods
            case (13, UInt8(ascii: "m")): field = .manualResume
            case (6, UInt8(ascii: "p")): field = .paused
            case (4, UInt8(ascii: "u")): field = .uuid
            case (4, UInt8(ascii: "s")): field = .slug
            case (8, UInt8(ascii: "c")): field = .channels
            case (7, UInt8(ascii: "p")): field = .project
            case (11, UInt8(ascii: "m")): field = .maintenance
            case (10, UInt8(ascii: "d")): field = .dependsOn
            default: return nil
            }
            guard FileDecoder.checkKeys[field.rawValue] == key else { return nil }
            self = field
        }
    }
    static let checkKeys = CheckField.allCases.map(\.key)
    /// Healthchecks' bounds: timeout and grace from 1 minute to 365 days.
    static let durationRange = 60...31_536_000
    static let maxNameLength = 100

    var reader: FieldReader
    let schedules: ScheduleCache

    init(file: String, schedules: ScheduleCache = ScheduleCache()) {
        reader = FieldReader(file: file)
        self.schedules = schedules
    }

    var diagnostics: [Diagnostic] { reader.diagnostics }

    mutating func decode(_ root: Node?) -> FileDraft {
        var draft = FileDraft(path: reader.file)
        guard let root else { return draft }
        if case .scalar(let scalar) = root.content, scalar.value == .null { return draft }
        guard let top = reader.fields(of: root, in: "the top level of a file", known: Self.topLevelKeys) else { return draft }

        if let pair = top["project"] { draft.project = decodeFileProject(pair.value) }
        if let pair = top["projects"], let entries = reader.mapping(pair.value, what: "'projects'") {
            for entry in entries {
                if let project = decodeProject(entry) { draft.projects.append(project) }
            }
        }
        if let pair = top["checks"], let entries = reader.mapping(pair.value, what: "'checks'") {
            for entry in entries {
                if let check = decodeCheck(entry) { draft.checks.append(check) }
            }
        }
        return draft
    }

    /// The file's `project:`.
    mutating func decodeFileProject(_ node: Node) -> Reference? {
        reader.string(node, what: "'project'").map { Reference(name: $0, location: reader.location(node.mark)) }
    }

    // MARK: Projects

    private mutating func decodeProject(_ entry: Node.Pair) -> ProjectDraft? {
        let id = reader.keyText(entry.key)
        guard validateIdentifier(id, what: "project id", at: entry.key.mark) else { return nil }
        let location = reader.location(entry.key.mark)
        var project = Project(id: id, name: id, location: location)
        var draft = ProjectDraft(project: project, location: location)
        if case .scalar(let scalar) = entry.value.content, scalar.value == .null {
            return draft  // `ops:` alone declares a project with every default
        }
        guard let fields = reader.fields(of: entry.value, in: "project '\(id)'", known: Self.projectKeys) else { return nil }
        if let pair = fields["name"], let name = decodeName(pair.value, what: "project '\(id)' name") {
            project.name = name
        }
        if let pair = fields["ping_key"] {
            project.pingKey = reader.secret(pair.value, what: "'ping_key' of project '\(id)'")
            if let key = project.pingKey, case .literal(let text) = key.source, !PingKey.isValid(text) {
                reader.report(.invalidValue, "ping key of project '\(id)' is not valid: \(PingKey.rule)", at: pair.value.mark)
            }
        }
        if let pair = fields["api_keys"], let keys = reader.fields(of: pair.value, in: "'api_keys' of project '\(id)'", known: Self.apiKeyKeys) {
            if let readOnly = keys["read_only"] { project.readOnlyKey = reader.secret(readOnly.value, what: "'read_only' API key of project '\(id)'") }
            if let readWrite = keys["read_write"] { project.readWriteKey = reader.secret(readWrite.value, what: "'read_write' API key of project '\(id)'") }
        }
        if let pair = fields["channels"], let entries = reader.mapping(pair.value, what: "'channels' of project '\(id)'") {
            var channelDecoder = ChannelDecoder(reader: reader)
            project.channels = entries.compactMap { channelDecoder.decode($0, project: id) }
            reader = channelDecoder.reader
        }
        if let pair = fields["defaults"] {
            (project.defaults, draft.defaultChannelReferences) = decodeDefaults(pair.value, project: id)
        }
        if let pair = fields["maintenance"] { draft.maintenance = decodeMaintenance(pair.value, owner: "project '\(id)'") }
        if let pair = fields["status_page"] { project.statusPage = reader.bool(pair.value, what: "'status_page' of project '\(id)'") ?? false }
        draft.project = project
        return draft
    }

    private mutating func decodeDefaults(_ node: Node, project: String) -> (CheckDefaults, [Reference]) {
        var defaults = CheckDefaults()
        var references: [Reference] = []
        let context = "'defaults' of project '\(project)'"
        guard let fields = reader.fields(of: node, in: context, known: Self.defaultsKeys) else { return (defaults, references) }
        if let pair = fields["timeout"] { defaults.timeout = reader.duration(pair.value, what: "default 'timeout'", range: Self.durationRange) }
        if let pair = fields["grace"] { defaults.grace = reader.duration(pair.value, what: "default 'grace'", range: Self.durationRange) }
        if let pair = fields["tz"] { defaults.tz = decodeTimeZone(pair.value) }
        if let pair = fields["tags"] { defaults.tags = decodeTags(pair.value) }
        if let pair = fields["methods"] { defaults.methods = decodeMethods(pair.value) }
        if let pair = fields["manual_resume"] { defaults.manualResume = reader.bool(pair.value, what: "default 'manual_resume'") }
        if let pair = fields["channels"] { (defaults.channels, references) = decodeChannelSelection(pair.value) ?? (nil, []) }
        return (defaults, references)
    }

    // MARK: Checks

    private mutating func decodeCheck(_ entry: Node.Pair) -> CheckDraft? {
        guard let check = startCheck(reader.keyText(entry.key), at: entry.key.mark) else { return nil }
        if case .scalar(let scalar) = entry.value.content, scalar.value == .null {
            return check  // `nightly-job:` alone: a check with every default
        }
        guard let fields = reader.fields(of: entry.value, in: "check '\(check.key)'", known: Self.checkKeys) else { return nil }
        return decodeCheck(check, fields: fields)
    }

    /// A check with the key `key` and nothing set, or nil after reporting an invalid key.
    mutating func startCheck(_ key: String, at mark: Mark) -> CheckDraft? {
        guard validateIdentifier(key, what: "check key", at: mark) else { return nil }
        return CheckDraft(key: key, location: reader.location(mark))
    }

    /// `check` with the settings of its mapping, read with `checkKeys`: each field in
    /// `decodingOrder` (the order of its problems), then the fields' conflict.
    private mutating func decodeCheck(_ check: CheckDraft, fields: Fields) -> CheckDraft {
        var check = check
        for field in CheckField.decodingOrder {
            if let pair = fields[field] { decode(field, pair.value, into: &check) }
        }
        if let timeout = fields[.timeout], let schedule = fields[.schedule] {
            let first = min(timeout.key.mark, schedule.key.mark)
            let second = max(timeout.key.mark, schedule.key.mark)
            reader.report(
                .conflictingKeys, "check '\(check.key)' has both 'timeout' and 'schedule'; a check is either periodic or scheduled, keep one",
                at: second, notes: [Diagnostic.Note("the other one is here", at: reader.location(first))])
            check.timeout = nil
            check.schedule = nil
        }
        return check
    }

    /// Sets `field` of `check` from its value `node`, or reports why it cannot. Fields are
    /// independent of each other; only `timeout` with `schedule` conflict (`decodeCheck`).
    mutating func decode(_ field: CheckField, _ node: Node, into check: inout CheckDraft) {
        let key = check.key
        switch field {
        case .project:
            if let id = reader.string(node, what: "'project' of check '\(key)'") { check.project = Reference(name: id, location: reader.location(node.mark)) }
        case .name: check.name = decodeName(node, what: "'name' of check '\(key)'")
        case .desc: check.desc = reader.string(node, what: "'desc' of check '\(key)'")
        case .uuid:
            if let uuid = decodePinnedUUID(node, check: key) { check.uuid = (uuid, reader.location(node.mark)) }
        case .slug: check.slug = decodePinnedSlug(node, check: key)
        case .timeout: check.timeout = reader.duration(node, what: "'timeout'", range: Self.durationRange)
        case .grace: check.grace = reader.duration(node, what: "'grace'", range: Self.durationRange)
        case .schedule: check.schedule = decodeSchedule(node)
        case .tz: check.tz = decodeTimeZone(node)
        case .tags: check.tags = decodeTags(node)
        case .methods: check.methods = decodeMethods(node)
        case .manualResume: check.manualResume = reader.bool(node, what: "'manual_resume'")
        case .paused: check.paused = reader.bool(node, what: "'paused'")
        case .channels:
            if let (selection, references) = decodeChannelSelection(node) {
                check.channels = selection
                check.channelReferences = references
            }
        case .maintenance: check.maintenance = decodeMaintenance(node, owner: "check '\(key)'")
        case .dependsOn: check.dependsOn = decodeDependencies(node, check: key) ?? []
        }
    }

    /// `uuid:` in its canonical form, lower case, as ping URLs write it.
    private mutating func decodePinnedUUID(_ node: Node, check key: String) -> UUID? {
        guard let text = reader.string(node, what: "'uuid' of check '\(key)'") else { return nil }
        guard let uuid = UUID(uuidString: text), uuid.uuidString.lowercased() == text else {
            reader.report(
                .invalidValue,
                "'uuid' of check '\(key)' must be a UUID in lower case, as its ping URL writes it (e.g. 5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b), not '\(text.prefix(64))'",
                at: node.mark)
            return nil
        }
        return uuid
    }

    /// `slug:`: what Healthchecks accepts, lower-case letters, digits, `-` and `_`.
    private mutating func decodePinnedSlug(_ node: Node, check key: String) -> String? {
        guard let text = reader.string(node, what: "'slug' of check '\(key)'") else { return nil }
        let allowed = text.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F }
        guard !text.isEmpty, allowed, text.count <= Self.maxNameLength else {
            reader.report(
                .invalidValue,
                "'slug' of check '\(key)' must be 1 to \(Self.maxNameLength) lower-case letters, digits, '-' or '_', not '\(text.prefix(64))'",
                at: node.mark)
            return nil
        }
        return text
    }

    private mutating func decodeName(_ node: Node, what: @autoclosure () -> String) -> String? {
        guard let name = reader.string(node, what: what()) else { return nil }
        // (A grapheme count only when the bytes alone do not settle it.)
        guard name.utf8.count <= Self.maxNameLength || name.count <= Self.maxNameLength else {
            reader.report(.outOfRange, "\(what()) is \(name.count) characters long; the limit is \(Self.maxNameLength)", at: node.mark)
            return nil
        }
        return name
    }

    mutating func decodeSchedule(_ node: Node) -> CheckDefinition.Expectation? {
        guard let text = reader.string(node, what: "'schedule'") else { return nil }
        do {
            return .schedule(try schedules.schedule(text))
        } catch {
            reader.report(.invalidSchedule, "invalid schedule '\(text)': \(error.message)", at: node.mark)
            return nil
        }
    }

    mutating func decodeTimeZone(_ node: Node) -> String? {
        guard let name = reader.string(node, what: "'tz'") else { return nil }
        if TimeZoneDatabase.isKnown(name) { return name }
        var notes: [Diagnostic.Note] = []
        if let suggestion = TimeZoneDatabase.suggestion(for: name) {
            notes.append(Diagnostic.Note("did you mean '\(suggestion)'?"))
        }
        notes.append(Diagnostic.Note("time zones are IANA names such as 'UTC', 'Europe/Riga' or 'America/New_York'"))
        reader.report(.unknownTimezone, "unknown time zone '\(name)'", at: node.mark, notes: notes)
        return nil
    }

    private mutating func decodeTags(_ node: Node) -> [String]? {
        guard let items = reader.stringList(node, what: "'tags'", splittingString: true) else { return nil }
        var tags: [String] = []
        var seen: Set<String> = []  // for a long list; a short one is scanned
        for (tag, mark) in items {
            // (Printable ASCII has no whitespace to look for, character by character.)
            let plain = tag.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
            if tag.isEmpty || (!plain && tag.contains(where: \.isWhitespace)) {
                reader.report(.invalidValue, "tag '\(tag)' is not valid: tags are non-empty and have no spaces", at: mark)
            } else if items.count <= 8 ? !tags.contains(tag) : seen.insert(tag).inserted {
                tags.append(tag)
            }
        }
        return tags
    }

    private mutating func decodeMethods(_ node: Node) -> CheckDefinition.Methods? {
        guard let text = reader.string(node, what: "'methods'") else { return nil }
        if let methods = CheckDefinition.Methods(rawValue: text) { return methods }
        let hint = text.uppercased() == "POST" ? "; write it in upper case: POST" : ""
        reader.report(.invalidValue, "'methods' must be \"\" (HEAD, GET and POST are pings) or \"POST\", not '\(text)'\(hint)", at: node.mark)
        return nil
    }

    /// `"*"` (every channel of the project) or a list of channel names.
    private mutating func decodeChannelSelection(_ node: Node) -> (ChannelSelection, [Reference])? {
        if case .scalar(let scalar) = node.content, scalar.text == "*" { return (.all, []) }
        guard let items = reader.stringList(node, what: "'channels' (a list of channel names, or \"*\" for all)", splittingString: false) else {
            return nil
        }
        if items.count == 1, items[0].0 == "*" { return (.all, []) }
        let references = items.map { Reference(name: $0.0, location: reader.location($0.1)) }
        return (.named(references.map(\.name)), references)
    }

    private mutating func validateIdentifier(_ text: String, what: String, at mark: Mark) -> Bool {
        if Identifier.isValid(text) { return true }
        reader.report(.invalidId, "\(what) '\(text)' is not valid: use \(Identifier.rule)", at: mark)
        return false
    }
}

/// Project ping keys: the secret part of slug URLs, so URL-safe.
enum PingKey {
    static let rule = "use 8 to 128 characters from A-Z, a-z, 0-9, '-' and '_'"

    static func isValid(_ key: String) -> Bool {
        (8...128).contains(key.utf8.count) && key.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }
}

extension Fields {
    /// A check's field, read from a mapping read with `FileDecoder.checkKeys`.
    fileprivate subscript(_ field: FileDecoder.CheckField) -> Node.Pair? {
        self[known: field.rawValue]
    }
}
