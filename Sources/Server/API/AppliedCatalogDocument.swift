import CheckCatalog
import Foundation
import Monitoring
import Runtime

/// `GET /api/v3/catalog/` (ours, SPEC §16): the checks the server has applied, as `kiothc plan
/// --server` compares a configuration against them — the same facts as the data directory's
/// `registry.json` and `catalog.json`, for the key's project. docs/api.md documents the shape;
/// `version` changes only when a field changes meaning.
///
/// A check's UUID is its ping URL (a credential, as in Healthchecks): a read-write key gets it,
/// a read-only key gets `unique_key` in its place, as in every other document of the API.
enum AppliedCatalogDocument {
    static let version = 1

    static func document(_ snapshot: ServingCatalog, viewer: Viewer, status: ReloadStatus) -> JSONValue {
        let projects = snapshot.catalog.projects.filter { viewer.canSee($0.id) }.map { JSONValue.string($0.id) }
        let checks = snapshot.entries(visibleTo: viewer).map { entry -> JSONValue in
            let definition = entry.definition
            var fields: [(String, JSONValue)] = [
                ("project", .string(definition.id.project)),
                ("key", .string(definition.id.key)),
                ("name", .string(definition.name)),
                ("slug", .string(definition.slug)),
            ]
            if viewer.canWrite {
                fields.append(("uuid", .string(entry.uuid.uuidString.lowercased())))
            } else {
                fields.append(("unique_key", .string(CheckView.uniqueKey(entry.uuid))))
            }
            fields.append(("pinned", .bool(definition.pinnedUUID == entry.uuid)))
            let settings = definition.settings
            fields.append(("settings", .object(CheckDefinition.settingFields.compactMap { field in settings[field].map { (field, .string($0)) } })))
            return .object(fields)
        }
        return .object([
            ("version", .int(version)),
            ("config", .object([
                ("hash", .string(ConfigFingerprint.hex(status.servingHash))),
                ("commit", .string(status.servingCommit?.commit)),
                ("branch", .string(status.servingCommit?.branch)),
                ("applied_at", .string(UTCTime.seconds(status.lastSuccess))),
                ("applied_us", .int(status.lastSuccess)),
            ])),
            ("projects", .array(projects)),
            ("checks", .array(checks)),
        ])
    }
}
