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
        self.checks = checks.sorted { $0.identity < $1.identity }
        self.appliedAt = appliedAt
    }

    public static func path(in data: DataDirectory) -> String { "\(data.path)/catalog.json" }

    /// nil when there is none yet (a data directory from before it existed, or a first start).
    public static func load(from data: DataDirectory) throws -> AppliedCatalog? {
        let path = path(in: data)
        guard let bytes = try FileSystem.readAll(path) else { return nil }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch {
            throw StoreError(.corrupt, operation: "load", path: path,
                             detail: "not a catalog snapshot (\(error)); delete it, the next start of the server writes it again")
        }
        guard document.v == 1 else {
            throw StoreError(.corrupt, operation: "load", path: path, detail: "unknown version \(document.v)")
        }
        var checks: [Check] = []
        for entry in document.checks {
            guard let uuid = UUID(uuidString: entry.uuid) else {
                throw StoreError(.corrupt, operation: "load", path: path, detail: "'\(entry.uuid)' is not a UUID")
            }
            checks.append(Check(uuid: uuid, project: entry.project, key: entry.key, name: entry.name, slug: entry.slug, settings: entry.settings))
        }
        return AppliedCatalog(checks: checks, appliedAt: document.applied_us)
    }

    /// Written atomically: temp file, fsync, rename, fsync of the directory.
    public func save(to data: DataDirectory) throws {
        let path = Self.path(in: data)
        let document = Document(
            v: 1, applied_us: appliedAt,
            checks: checks.map {
                Document.Entry(uuid: DataDirectory.name($0.uuid), project: $0.project, key: $0.key, name: $0.name, slug: $0.slug, settings: $0.settings)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes: Data
        do {
            bytes = try encoder.encode(document)
        } catch {
            throw StoreError(.invalid, operation: "encode", path: path, detail: "\(error)")
        }
        try FileSystem.writeAtomically(Array(bytes) + [0x0A], to: path)
    }

    private struct Document: Codable {
        struct Entry: Codable {
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
    }
}
