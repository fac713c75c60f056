import Foundation

/// A `CatalogChange` for people (the `kiothc plan` table) and programs (`--format json`, the
/// body of `POST /-/reload`). docs/reload.md documents the JSON; its keys are stable.
public struct CatalogChangeReport: Sendable {
    public let change: CatalogChange
    public let urls: PingURLFormat
    /// What is printed for UUIDs the plan's source does not know (`PlanBaseline.standIns`).
    public let standIns: [UUID: String]
    /// What "No changes: the configuration matches …" names.
    public let source: String

    public init(_ change: CatalogChange, urls: PingURLFormat, standIns: [UUID: String] = [:], source: String = "the data directory") {
        self.change = change
        self.urls = urls
        self.standIns = standIns
        self.source = source
    }

    /// A UUID as printed: lower case, or its stand-in's placeholder.
    func name(_ uuid: UUID) -> String { standIns[uuid] ?? PingURLFormat.name(uuid) }

    // MARK: JSON

    public struct Document: Encodable {
        struct Created: Encodable {
            var project: String
            var key: String
            var name: String
            var uuid: String?
            var slug_url: String?
        }
        struct Deleted: Encodable {
            var project: String
            var key: String
            var uuid: String
            /// URLs that answer 404 once the change is applied.
            var broken_urls: [String]
            /// Its slug URL when other checks answer it after the change (absent otherwise).
            var kept_urls: [KeptURL]?
        }
        struct KeptURL: Encodable {
            var url: String
            /// project/key of the checks answering it; several: it answers 409 ambiguous slug.
            var answered_by: [String]
        }
        struct Renamed: Encodable {
            var project: String
            var key: String
            var uuid: String
            var old_name: String
            var new_name: String
            var old_slug_url: String?
            var new_slug_url: String?
            /// project/key of the checks that answer the old slug URL after the change; absent
            /// when it answers 404.
            var old_slug_url_answered_by: [String]?
        }
        struct Changed: Encodable {
            var project: String
            var key: String
            var uuid: String
            var field: String
            var old: String?
            var new: String?
        }
        struct Repinned: Encodable {
            var project: String
            var key: String
            var old_uuid: String
            var new_uuid: String
            var broken_urls: [String]
            var new_url: String
        }
        struct Conflict: Encodable {
            var project: String
            var slug: String
            var keys: [String]
            var slug_url: String?
        }
        public struct Summary: Encodable {
            public var created: Int
            public var deleted: Int
            public var renamed: Int
            public var changed: Int
            var new_conflicts: Int
            var new_uuids: Int
        }

        public var changes: Bool
        public var summary: Summary
        var created: [Created]
        var deleted: [Deleted]
        var renamed: [Renamed]
        var changed: [Changed]
        var new_conflicts: [Conflict]
        var new_uuids: [Repinned]
    }

    public var document: Document {
        Document(
            changes: !change.isEmpty,
            summary: Document.Summary(
                created: change.added.count, deleted: change.removed.count, renamed: change.renamed.count,
                changed: Set(change.changed.map(\.uuid)).count, new_conflicts: change.newConflicts.count, new_uuids: change.repinned.count),
            created: change.added.map {
                Document.Created(
                    project: $0.id.project, key: $0.id.key, name: $0.name, uuid: $0.uuid.map(PingURLFormat.name),
                    slug_url: urls.slugURL(project: $0.id.project, slug: $0.slug))
            },
            deleted: change.removed.map { removed in
                let uuid = name(removed.uuid)
                let slug = removed.slug.flatMap { urls.slugURL(project: removed.id.project, slug: $0) }
                let kept = slug.flatMap { url in removed.slugSuccessor.map { Document.KeptURL(url: url, answered_by: $0.checks.map { "\($0)" }) } }
                return Document.Deleted(
                    project: removed.id.project, key: removed.id.key, uuid: uuid,
                    broken_urls: [urls.uuidURL(uuid)] + (kept == nil ? [slug].compactMap { $0 } : []),
                    kept_urls: kept.map { [$0] })
            },
            renamed: change.renamed.map {
                Document.Renamed(
                    project: $0.id.project, key: $0.id.key, uuid: name($0.uuid), old_name: $0.oldName, new_name: $0.newName,
                    old_slug_url: urls.slugURL(project: $0.id.project, slug: $0.oldSlug),
                    new_slug_url: urls.slugURL(project: $0.id.project, slug: $0.newSlug),
                    old_slug_url_answered_by: $0.oldSlugSuccessor.map { $0.checks.map { "\($0)" } })
            },
            changed: change.changed.map {
                Document.Changed(project: $0.id.project, key: $0.id.key, uuid: name($0.uuid), field: $0.field, old: $0.old, new: $0.new)
            },
            new_conflicts: change.newConflicts.map {
                Document.Conflict(project: $0.project, slug: $0.slug, keys: $0.keys, slug_url: urls.slugURL(project: $0.project, slug: $0.slug))
            },
            new_uuids: change.repinned.map {
                Document.Repinned(
                    project: $0.id.project, key: $0.id.key, old_uuid: name($0.oldUUID), new_uuid: name($0.newUUID),
                    broken_urls: [urls.uuidURL(name($0.oldUUID))], new_url: urls.uuidURL(name($0.newUUID)))
            })
    }

