import BlockingWork
import Foundation
import Monitoring

/// `registry.json`: the UUID of every check, assigned on first sight and never changed, and
/// the UUIDs of deleted checks, never handed out again (SPEC §1.3).
///
/// A value owned by whoever loads configuration (the reloader, `kiothc plan`): every change
/// is written at once, atomically, before the method returns.
public struct Registry: Sendable, Equatable {
    public struct Retired: Sendable, Hashable {
        public var uuid: UUID
        public var identity: CheckIdentity
        /// Microseconds since the Unix epoch.
        public var time: Int64

        public init(uuid: UUID, identity: CheckIdentity, time: Int64) {
            self.uuid = uuid
            self.identity = identity
            self.time = time
        }
    }

    /// Every check's UUID by identity. After a first assignment, built when first read.
    public private(set) var checks: [CheckIdentity: UUID] {
        get { table.table }
        set { table = CheckTable(newValue) }
        _modify {
            // Taken out of the shared box, so a registry that alone holds it changes it in place.
            var checks = table.table
            table = CheckTable.empty
            defer { table = CheckTable(checks) }
            yield &checks
        }
    }
    private var table: CheckTable
    public private(set) var retired: [Retired]
    private var retiredUUIDs: Set<UUID>
    /// nil for a registry that is never written (`kiothc plan` previews).
    public let path: String?
    /// Whether the file was in the layout `save` writes (one check per line); false for one
    /// written before 0.25 or reformatted, which the server rewrites at its start.
    public private(set) var isCurrentLayout = true

    /// Load `registry.json` from the data directory; an empty registry when there is none.
    public static func load(from data: DataDirectory) throws -> Registry {
        guard let bytes = try FileSystem.readAll(data.registry) else {
            return Registry(checks: [:], retired: [], path: data.registry)
        }
        func corrupt(_ detail: String) -> StoreError {
            StoreError(.corrupt, operation: "load", path: data.registry, detail: detail)
        }
        let document: RegistryDocument
        var lined = true
        do {
            if let read = try RegistryDocument.lined(bytes) {
                document = read
            } else {
                lined = false
                document = try RegistryDocument(decoded: JSONDecoder().decode(RegistryDocument.Decoded.self, from: Data(bytes)))
            }
        } catch let error as RegistryDocument.NotAUUID {
            throw corrupt("'\(error.text)' is not a UUID")
        } catch {
            throw corrupt("not a registry (\(error)); restore it from a backup, the check UUIDs depend on it")
        }
        guard document.v == 1 else { throw corrupt("unknown version \(document.v)") }
        var checks: [CheckIdentity: UUID] = [:]
        checks.reserveCapacity(document.checks.count)
        for (identity, uuid) in document.checks { checks[identity] = uuid }
        var registry = Registry(checks: checks, retired: document.retired, path: data.registry)
        registry.isCurrentLayout = lined
        return registry
    }

    /// Rewrites the file in the current layout if it was in another (the server's start does
    /// this, so later starts read it a line at a time).
    public mutating func upgradeLayout() throws {
        guard !isCurrentLayout else { return }
        try save()
        isCurrentLayout = true
    }

    /// An in-memory registry (tests, previews).
    public init(checks: [CheckIdentity: UUID] = [:], retired: [Retired] = [], path: String? = nil) {
        self.table = CheckTable(checks)
        self.retired = retired
        self.retiredUUIDs = Set(retired.map(\.uuid))
        self.path = path
    }

    /// (Not hashed at all while the registry is empty: a first start asks for a million.)
    public func uuid(for identity: CheckIdentity) -> UUID? { table.isEmpty ? nil : checks[identity] }

    public func isRetired(_ uuid: UUID) -> Bool { retiredUUIDs.contains(uuid) }

    /// The UUID of `identity`, assigning a fresh random one (v4) on first sight.
    @discardableResult
    public mutating func assign(_ identity: CheckIdentity) throws -> UUID {
        try assign([identity])[identity] ?? UUID()
    }

