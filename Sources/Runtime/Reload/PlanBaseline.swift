import CheckCatalog
import Foundation
import Monitoring
import PingStore

/// What `kiothc plan` compares a configuration against, whichever source it came from: a data
/// directory or database (`--data`, `--store`: the registry and `catalog.json`), a running
/// server (`--server`: `GET /api/v3/catalog/`), or another configuration tree (`--against`, a
/// pull request's base). Every source becomes the registry and applied catalog the server itself
/// compares a reload against, so `CatalogChange` computes every plan the same way.
public struct PlanBaseline: Sendable {
    public var registry: Registry
    public var applied: AppliedCatalog?
    /// UUIDs made up for checks whose real UUID the source does not tell — one a server
    /// generated, shown to a read-only key only as its `unique_key`, or any check of a
    /// configuration tree that does not pin one — with what a plan prints in their place
    /// (`<ops/db-backup-uuid>`). Each stands for one check (project/key) within one plan.
    public var standIns: [UUID: String] = [:]
    /// The projects compared; nil: every project (a data directory holds them all). A server
    /// shows a project key its own project only.
    public var projects: Set<String>?
    /// What the server serves (`--server` only).
    public var live: Live?
    /// Where each check was declared (`--against` only): a removed check's annotation points
    /// at its line in the base.
    public var locations: [CheckIdentity: Diagnostic.Location] = [:]

    /// The configuration a server serves: its hash and when it was applied.
    public struct Live: Sendable, Equatable {
        public var hash: String
        /// Microseconds since the Unix epoch.
        public var appliedAt: Int64
        /// The git commit of the config directory the server loaded; nil outside a work tree.
        public var commit: String?
        public var branch: String?

        /// `live: 3f2c1ab (main), applied 2 min ago`, `live: config 0123456789abcdef (not a git
        /// checkout), applied 1 h ago`.
        public func line(now: Int64) -> String {
            let what = commit.map { "\($0.prefix(7))\(branch.map { " (\($0))" } ?? "")" } ?? "config \(hash) (not a git checkout)"
            return "live: \(what), applied \(TimeText.relative(appliedAt, now: now))"
        }
    }

    public init(registry: Registry, applied: AppliedCatalog?) {
        self.registry = registry
        self.applied = applied
    }

    /// `catalog` without the projects this baseline does not cover.
    public func scope(_ catalog: Catalog) -> Catalog {
        guard let projects else { return catalog }
        return Catalog(
            projects: catalog.projects.filter { projects.contains($0.id) }, checks: catalog.checks.filter { projects.contains($0.id.project) },
            files: catalog.files, slugsAreUnique: catalog.slugsAreUnique)
    }

    /// What a plan prints for `identity`'s UUID where it is not known.
    static func placeholder(_ identity: CheckIdentity) -> String { "<\(identity)-uuid>" }

    // MARK: Another configuration tree

    /// The baseline of a configuration tree, as a server would have applied it: a check that
    /// pins its UUID (`uuid:`) has it, every other one a stand-in — a server generates it on
    /// first sight and keeps it for as long as the check's project/key stays, so a check kept
    /// under the same project/key keeps its UUID and one that goes loses it.
    public static func configuration(_ base: Catalog) -> PlanBaseline {
        var uuids: [CheckIdentity: UUID] = [:]
        var standIns: [UUID: String] = [:]
        var held = Set<UUID>()
        for definition in base.checks where uuids[definition.id] == nil {
            if let pin = definition.pinnedUUID, held.insert(pin).inserted {
                uuids[definition.id] = pin
                continue
            }
            let standIn = freshUUID(avoiding: &held)
            uuids[definition.id] = standIn
            standIns[standIn] = placeholder(definition.id)
        }
        let applied = AppliedCatalog(checks: Array(AppliedCatalog.checks(of: base, uuids: uuids)), appliedAt: 0)
        var baseline = PlanBaseline(registry: Registry(checks: uuids), applied: applied)
        baseline.standIns = standIns
        for definition in base.checks where baseline.locations[definition.id] == nil { baseline.locations[definition.id] = definition.location }
        return baseline
    }