    public func json() -> String {
        Self.encode(document)
    }

    public static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    // MARK: Text

    /// The plan as a person reads it: one block per kind of change, `+ - ~ !` markers as
    /// Terraform's, then a summary line.
    public func text() -> String {
        var out = ""
        if !change.added.isEmpty {
            out += "Checks to create:\n"
            for added in change.added {
                out += "  + \(added.id)  \"\(added.name)\"\(urls.slugURL(project: added.id.project, slug: added.slug).map { "  \($0)" } ?? "")\n"
                // A pinned UUID (`uuid:`) is known before the server loads the check.
                if let uuid = added.uuid { out += "      \(urls.uuidURL(name(uuid)))\n" }
            }
            out += "\n"
        }
        if !change.removed.isEmpty {
            out += "Checks to delete (their pings move to retired/; these URLs will answer 404):\n"
            for removed in change.removed {
                let uuid = name(removed.uuid)
                out += "  - \(removed.id)  \(uuid)\n"
                out += "      \(urls.uuidURL(uuid))\n"
                if let slug = removed.slug.flatMap({ urls.slugURL(project: removed.id.project, slug: $0) }) {
                    if let successor = removed.slugSuccessor {
                        out += "      not \(slug): it will answer \(successor.answer)\n"
                    } else {
                        out += "      \(slug)\n"
                    }
                }
            }
            out += "\n"
        }
        if !change.renamed.isEmpty {
            out += "Checks to rename (UUID URL keeps working; the old slug URL will answer 404):\n"
            for renamed in change.renamed {
                out += "  ~ \(renamed.id)  \"\(renamed.oldName)\" -> \"\(renamed.newName)\"\n"
                let old = urls.slugURL(project: renamed.id.project, slug: renamed.oldSlug) ?? "(no slug URL)"
                let new = urls.slugURL(project: renamed.id.project, slug: renamed.newSlug) ?? "(no slug URL)"
                out += "      \(old) -> \(new)\n"
                if let successor = renamed.oldSlugSuccessor {
                    out += "      not \(old): it will answer \(successor.answer)\n"
                }
            }
            out += "\n"
        }
        if !change.changed.isEmpty {
            out += "Settings to change:\n"
            for setting in change.changed {
                out += "  ~ \(setting.id)  \(setting.field): \(Self.quoted(setting.old)) -> \(Self.quoted(setting.new))\n"
            }
            out += "\n"
        }
        if !change.repinned.isEmpty {
            out += "Checks to give their pinned UUID (uuid:; the old UUID URL will answer 404, its pings are kept in retired/):\n"
            for repinned in change.repinned {
                let old = name(repinned.oldUUID)
                let new = name(repinned.newUUID)
                out += "  ~ \(repinned.id)  \(old) -> \(new)\n"
                out += "      \(urls.uuidURL(old)) -> \(urls.uuidURL(new))\n"
            }
            out += "\n"
        }
        if !change.newConflicts.isEmpty {
            out += "New slug conflicts (the slug URL will answer 409 ambiguous slug):\n"
            for conflict in change.newConflicts {
                out += "  ! \(conflict.project): \(conflict.keys.joined(separator: ", ")) share \(urls.slugURL(project: conflict.project, slug: conflict.slug) ?? conflict.slug)\n"
            }
            out += "\n"
        }
        let summary = document.summary
        if change.isEmpty {
            out += "No changes: the configuration matches \(source).\n"
        } else {
            out += "Plan: \(summary.created) to create, \(summary.deleted) to delete, \(summary.renamed) to rename, \(summary.changed) with changed settings, \(summary.new_conflicts) new slug conflicts\(summary.new_uuids > 0 ? ", \(summary.new_uuids) with a new UUID" : "").\n"
        }
        return out
    }

    static func quoted(_ value: String?) -> String {
        value.map { "\"\($0)\"" } ?? "(none)"
    }
}