    /// Assign every identity not yet known, with a single write: its pinned UUID when it has
    /// one (`uuid:`, checked against this registry beforehand), else a fresh random one.
    /// Returns the UUID of each identity.
    public mutating func assign(_ identities: [CheckIdentity], pinned: [CheckIdentity: UUID] = [:]) throws -> [CheckIdentity: UUID] {
        let wasEmpty = table.isEmpty
        try assignMissing(identities, pinned: pinned)
        // Into an empty registry, the identities are exactly what it now holds.
        if wasEmpty { return checks }
        var result: [CheckIdentity: UUID] = [:]
        result.reserveCapacity(identities.count)
        for identity in identities {
            result[identity] = checks[identity]
        }
        return result
    }

    /// `assign` without the answer: after it, `checks` holds every identity's UUID. A first
    /// start with a million checks looks each identity up once and inserts it once.
    /// - Returns: into a registry with no check yet, of identities sorted and each listed once
    ///   (a first start's catalog), their UUIDs in that order, so the caller need not look a
    ///   million up again; nil otherwise.
    @discardableResult
    public mutating func assignMissing(_ identities: [CheckIdentity], pinned: [CheckIdentity: UUID] = [:]) throws -> [UUID]? {
        if table.isEmpty { return try assignFirst(identities, pinned: pinned) }
        var next = self
        var changed = false
        // Every UUID in use, built once (only when something is new): a first start with a
        // million checks must not scan the assigned UUIDs for each new one.
        var held = Set<UUID>()
        var heldKnown = false
        var random = RandomUUIDs()
        for (index, identity) in identities.enumerated() {
            if next.checks[identity] != nil { continue }
            if !heldKnown {
                // Sized for every identity from here on being new (a first start), so neither
                // table grows a million times.
                let room = identities.count - index
                next.checks.reserveCapacity(next.checks.count + room)
                held.reserveCapacity(next.checks.count + room)
                held.formUnion(next.checks.values)
                heldKnown = true
            }
            if let pin = pinned[identity], !next.retiredUUIDs.contains(pin), held.insert(pin).inserted {
                next.checks[identity] = pin
                changed = true
                continue
            }
            var fresh = random.next()
            // Random v4 collisions do not happen in practice; retired ones must never come back.
            while next.retiredUUIDs.contains(fresh) || !held.insert(fresh).inserted { fresh = random.next() }
            next.checks[identity] = fresh
            changed = true
        }
        if changed {
            try next.save(inOrder: identities)
            self = next
        }
        return nil
    }

    /// `assignMissing` into a registry with no check yet (a first start): every identity is
    /// new, so each is inserted without a lookup first, and the file is written in the
    /// identities' order (a catalog's are sorted), with no lookup either. The table by identity
    /// is built when first read (`CheckTable`): a first start serves without it.
    private mutating func assignFirst(_ identities: [CheckIdentity], pinned: [CheckIdentity: UUID]) throws -> [UUID]? {
        guard !identities.isEmpty else { return nil }
        let uuids = firstUUIDs(for: identities, pinned: pinned)
        var entries: [(key: CheckIdentity, value: UUID)] = mapInParts(identities.count) { (identities[$0], uuids[$0]) }
        let sorted = entries.indices.dropFirst().allSatisfy { entries[$0 - 1].key < entries[$0].key }
        if !sorted {
            // In identity order, each identity once: one listed twice keeps its first UUID.
            let order = entries.indices.sorted { entries[$0].key == entries[$1].key ? $0 < $1 : entries[$0].key < entries[$1].key }
            var unique: [(key: CheckIdentity, value: UUID)] = []
            for index in order where unique.last?.key != entries[index].key { unique.append(entries[index]) }
            entries = unique
        }
        try write(entries)
        table = CheckTable(building: entries)
        // (An identity listed twice holds its first UUID, not the one drawn at its second place.)
        return sorted ? uuids : nil
    }

