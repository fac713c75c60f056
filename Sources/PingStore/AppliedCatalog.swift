import Foundation
import Monitoring

/// `catalog.json`: the checks as they were last applied by the server, by UUID, with their
/// names, slugs and settings. `kiothc plan` compares a new configuration against it to say
/// which slug URLs a rename breaks and which settings change; the server rewrites it
/// (atomically) after every successful load. Losing it loses nothing but that comparison.
public struct AppliedCatalog: Sendable, Equatable {
    public struct Check: Sendable, Equatable {
        public var uuid: UUID
        public var project: String
        public var key: String
        public var name: String
        public var slug: String
        /// Field -> value as `CheckDefinition.settings` prints it.
        public var settings: [String: String]

        public init(uuid: UUID, project: String, key: String, name: String, slug: String, settings: [String: String]) {
            self.uuid = uuid
            self.project = project
            self.key = key
            self.name = name
            self.slug = slug
            self.settings = settings
        }

        public var identity: CheckIdentity { CheckIdentity(project: project, key: key) }
    }

    /// What a snapshot was written from: the configuration's bytes as one build of kiothc read
    /// them, and the registry's UUIDs. A start that finds both as they were knows the snapshot
    /// already says what it would write, without reading (for a fleet) a million lines of it.
    public struct Source: Sendable, Hashable {
        /// A digest of every config file's path and bytes, and of the build that read them.
        public var config: UInt64
        /// `Registry.digest` after the load.
        public var registry: UInt64

        public init(config: UInt64, registry: UInt64) {
            self.config = config
            self.registry = registry
        }
    }

    public var checks: [Check]
    /// Microseconds since the Unix epoch of the load that wrote it.
    public var appliedAt: Int64
    /// nil in a snapshot written before 0.25, or by a store that does not record it.
    public var source: Source?

    public init(checks: [Check], appliedAt: Int64, source: Source? = nil) {
        // Sorted as written, usually: then not sorted again (a million at a restart).
        let inOrder = checks.indices.dropFirst().allSatisfy { !(checks[$0].identity < checks[$0 - 1].identity) }
        self.checks = inOrder ? checks : checks.sorted { $0.identity < $1.identity }
        self.appliedAt = appliedAt
        self.source = source
    }

    public static func path(in data: DataDirectory) -> String { "\(data.path)/catalog.json" }

    /// nil when there is none yet (a data directory from before it existed, or a first start).
    public static func load(from data: DataDirectory) throws -> AppliedCatalog? {
        let path = path(in: data)
        guard let bytes = try FileSystem.readAll(path) else { return nil }
        return try decode(bytes, source: path)
    }

    /// The snapshot's `source`, read from the start of the file only: nil when there is no
    /// snapshot, or it records none (written before 0.25, or edited into another layout).
    public static func source(in data: DataDirectory) throws -> Source? {
        guard let head = try FileSystem.readPrefix(path(in: data), count: 256) else { return nil }
        // The fields come before "checks" (appendStart); a line cut by the prefix has no end.
        var config: UInt64?
        var registry: UInt64?
        for line in head.split(separator: 0x0A).prefix(5) {
            let text = String(decoding: line, as: UTF8.self)
            if let value = hexField(text, name: "config_digest") { config = value }
            if let value = hexField(text, name: "registry_digest") { registry = value }
        }
        guard let config, let registry else { return nil }
        return Source(config: config, registry: registry)
    }

    /// `  "name" : "16 hex digits",` → the number.
    private static func hexField(_ line: String, name: String) -> UInt64? {
        let prefix = "  \"\(name)\" : \""
        guard line.hasPrefix(prefix), line.hasSuffix("\",") else { return nil }
        let digits = line.dropFirst(prefix.count).dropLast(2)
        guard digits.count == 16 else { return nil }
        return UInt64(digits, radix: 16)
    }

    /// The snapshot `encoded()` wrote; `source` names where it was read, for errors.
    public static func decode(_ bytes: [UInt8], source path: String) throws -> AppliedCatalog {
        let document: Document
        do {
            document = try Document.lined(bytes) ?? JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch {
            throw StoreError(.corrupt, operation: "load", path: path,
                             detail: "not a catalog snapshot (\(error)); delete it, the next start of the server writes it again")
        }
        guard document.v == 1 else {
            throw StoreError(.corrupt, operation: "load", path: path, detail: "unknown version \(document.v)")
        }
        var checks: [Check] = []
        checks.reserveCapacity(document.checks.count)
        for entry in document.checks {
            guard let uuid = UUID(canonicalText: entry.uuid) ?? UUID(uuidString: entry.uuid) else {
                throw StoreError(.corrupt, operation: "load", path: path, detail: "'\(entry.uuid)' is not a UUID")
            }
            checks.append(Check(uuid: uuid, project: entry.project, key: entry.key, name: entry.name, slug: entry.slug, settings: entry.settings))
        }
        return AppliedCatalog(checks: checks, appliedAt: document.applied_us, source: document.source)
    }

    /// Written atomically: temp file, fsync, rename, fsync of the directory. One check per
    /// line, keys sorted. Written by hand: Foundation's encoder took a quarter of a restart with
    /// 10,000 checks and left ~30 MB of freed heap behind (heaptrack), most of an idle
    /// server's memory.
    public func save(to data: DataDirectory) throws {
        try FileSystem.writeAtomically(encoded(), to: Self.path(in: data))
    }

    /// `catalog.json`'s bytes.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + checks.count * 400)
        Self.appendStart(appliedAt, source: source, to: &bytes)
        for (index, check) in checks.enumerated() { Self.append(check, first: index == 0, to: &bytes) }
        Self.appendEnd(empty: checks.isEmpty, to: &bytes)
        return bytes
    }

