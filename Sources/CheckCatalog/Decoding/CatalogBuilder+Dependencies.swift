import Monitoring

/// `depends_on:` (SPEC §14): entries resolved to checks, then the graph checked for cycles.
extension CatalogBuilder {
    mutating func resolveDependencies(_ checks: inout [CheckDefinition], _ dependencies: [[Dependency]], projects: [String: ProjectDraft]) {
        // Most fleets declare none: no index of every check to build.
        guard dependencies.contains(where: { !$0.isEmpty }) else { return }
        var keysByProject: [String: [String]] = [:]
        var projectsByKey: [String: [String]] = [:]
        for check in checks {
            keysByProject[check.id.project, default: []].append(check.id.key)
            projectsByKey[check.id.key, default: []].append(check.id.project)
        }
        let known = Set(checks.map(\.id))
        // Each check's resolved edges with where they are written, for the cycle search.
        var edges: [CheckIdentity: [(target: CheckIdentity, location: Diagnostic.Location)]] = [:]
        for index in checks.indices {
            let id = checks[index].id
            var first: [CheckIdentity: Diagnostic.Location] = [:]
            var resolved: [CheckIdentity] = []
            for dependency in dependencies[index] {
                let project = dependency.project ?? id.project
                guard projects[project] != nil else {
                    reportUnknownProject(Reference(name: project, location: dependency.location), known: projects.keys)
                    continue
                }
                let target = CheckIdentity(project: project, key: dependency.key)
                guard known.contains(target) else {
                    reportUnknownCheck(
                        dependency, target: target, of: id, known: keysByProject[project] ?? [], elsewhere: projectsByKey[dependency.key] ?? [])
                    continue
                }
                if target == id {
                    diagnostics.append(Diagnostic(
                        .error, .dependencyCycle, "check '\(id)' depends on itself", at: dependency.location,
                        notes: [Diagnostic.Note("remove '\(dependency.text)' from its 'depends_on'")]))
                    continue
                }
                if let earlier = first[target] {
                    diagnostics.append(Diagnostic(
                        .warning, .duplicateDependency, "check '\(id)' lists '\(target)' twice in 'depends_on'", at: dependency.location,
                        notes: [Diagnostic.Note("first listed here", at: earlier)]))
                    continue
                }
                first[target] = dependency.location
                resolved.append(target)
                edges[id, default: []].append((target, dependency.location))
            }
            checks[index].dependsOn = resolved
        }
        reportCycles(edges, order: Self.declarationOrder(checks).map { checks[$0].id }.filter { edges[$0] != nil })
    }

    /// `elsewhere`: the projects that have a check with the entry's key, suggested as
    /// `project/key` when the entry names no project and its own has no close key.
    private mutating func reportUnknownCheck(
        _ dependency: Dependency, target: CheckIdentity, of id: CheckIdentity, known: [String], elsewhere: [String]
    ) {
        var notes: [Diagnostic.Note] = []
        if let close = Suggestion.closest(to: target.key, in: known) {
            notes.append(Diagnostic.Note("did you mean '\(dependency.project.map { "\($0)/" } ?? "")\(close)'?"))
        } else if dependency.project == nil, !elsewhere.isEmpty {
            let names = elsewhere.sorted().map { "'\($0)/\(dependency.key)'" }
            notes.append(Diagnostic.Note("did you mean \(names.joined(separator: " or "))? another project's check is named 'project/key'"))
        }
        notes.append(Diagnostic.Note(
            "'depends_on' names a check of the same project by its key, or one of another project as 'project/key'"))
        diagnostics.append(Diagnostic(
            .error, .unknownCheck, "check '\(id)' depends on unknown check '\(target)'", at: dependency.location, notes: notes))
    }

    /// Notes pointing at the entries of one cycle, at most: a generated config may chain
    /// thousands of checks.
    static let cycleNoteLimit = 20

    /// Depth-first from each check in declaration order; every edge back into the current path
    /// closes one cycle, reported once at that edge's entry, with a note at each other entry.
    /// Iterative: a long chain of dependencies must not exhaust a thread's stack.
    private mutating func reportCycles(
        _ edges: [CheckIdentity: [(target: CheckIdentity, location: Diagnostic.Location)]], order: [CheckIdentity]
    ) {
        enum Visit { case inPath(Int), done }
        var visits: [CheckIdentity: Visit] = [:]
        for root in order where visits[root] == nil {
            // The path: each check and the index of the next edge of it to follow.
            var path: [(id: CheckIdentity, next: Int)] = [(root, 0)]
            visits[root] = .inPath(0)
            while let (id, next) = path.last {
                let out = edges[id] ?? []
                guard next < out.count else {
                    visits[id] = .done
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let edge = out[next]
                switch visits[edge.target] {
                case nil:
                    visits[edge.target] = .inPath(path.count)
                    path.append((edge.target, 0))
                case .inPath(let start):
                    let members = path[start...].map { $0.id }
                    let chain = (members + [edge.target]).map(\.description).joined(separator: " → ")
                    // The entries along the cycle before the closing one: each member's edge to
                    // the next (its `next` already points past it).
                    var notes: [Diagnostic.Note] = []
                    for (member, following) in zip(path[start...], members.dropFirst()).prefix(Self.cycleNoteLimit) {
                        if let written = (edges[member.id] ?? [])[..<member.next].last(where: { $0.target == following }) {
                            notes.append(Diagnostic.Note("'\(member.id)' depends on '\(following)' here", at: written.location))
                        }
                    }
                    if members.count - 1 > Self.cycleNoteLimit {
                        notes.append(Diagnostic.Note("and \(members.count - 1 - Self.cycleNoteLimit) more entries along the cycle"))
                    }
                    notes.append(Diagnostic.Note("a check cannot wait for itself; remove one of these dependencies"))
                    diagnostics.append(Diagnostic(.error, .dependencyCycle, "dependency cycle: \(chain)", at: edge.location, notes: notes))
                case .done:
                    break
                }
            }
        }
    }
}
