import YAMLParser

/// Decodes the common file, one of checks only, straight from libyaml's events (see
/// `YAMLParser.stream`) without building its `Node` tree: for a fleet's thousand such files
/// the tree was a third of the load, and the checks are read with `FileDecoder`'s own field
/// decoding all the same.
///
/// It takes a file only while it finds nothing to report: `projects:`, a maintenance window,
/// a key that is unknown, repeated or not a string, a value of the wrong shape, anything
/// `FileDecoder` reports, or a file that is not plain YAML gives nil, and the file is decoded
/// through its tree as before, which finds every problem with its place. So a file it takes
/// decodes to what the tree gives, with no diagnostics.
struct StreamingDecoder {
    /// Where in the file the next event is.
    private enum Place {
        case document
        case topKey
        case fileProject
        case checks
        case checkKey
        case checkValue
        case fieldKey
        case fieldValue(FileDecoder.CheckField)
        case fieldItems(FileDecoder.CheckField, start: Mark)
        case end
    }

    private var decoder: FileDecoder
    private var draft: FileDraft
    private var place = Place.document
    private var topKeys: Set<String> = []
    /// The file's check keys, once one came out of order; until then each is greater than the
    /// one before (`lastKey`), so none is repeated and none is hashed.
    private var checkKeys: Set<String>?
    private var lastKey: String?
    /// The check being read, each field decoded as its value comes.
    private var check = CheckDraft(key: "", location: Diagnostic.Location(file: "", line: 0, column: 0))
    /// The check's fields so far, one bit each (by `CheckField.rawValue`).
    private var fields: UInt32 = 0
    private var items: [Node] = []

    private init(path: String, schedules: ScheduleCache) {
        decoder = FileDecoder(file: path, schedules: schedules)
        draft = FileDraft(path: path)
    }

    /// `bytes`, the file at `path`, decoded; nil when it is not a file this decoder takes.
    static func decode(_ bytes: [UInt8], path: String, limits: ParseLimits, schedules: ScheduleCache) -> FileDraft? {
        var reader = StreamingDecoder(path: path, schedules: schedules)
        // (`take` refuses the event that brought a diagnostic, so a whole stream has none.)
        guard YAMLParser.stream(bytes, limits: limits, { reader.take($0) }), case .end = reader.place else { return nil }
        return reader.draft
    }

    /// Takes one event; false when the file is not one to decode here.
    private mutating func take(_ event: YAMLEvent) -> Bool {
        switch (place, event) {
        case (.document, .mappingStart):
            place = .topKey
        case (.topKey, .scalar(let key, _)):
            guard case .string(let name) = key.value, topKeys.insert(name).inserted else { return false }
            switch name {
            case "project": place = .fileProject
            case "checks": place = .checks
            default: return false
            }
        case (.topKey, .collectionEnd):
            place = .end
        case (.fileProject, .scalar(let scalar, let mark)):
            draft.project = decoder.decodeFileProject(Node(.scalar(scalar), at: mark))
            place = .topKey
        case (.checks, .mappingStart):
            place = .checkKey
        case (.checkKey, .scalar(let key, let mark)):
            guard case .string(let name) = key.value, isNewKey(name), let started = decoder.startCheck(name, at: mark) else {
                return false
            }
            check = started
            fields = 0
            place = .checkValue
        case (.checkKey, .collectionEnd):
            place = .topKey
        case (.checkValue, .scalar(let scalar, _)) where scalar.value == .null:
            // `nightly-job:` alone: a check with every default.
            draft.checks.append(check)
            place = .checkKey
        case (.checkValue, .mappingStart):
            place = .fieldKey
        case (.fieldKey, .scalar(let name, _)):
            guard case .string(let text) = name.value, let field = FileDecoder.CheckField(named: text), field != .maintenance,
                  fields & 1 << field.rawValue == 0
            else { return false }
            fields |= 1 << field.rawValue
            place = .fieldValue(field)
        case (.fieldKey, .collectionEnd):
            // Both is a conflict, which the tree's decoding reports.
            guard fields & Self.timeoutAndSchedule != Self.timeoutAndSchedule else { return false }
            draft.checks.append(check)
            place = .checkKey
        case (.fieldValue(let field), .scalar(let scalar, let mark)):
            decoder.decode(field, Node(.scalar(scalar), at: mark), into: &check)
            place = .fieldKey
        case (.fieldValue(let field), .sequenceStart(let mark)):
            items.removeAll(keepingCapacity: true)
            place = .fieldItems(field, start: mark)
        case (.fieldItems, .scalar(let scalar, let mark)):
            items.append(Node(.scalar(scalar), at: mark))
        case (.fieldItems(let field, let start), .collectionEnd):
            decoder.decode(field, Node(.sequence(items), at: start), into: &check)
            place = .fieldKey
        default:
            return false
        }
        return decoder.diagnostics.isEmpty
    }

    private static let timeoutAndSchedule: UInt32 = 1 << FileDecoder.CheckField.timeout.rawValue | 1 << FileDecoder.CheckField.schedule.rawValue

    /// Whether no check of the file so far has the key `key`, which is then taken.
    private mutating func isNewKey(_ key: String) -> Bool {
        if checkKeys == nil {
            defer { lastKey = key }
            guard let lastKey, !(lastKey < key) else { return true }
            // Out of order: from here on, every key is looked up among the file's keys so far.
            checkKeys = Set(draft.checks.map(\.key))
        }
        return checkKeys!.insert(key).inserted
    }
}