    /// Writes `catalog.json` (atomically, as `save(to:)`) from checks made one at a time, in
    /// identity order: the bytes `encoded()` gives, without every check's settings or the whole
    /// file in memory at once (for a million checks that was over a gigabyte at a start).
    public static func save(_ checks: some Sequence<Check>, appliedAt: Int64, source: Source?, to data: DataDirectory) throws {
        try FileSystem.writeAtomically(to: path(in: data)) { write in
            let part = 1 << 20
            var bytes: [UInt8] = []
            bytes.reserveCapacity(part + 4096)
            appendStart(appliedAt, source: source, to: &bytes)
            var empty = true
            for check in checks {
                append(check, first: empty, to: &bytes)
                empty = false
                if bytes.count >= part {
                    try write(bytes)
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            appendEnd(empty: empty, to: &bytes)
            try write(bytes)
        }
    }

    private static func appendStart(_ appliedAt: Int64, source: Source?, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: "{\n  \"applied_us\" : \(appliedAt),\n".utf8)
        if let source {
            bytes.append(contentsOf: "  \"config_digest\" : \"\(hex(source.config))\",\n  \"registry_digest\" : \"\(hex(source.registry))\",\n".utf8)
        }
        bytes.append(contentsOf: "  \"checks\" : [".utf8)
    }

    /// 16 hex digits, as the digests are written (and config hashes shown everywhere).
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func append(_ check: Check, first: Bool, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: (first ? "\n    " : ",\n    ").utf8)
        var object = JSONLineWriter()
        object.field("key", check.key)
        object.field("name", check.name)
        object.field("project", check.project)
        object.field("settings", strings: check.settings)
        object.field("slug", check.slug)
        object.field("uuid", check.uuid)
        bytes.append(contentsOf: object.object())
    }

    private static func appendEnd(empty: Bool, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: (empty ? "],\n  \"v\" : 1\n}\n" : "\n  ],\n  \"v\" : 1\n}\n").utf8)
    }

    private struct Document: Decodable {
        struct Entry: Decodable {
            var uuid: String
            var project: String
            var key: String
            var name: String
            var slug: String
            var settings: [String: String]
        }
        var v: Int
        var applied_us: Int64
        var config_digest: String?
        var registry_digest: String?
        var checks: [Entry]

        var source: Source? {
            guard let config = config_digest.flatMap({ UInt64($0, radix: 16) }),
                  let registry = registry_digest.flatMap({ UInt64($0, radix: 16) }) else { return nil }
            return Source(config: config, registry: registry)
        }

        /// The document as `encoded()` writes it, read a line at a time; nil for another layout
        /// (edited by hand: decoded as any JSON).
        static func lined(_ bytes: [UInt8]) throws -> Document? {
            guard let document = LinedJSONDocument.split(bytes),
                  let version = document.scalars["v"].flatMap({ Int(String(decoding: $0, as: UTF8.self)) }),
                  let applied = document.scalars["applied_us"].flatMap({ Int64(String(decoding: $0, as: UTF8.self)) }),
                  let checks = document.arrays["checks"], document.arrays.count == 1 else { return nil }
            let config = document.scalars["config_digest"].flatMap(quoted)
            let registry = document.scalars["registry_digest"].flatMap(quoted)
            guard document.scalars.count == 2 + (config == nil ? 0 : 1) + (registry == nil ? 0 : 1) else { return nil }
            return Document(v: version, applied_us: applied, config_digest: config, registry_digest: registry, checks: try checks.map { line in
                let fields = try LineFields(parsing: line, allowingStringObjects: true)
                return Entry(
                    uuid: try fields.string("uuid"), project: try fields.string("project"), key: try fields.string("key"),
                    name: try fields.string("name"), slug: try fields.string("slug"), settings: try fields.stringObject("settings"))
            })
        }

        /// `"text"` → text, for the hex digests (no escapes in them).
        private static func quoted(_ scalar: ArraySlice<UInt8>) -> String? {
            guard scalar.count >= 2, scalar.first == UInt8(ascii: "\""), scalar.last == UInt8(ascii: "\"") else { return nil }
            return String(decoding: scalar.dropFirst().dropLast(), as: UTF8.self)
        }
    }
}
