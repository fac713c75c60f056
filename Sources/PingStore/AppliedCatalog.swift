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

    public var checks: [Check]
    /// Microseconds since the Unix epoch of the load that wrote it.
    public var appliedAt: Int64

    public init(checks: [Check], appliedAt: Int64) {
        // Sorted as written, usually: then not sorted again (a million at a restart).
        let inOrder = checks.indices.dropFirst().allSatisfy { !(checks[$0].identity < checks[$0 - 1].identity) }
        self.checks = inOrder ? checks : checks.sorted { $0.identity < $1.identity }
        self.appliedAt = appliedAt
    }

    public static func path(in data: DataDirectory) -> String { "\(data.path)/catalog.json" }

    /// nil when there is none yet (a data directory from before it existed, or a first start).
    public static func load(from data: DataDirectory) throws -> AppliedCatalog? {
        let path = path(in: data)
        guard let bytes = try FileSystem.readAll(path) else { return nil }
        return try decode(bytes, source: path)
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
            guard let uuid = UUID(uuidString: entry.uuid) else {
                throw StoreError(.corrupt, operation: "load", path: path, detail: "'\(entry.uuid)' is not a UUID")
            }
            checks.append(Check(uuid: uuid, project: entry.project, key: entry.key, name: entry.name, slug: entry.slug, settings: entry.settings))
        }
        return AppliedCatalog(checks: checks, appliedAt: document.applied_us)
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
        Self.appendStart(appliedAt, to: &bytes)
        for (index, check) in checks.enumerated() { Self.append(check, first: index == 0, to: &bytes) }
        Self.appendEnd(empty: checks.isEmpty, to: &bytes)
        return bytes
    }

    /// Writes `catalog.json` (atomically, as `save(to:)`) from checks made one at a time, in
    /// identity order: the bytes `encoded()` gives, without every check's settings or the whole
    /// file in memory at once (for a million checks that was over a gigabyte at a start).
    public static func save(_ checks: some Sequence<Check>, appliedAt: Int64, to data: DataDirectory) throws {
        try FileSystem.writeAtomically(to: path(in: data)) { write in
            let part = 1 << 20
            var bytes: [UInt8] = []
            bytes.reserveCapacity(part + 4096)
            appendStart(appliedAt, to: &bytes)
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

    private static func appendStart(_ appliedAt: Int64, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: "{\n  \"applied_us\" : \(appliedAt),\n  \"checks\" : [".utf8)
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
        var checks: [Entry]

        /// The document as `encoded()` writes it, read a line at a time; nil for another layout
        /// (edited by hand: decoded as any JSON).
        static func lined(_ bytes: [UInt8]) throws -> Document? {
            guard let document = LinedJSONDocument.split(bytes),
                  let version = document.scalars["v"].flatMap({ Int(String(decoding: $0, as: UTF8.self)) }),
                  let applied = document.scalars["applied_us"].flatMap({ Int64(String(decoding: $0, as: UTF8.self)) }),
                  let checks = document.arrays["checks"], document.scalars.count == 2, document.arrays.count == 1 else { return nil }
            return Document(v: version, applied_us: applied, checks: try checks.map { line in
                let fields = try LineFields(parsing: line, allowingStringObjects: true)
                return Entry(
                    uuid: try fields.string("uuid"), project: try fields.string("project"), key: try fields.string("key"),
                    name: try fields.string("name"), slug: try fields.string("slug"), settings: try fields.stringObject("settings"))
            })
        }
    }
}