    /// A UUID for each identity, none handed out twice and none retired: its pin when it has
    /// one, else a random (v4) one. Drawn on every core; then each half of the values (by first
    /// byte) is checked on a core of its own. A value an earlier identity holds (a pin another
    /// pins, or a repeated draw, which does not happen in practice) is drawn again.
    private func firstUUIDs(for identities: [CheckIdentity], pinned: [CheckIdentity: UUID]) -> [UUID] {
        var uuids = inParts(identities.count) { range in
            var random = RandomUUIDs()
            return range.map { _ in random.next() }
        }.flatMap { $0 }
        if !pinned.isEmpty {
            for index in identities.indices {
                if let pin = pinned[identities[index]], !retiredUUIDs.contains(pin) { uuids[index] = pin }
            }
        }
        let (low, high) = parallelPair({ [uuids] in Self.repeats(in: uuids, high: false) }, { [uuids] in Self.repeats(in: uuids, high: true) })
        var again = (low + high).sorted()
        if !retiredUUIDs.isEmpty { again = Set(again).union(uuids.indices.filter { retiredUUIDs.contains(uuids[$0]) }).sorted() }
        guard !again.isEmpty else { return uuids }
        var held = Set(uuids)
        var random = RandomUUIDs()
        for index in again {
            var uuid: UUID
            repeat { uuid = random.next() } while retiredUUIDs.contains(uuid) || !held.insert(uuid).inserted
            uuids[index] = uuid
        }
        return uuids
    }

    /// The positions of values an earlier position holds, among those whose first byte is at or
    /// above 0x80 (`high`) or below it.
    private static func repeats(in uuids: [UUID], high: Bool) -> [Int] {
        var seen = UUIDIndex(minimumCapacity: uuids.count / 2 + 1)
        var repeats: [Int] = []
        for index in uuids.indices where (uuids[index].uuid.0 >= 0x80) == high && seen.insert(uuids[index], at: index) != nil {
            repeats.append(index)
        }
        return repeats
    }

    /// Takes UUIDs assigned elsewhere (by another instance on a shared store) over those this
    /// registry proposed: the first assignment wins everywhere.
    public mutating func adopt(_ uuids: [CheckIdentity: UUID]) {
        for (identity, uuid) in uuids { checks[identity] = uuid }
    }

    /// Forget `identity` (its check was removed from config): its UUID joins the retired list
    /// and stops answering. Returns the retired UUID, nil if the identity was unknown.
    @discardableResult
    public mutating func retire(_ identity: CheckIdentity, at time: Int64) throws -> UUID? {
        try retire([identity], at: time)[identity]
    }

    /// Retire every identity, with a single write; unknown identities are skipped.
    @discardableResult
    public mutating func retire(_ identities: [CheckIdentity], at time: Int64) throws -> [CheckIdentity: UUID] {
        var next = self
        var result: [CheckIdentity: UUID] = [:]
        for identity in identities {
            guard let uuid = next.checks[identity] else { continue }
            next.checks[identity] = nil
            next.retired.append(Retired(uuid: uuid, identity: identity, time: time))
            next.retiredUUIDs.insert(uuid)
            result[identity] = uuid
        }
        guard !result.isEmpty else { return [:] }
        try next.save()
        self = next
        return result
    }

    /// One check per line (`LinedJSONDocument`), keys sorted, written atomically. By hand:
    /// Foundation's encoder took seconds for a million checks.
    /// - Parameter order: the identities, when the caller has them sorted (a catalog's are): if
    ///   they are exactly the registry's, they are written in that order rather than sorted
    ///   again (a million at a first start).
    func save(inOrder order: [CheckIdentity]? = nil) throws {
        guard path != nil else { return }
        try write(sortedChecks(order))
    }

