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
        case fieldValue
        case fieldItems(start: Mark)
        case end
    }

    private var decoder: FileDecoder
    private var draft: FileDraft
    private var place = Place.document
    private var topKeys: Set<String> = []
    private var checkKeys: Set<String> = []
    /// The check being read, and its fields so far as `FieldReader.fields` would give them.
    private var check = CheckDraft(key: "", location: Diagnostic.Location(file: "", line: 0, column: 0))
    private var key = Node(.invalid, at: .start)
    private var pairs: [Node.Pair] = []
    private var slots: [Int] = []
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
            guard case .string(let name) = key.value, checkKeys.insert(name).inserted, let started = decoder.startCheck(name, at: mark) else {
                return false
            }
            check = started
            place = .checkValue
        case (.checkKey, .collectionEnd):
            place = .topKey
        case (.checkValue, .scalar(let scalar, _)) where scalar.value == .null:
            // `nightly-job:` alone: a check with every default.
            draft.checks.append(check)
            place = .checkKey
        case (.checkValue, .mappingStart):
            // Emptied in place: the last check's arrays are no longer shared, so no allocation.
            pairs.removeAll(keepingCapacity: true)
            if slots.isEmpty { slots = Array(repeating: -1, count: FileDecoder.checkKeys.count) }
            for index in slots.indices { slots[index] = -1 }
            place = .fieldKey
        case (.fieldKey, .scalar(let name, let mark)):
            guard case .string(let text) = name.value, let slot = FileDecoder.checkKeys.firstIndex(where: { $0.isSameKey(as: text) }),
                  slots[slot] < 0, slot != FileDecoder.CheckField.maintenance.rawValue
            else { return false }
            slots[slot] = pairs.count
            key = Node(.scalar(name), at: mark)
            place = .fieldValue
        case (.fieldKey, .collectionEnd):
            draft.checks.append(decoder.decodeCheck(check, fields: Fields(pairs: pairs, known: FileDecoder.checkKeys, slots: slots)))
            place = .checkKey
        case (.fieldValue, .scalar(let scalar, let mark)):
            pairs.append(Node.Pair(key: key, value: Node(.scalar(scalar), at: mark)))
            place = .fieldKey
        case (.fieldValue, .sequenceStart(let mark)):
            items = []
            place = .fieldItems(start: mark)
        case (.fieldItems, .scalar(let scalar, let mark)):
            items.append(Node(.scalar(scalar), at: mark))
        case (.fieldItems(let start), .collectionEnd):
            pairs.append(Node.Pair(key: key, value: Node(.sequence(items), at: start)))
            place = .fieldKey
        default:
            return false
        }
        return decoder.diagnostics.isEmpty
    }
}