    private static func freshUUID(avoiding held: inout Set<UUID>) -> UUID {
        var uuid = UUID()
        while !held.insert(uuid).inserted { uuid = UUID() }
        return uuid
    }

    // MARK: A running server

    /// Why a server's answer cannot be planned against.
    public struct ServerAnswerError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The baseline in a server's answer to `GET /api/v3/catalog/` (`AppliedCatalogDocument`).
    /// A read-only key sees `unique_key`s, not UUIDs: a check whose `unique_key` is that of a
    /// UUID `catalog` pins gets that UUID (so a kept pin plans as kept, and a pin another check
    /// holds is refused as with `--data`); any other gets a stand-in.
    public static func server(answer bytes: [UInt8], catalog: Catalog) throws(ServerAnswerError) -> PlanBaseline {
        struct Document: Decodable {
            struct Config: Decodable {
                var hash: String
                var applied_us: Int64
                var commit: String?
                var branch: String?
            }
            struct Check: Decodable {
                var project: String
                var key: String
                var name: String
                var slug: String
                var uuid: String?
                var unique_key: String?
                var settings: [String: String]
            }
            var version: Int
            var config: Config
            var projects: [String]
            var checks: [Check]
        }
        struct Versioned: Decodable { var version: Int? }
        let data = Data(bytes)
        guard let versioned = try? JSONDecoder().decode(Versioned.self, from: data), let version = versioned.version else {
            let start = String(decoding: bytes.prefix(80), as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            throw ServerAnswerError(description: "the answer is not a kiothc server's applied catalog (it begins '\(start)'); is the URL the kiothc server's, and is the server as new as this kiothc?")
        }
        guard version == 1 else {
            throw ServerAnswerError(description: "the server's applied catalog is version \(version); this kiothc reads version 1: use a kiothc as new as the server")
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw ServerAnswerError(description: "the server's applied catalog cannot be read: \(error)")
        }
        var pinsByUniqueKey: [String: UUID] = [:]
        for definition in catalog.checks {
            if let pin = definition.pinnedUUID { pinsByUniqueKey[CheckView.uniqueKey(pin)] = pin }
        }
        var uuids: [CheckIdentity: UUID] = [:]
        var standIns: [UUID: String] = [:]
        var held = Set<UUID>()
        var checks: [AppliedCatalog.Check] = []
        checks.reserveCapacity(document.checks.count)
        for check in document.checks {
            let identity = CheckIdentity(project: check.project, key: check.key)
            let uuid: UUID
            if let text = check.uuid {
                guard let parsed = UUID(uuidString: text) else {
                    throw ServerAnswerError(description: "the server's applied catalog lists '\(text.prefix(64))' as the UUID of \(identity), which is no UUID")
                }
                uuid = parsed
                held.insert(uuid)
            } else if let uniqueKey = check.unique_key, let pin = pinsByUniqueKey[uniqueKey], held.insert(pin).inserted {
                uuid = pin
            } else {
                uuid = freshUUID(avoiding: &held)
                standIns[uuid] = placeholder(identity)
            }
            uuids[identity] = uuid
            checks.append(AppliedCatalog.Check(uuid: uuid, project: check.project, key: check.key, name: check.name, slug: check.slug, settings: check.settings))
        }
        var baseline = PlanBaseline(registry: Registry(checks: uuids), applied: AppliedCatalog(checks: checks, appliedAt: document.config.applied_us))
        baseline.standIns = standIns
        baseline.projects = Set(document.projects)
        baseline.live = Live(hash: document.config.hash, appliedAt: document.config.applied_us, commit: document.config.commit, branch: document.config.branch)
        return baseline
    }
}