    /// Writes the file with `checks` as the registry's checks in identity order, a part at a
    /// time: a million checks' 93 MB are not copied into one array first, and are written
    /// while the parts after them are still being made.
    private func write(_ checks: [(key: CheckIdentity, value: UUID)]) throws {
        guard let path else { return }
        try FileSystem.writeAtomically(to: path) { write in
            try encoded(checks, into: write)
        }
    }

    func encoded(inOrder order: [CheckIdentity]? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        encoded(sortedChecks(order)) { (part: [UInt8]) throws(Never) in bytes += part }
        return bytes
    }

    /// The file, with `checks` as the registry's checks in identity order, handed to `take` a
    /// part at a time, in order, each as soon as it is made: the checks' lines are made on
    /// every core while the parts before them are taken (written). After `take` fails, no
    /// other part is taken and its error is thrown.
    private func encoded<Failure: Error>(
        _ checks: [(key: CheckIdentity, value: UUID)], into take: ([UInt8]) throws(Failure) -> Void
    ) throws(Failure) {
        try take(Array("{\n  \"checks\" : [".utf8))
        // Parts of 20,000 lines (2 MB), so writing the first waits for little.
        let parts = max(1, min(checks.count / 20_000, 512))
        let size = (checks.count + parts - 1) / parts
        var failure: Failure?
        parallelMap(parts, { part in Self.lines(checks, part * size..<min((part + 1) * size, checks.count)) }) { _, bytes in
            guard failure == nil else { return }
            do throws(Failure) { try take(bytes) } catch { failure = error }
        }
        if let failure { throw failure }
        var bytes = Array((checks.isEmpty ? "],\n  \"retired\" : [" : "\n  ],\n  \"retired\" : [").utf8)
        for (index, entry) in retired.enumerated() {
            bytes.append(contentsOf: (index == 0 ? "\n    " : ",\n    ").utf8)
            var object = JSONLineWriter()
            object.field("key", entry.identity.key)
            object.field("project", entry.identity.project)
            object.field("retired_us", entry.time)
            object.field("uuid", entry.uuid)
            bytes.append(contentsOf: object.object())
        }
        bytes.append(contentsOf: (retired.isEmpty ? "],\n  \"v\" : 1\n}\n" : "\n  ],\n  \"v\" : 1\n}\n").utf8)
        try take(bytes)
    }

    /// The lines of `checks[range]`, each after the separator before it.
    private static func lines(_ checks: [(key: CheckIdentity, value: UUID)], _ range: Range<Int>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(range.count * 100)
        for index in range {
            let (identity, uuid) = checks[index]
            bytes.append(contentsOf: (index == 0 ? "\n    " : ",\n    ").utf8)
            var object = JSONLineWriter(continuing: consume bytes)
            object.field("key", identity.key)
            object.field("project", identity.project)
            object.field("uuid", uuid)
            bytes = object.object()
        }
        return bytes
    }

    /// The checks in identity order: `order` itself when it is that (strictly ascending, as
    /// many as the registry holds, each in it), else sorted here.
    private func sortedChecks(_ order: [CheckIdentity]?) -> [(key: CheckIdentity, value: UUID)] {
        if let order, order.count == checks.count, order.indices.dropFirst().allSatisfy({ order[$0 - 1] < order[$0] }) {
            var entries: [(key: CheckIdentity, value: UUID)] = []
            entries.reserveCapacity(order.count)
            for identity in order {
                guard let uuid = checks[identity] else { return checks.sorted { $0.key < $1.key } }
                entries.append((identity, uuid))
            }
            return entries
        }
        return checks.sorted { $0.key < $1.key }
    }

    public static func == (lhs: Registry, rhs: Registry) -> Bool {
        lhs.checks == rhs.checks && lhs.retired == rhs.retired
    }
}

/// `registry.json`, version 1, read.
private struct RegistryDocument {
    var v: Int
    var checks: [(CheckIdentity, UUID)]
    var retired: [Registry.Retired]

    struct NotAUUID: Error {
        let text: String
    }

