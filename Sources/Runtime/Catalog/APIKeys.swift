import CheckCatalog
import Foundation

/// A project's resolved API keys (SPEC §1.2 `api_keys`), resolved once per (re)load with the
/// ping keys and swapped in with the catalog. Secrets: never logged, rendered or returned.
struct ProjectAPIKeys: Sendable {
    var readOnly: [UInt8]?
    var readWrite: [UInt8]?

    /// Every project's keys that resolve; the applier validated them before (a missing secret
    /// rejects the configuration), so a failure here leaves that key unusable, not open.
    static func resolve(_ catalog: Catalog, environment: [String: String]) -> [String: ProjectAPIKeys] {
        let resolver = SecretResolver(environment: environment)
        var keys: [String: ProjectAPIKeys] = [:]
        for project in catalog.projects {
            func value(_ secret: Secret?) -> [UInt8]? {
                guard let secret, case .success(let text) = resolver.resolve(secret), !text.isEmpty else { return nil }
                return Array(text.utf8)
            }
            keys[project.id] = ProjectAPIKeys(readOnly: value(project.readOnlyKey), readWrite: value(project.readWriteKey))
        }
        return keys
    }
}

/// Who is asking: the admin (every project, read-write) or one project's key holder.
public enum Viewer: Sendable, Hashable {
    case admin
    case project(String, readWrite: Bool)

    public func canSee(_ project: String) -> Bool {
        switch self {
        case .admin: true
        case .project(let own, _): own == project
        }
    }

    public var canWrite: Bool {
        switch self {
        case .admin: true
        case .project(_, let readWrite): readWrite
        }
    }

    /// The one project of a key holder; nil for the admin.
    public var project: String? {
        if case .project(let id, _) = self { return id }
        return nil
    }
}

enum ConstantTime {
    /// Equal byte strings, in time that depends on the lengths only, not on where they differ.
    static func equal(_ given: some Collection<UInt8>, _ expected: [UInt8]) -> Bool {
        let given = Array(given)
        var difference = given.count ^ expected.count
        for index in expected.indices {
            difference |= Int(expected[index] ^ (index < given.count ? given[index] : 0))
        }
        return difference == 0
    }
}

extension ServingCatalog {
    /// The project whose read-only or read-write key `key` is. Every key of every project is
    /// compared (in constant time each), so the time taken does not say which one matched.
    public func viewer(apiKey key: String) -> Viewer? {
        let given = Array(key.utf8)
        guard !given.isEmpty else { return nil }
        var found: Viewer?
        for (project, keys) in apiKeys.sorted(by: { $0.key < $1.key }) {
            if let readWrite = keys.readWrite, ConstantTime.equal(given, readWrite), found == nil {
                found = .project(project, readWrite: true)
            }
            if let readOnly = keys.readOnly, ConstantTime.equal(given, readOnly), found == nil {
                found = .project(project, readWrite: false)
            }
        }
        return found
    }

    /// Checks a viewer may see, in (project, key) order.
    public func entries(visibleTo viewer: Viewer) -> [Entry] {
        catalog.checks.compactMap { definition in
            guard viewer.canSee(definition.id.project), let uuid = uuid(of: definition.id) else { return nil }
            return check(uuid)
        }
    }
}