    /// The JSON shape, for Foundation's decoder (a file in another layout).
    struct Decoded: Decodable {
        struct Entry: Decodable {
            var project: String
            var key: String
            var uuid: String
        }
        struct RetiredEntry: Decodable {
            var uuid: String
            var project: String
            var key: String
            var retired_us: Int64
        }
        var v: Int
        var checks: [Entry]
        var retired: [RetiredEntry]
    }

    init(decoded: Decoded) throws {
        v = decoded.v
        checks = try decoded.checks.map { entry in
            (CheckIdentity(project: entry.project, key: entry.key), try Self.uuid(entry.uuid))
        }
        retired = try decoded.retired.map { entry in
            Registry.Retired(uuid: try Self.uuid(entry.uuid), identity: CheckIdentity(project: entry.project, key: entry.key), time: entry.retired_us)
        }
    }

    init(v: Int, checks: [(CheckIdentity, UUID)], retired: [Registry.Retired]) {
        self.v = v
        self.checks = checks
        self.retired = retired
    }

    /// UUIDs as `save` writes them are read without Foundation (whose parser is sscanf: a third
    /// of loading a million); any other spelling (edited by hand) through it.
    static func uuid(_ text: String) throws(NotAUUID) -> UUID {
        guard let uuid = UUID(canonicalText: text) ?? UUID(uuidString: text) else { throw NotAUUID(text: text) }
        return uuid
    }

    /// The document as `Registry.save` writes it, read a line at a time (the checks' lines on
    /// every core); nil for another layout (a registry written before issue 25 or edited by
    /// hand: decoded as any JSON).
    static func lined(_ bytes: [UInt8]) throws -> RegistryDocument? {
        guard let document = LinedJSONDocument.split(bytes),
              let version = document.scalars["v"], let checks = document.arrays["checks"], let retired = document.arrays["retired"],
              document.scalars.count == 1, document.arrays.count == 2 else { return nil }
        let v = Int(String(decoding: version, as: UTF8.self)) ?? -1
        return RegistryDocument(
            v: v,
            checks: try inParts(checks.count) { range in
                try checks[range].map { line in
                    if let entry = plainEntry(line) { return entry }
                    let fields = try LineFields(parsing: line)
                    return (CheckIdentity(project: try fields.string("project"), key: try fields.string("key")), try uuid(try fields.string("uuid")))
                }
            }.flatMap { $0 },
            retired: try retired.map { line in
                let fields = try LineFields(parsing: line)
                return Registry.Retired(
                    uuid: try uuid(try fields.string("uuid")), identity: CheckIdentity(project: try fields.string("project"), key: try fields.string("key")),
                    time: try fields.integer("retired_us"))
            })
    }

    /// `{"key":"…","project":"…","uuid":"…"}` exactly as `Registry.encoded` writes it, with
    /// no escape in its strings: read without parsing a JSON object (a million of them are a
    /// large fleet's registry). nil for any other line, which is then parsed as JSON.
    static func plainEntry(_ line: ArraySlice<UInt8>) -> (CheckIdentity, UUID)? {
        line.withUnsafeBufferPointer { bytes -> (CheckIdentity, UUID)? in
            var index = 0
            func expect(_ text: StaticString) -> Bool {
                let count = text.utf8CodeUnitCount
                guard bytes.count - index >= count, memcmp(bytes.baseAddress! + index, text.utf8Start, count) == 0 else { return false }
                index += count
                return true
            }
            func string() -> String? {
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 {
                    index += 1
                }
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            }
            guard expect("{\"key\":\""), let key = string(), expect("\",\"project\":\""), let project = string(), expect("\",\"uuid\":\""),
                  bytes.count - index == 38, bytes[index + 36] == UInt8(ascii: "\""), bytes[index + 37] == UInt8(ascii: "}"),
                  let uuid = UUID(canonicalUTF8: UnsafeBufferPointer(rebasing: bytes[index..<index + 36]))
            else { return nil }
            return (CheckIdentity(project: project, key: key), uuid)
        }
    }
}
