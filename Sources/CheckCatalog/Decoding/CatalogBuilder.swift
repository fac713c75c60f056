import BlockingWork
import Foundation
import Monitoring

/// Joins the drafts of every file into one catalog, applying the rules that span files:
/// project references, project defaults, duplicate checks and projects, channel references,
/// ping-key uniqueness and slug conflicts.
struct CatalogBuilder {
    var diagnostics: [Diagnostic] = []

    mutating func build(_ files: [FileDraft]) -> Catalog {
        let declaresDefault = files.contains { $0.projects.contains { $0.project.id == Project.defaultID } }
        var projects = collectProjects(files)
        for (id, draft) in projects {
            let channelNames = draft.project.channels.map(\.name)
            for reference in draft.defaultChannelReferences where !channelNames.contains(reference.name) {
                reportUnknownChannel(reference, project: id, known: channelNames)
            }
            if draft.defaultChannelReferences.contains(where: { !channelNames.contains($0.name) }) {
                projects[id]?.project.defaults.channels = nil
            }
            let zone = draft.project.defaults.tz ?? CheckDefinition.defaultTimeZone
            projects[id]?.project.maintenance = draft.maintenance.compactMap { resolve($0, defaultZone: zone) }
        }
        var (checks, dependencies) = collectChecks(files, projects: projects)
        resolveDependencies(&checks, dependencies, projects: projects)
        let slugsAreUnique = reportSlugConflicts(checks)
        reportDuplicatePingKeys(projects.values.map(\.project))

        var used = Set(projects.keys)
        if !declaresDefault, !checks.contains(where: { $0.id.project == Project.defaultID }) {
            used.remove(Project.defaultID)
        }
        return Catalog(
            projects: projects.values.map(\.project).filter { used.contains($0.id) },
            checks: consume checks,
            files: files.map(\.path),
            slugsAreUnique: slugsAreUnique)
    }

    private mutating func collectProjects(_ files: [FileDraft]) -> [String: ProjectDraft] {
        var projects: [String: ProjectDraft] = [:]
        for file in files {
            for draft in file.projects {
                if let first = projects[draft.project.id] {
                    diagnostics.append(Diagnostic(
                        .error, .duplicateProject, "project '\(draft.project.id)' is declared twice; project ids are unique across all files",
                        at: draft.location, notes: [Diagnostic.Note("first declared here", at: first.location)]))
                } else {
                    projects[draft.project.id] = draft
                }
            }
        }
        if projects[Project.defaultID] == nil {
            let implicit = Project(id: Project.defaultID, name: Project.defaultID)
            projects[Project.defaultID] = ProjectDraft(project: implicit, location: Diagnostic.Location(file: "", line: 0, column: 0))
        }
        return projects
    }

    /// One step of reading a file's checks, in order: a project reference that names no project
    /// (reported as it comes), or a check with its definition and the problems only it has
    /// (unknown channels, windows), reported if it is not a duplicate.
    /// A check's parts are the case's own values, not a struct's: matched from a consumed step,
    /// each is moved out, so a definition is not copied (retaining all its fields) on its way
    /// into the catalog.
    private enum Step: Sendable {
        case unknownProject(Reference)
        case check(CheckDefinition, dependsOn: [Dependency], pin: (value: UUID, location: Diagnostic.Location)?, problems: [Diagnostic])
    }

    /// The checks, and the `depends_on:` entries of each (by index), resolved once every check
    /// is known. Each file's definitions are built on every core (they need only the
    /// projects); duplicates are found in file order, on the calling thread, each file's as soon
    /// as its definitions are built.
    private mutating func collectChecks(_ files: [FileDraft], projects: [String: ProjectDraft]) -> ([CheckDefinition], [[Dependency]]) {
        let total = files.reduce(0) { $0 + $1.checks.count }
        let channelNames = projects.mapValues { $0.project.channels.map(\.name) }
        // Each project's table sized for the checks of the files that name it (`project:`): a
        // table grown a check at a time is hashed again at each doubling.
        var sizes: [String: Int] = [:]
        for file in files { sizes[file.project?.name ?? Project.defaultID, default: 0] += file.checks.count }
        var checks: [CheckDefinition] = []
        var dependencies: [[Dependency]] = []
        checks.reserveCapacity(total)
        dependencies.reserveCapacity(total)
        // Project -> key -> where the first check with it is in `checks`. The current project's
        // table is taken out while its checks are read (a file's are usually all of one): one
        // key is hashed per check, not the whole identity, and no table is looked up per check.
        var seenByProject: [String: [String: Int]] = [:]
        var project = ""
        var seen: [String: Int] = [:]
        /// Where checks refused for a pinned UUID another pins were declared.
        var refused: [Diagnostic.Location] = []
        var pinned: [UUID: (check: String, location: Diagnostic.Location)] = [:]
        parallelMap(files.count, { index in Self.steps(files[index], projects: projects, channelNames: channelNames) }, inOrder: { _, fileSteps in
            // A file's steps (last first) are moved from one by one (popped, so not copied: a
            // copy retains everything in a definition), and let go once read.
            while let step = fileSteps.popLast() {
                switch consume step {
                case .unknownProject(let reference):
                    reportUnknownProject(reference, known: projects.keys)
                case .check(let definition, let dependsOn, let pin, let problems):
                    let id = definition.id
                    if id.project != project {
                        seenByProject[project] = seen
                        project = id.project
                        seen = seenByProject.removeValue(forKey: project) ?? Dictionary(minimumCapacity: sizes[project] ?? fileSteps.count + 1)
                    }
                    // Where it will be, unless its key is taken (one hash per check): the first
                    // keeps its place. (At or above 0 a position in `checks`; below, one in `refused`.)
                    if let first = seen.updateValue(checks.count, forKey: id.key) {
                        seen[id.key] = first
                        let firstLocation = first >= 0 ? checks[first].location : refused[-1 - first]
                        diagnostics.append(Diagnostic(
                            .error, .duplicateCheck, "check '\(id.key)' is declared twice in project '\(id.project)'",
                            at: definition.location, notes: [Diagnostic.Note("first declared here", at: firstLocation)]))
                        continue
                    }
                    if let pin {
                        if let first = pinned[pin.value] {
                            // Refused, but its key is taken: a later check with it is the duplicate.
                            seen[id.key] = -1 - refused.count
                            refused.append(definition.location)
                            diagnostics.append(Diagnostic(
                                .error, .duplicateCheck,
                                "check '\(id)' pins the UUID \(pin.value.uuidString.lowercased()), which '\(first.check)' pins too; a UUID names one check",
                                at: pin.location, notes: [Diagnostic.Note("'\(first.check)' pins it here", at: first.location)]))
                            continue
                        }
                        pinned[pin.value] = ("\(id)", pin.location)
                    }
                    // (Appending an empty array is not free: a million checks have no problems.)
                    if !problems.isEmpty { diagnostics += problems }
                    checks.append(definition)
                    dependencies.append(dependsOn)
                }
            }
        })
        return (checks, dependencies)
    }

    /// One file's checks as steps (see `Step`), last first; touches nothing shared.
    private static func steps(_ file: FileDraft, projects: [String: ProjectDraft], channelNames: [String: [String]]) -> [Step] {
        var steps: [Step] = []
        steps.reserveCapacity(file.checks.count + 1)
        let unknownFileProject = file.project.flatMap { projects[$0.name] == nil ? $0 : nil }
        // The project of the check before, looked up again only when it changes (once a file);
        // its parts kept apart, so that no check copies the whole project.
        var currentID: String?
        var defaults = CheckDefaults()
        var projectMaintenance: [MaintenanceWindow] = []
        var names: [String] = []
        // Last first: the collector pops them off the end in file order, moving each once (a
        // reversal would move every step three more times). Drafts are read in place through
        // the buffer: a binding or an array's subscript would copy each (a dozen retains).
        file.checks.withUnsafeBufferPointer { drafts in
            for index in drafts.indices.reversed() {
                let projectID: String
                if let reference = drafts[index].project {
                    guard projects[reference.name] != nil else {
                        steps.append(.unknownProject(reference))
                        continue
                    }
                    projectID = reference.name
                } else {
                    guard unknownFileProject == nil else { continue }
                    projectID = file.project?.name ?? Project.defaultID
                }
                if currentID != projectID {
                    guard let project = projects[projectID]?.project, let projectNames = channelNames[projectID] else { continue }
                    (currentID, defaults, projectMaintenance, names) = (projectID, project.defaults, project.maintenance, projectNames)
                }
                var problems: [Diagnostic] = []
                for reference in drafts[index].channelReferences where !names.contains(reference.name) {
                    problems.append(unknownChannel(reference, project: projectID, known: names))
                }
                var check = definition(drafts[index], id: CheckDefinition.ID(project: projectID, key: drafts[index].key), defaults: defaults)
                if !projectMaintenance.isEmpty || !drafts[index].maintenance.isEmpty {
                    // The project's windows first: `MaintenancePlan` tells them apart by count.
                    let zone = check.tz
                    let windows = drafts[index].maintenance.compactMap { window in
                        window.resolved(defaultZone: zone, file: window.location.file) { problems.append($0) }
                    }
                    check.maintenance = MaintenanceCalendar(projectMaintenance + windows)
                }
                steps.append(.check(check, dependsOn: drafts[index].dependsOn, pin: drafts[index].uuid, problems: problems))
            }
        }
        if let unknownFileProject { steps.append(.unknownProject(unknownFileProject)) }
        return steps
    }

    private mutating func resolve(_ window: WindowDraft, defaultZone: String) -> MaintenanceWindow? {
        window.resolved(defaultZone: defaultZone, file: window.location.file) { diagnostics.append($0) }
    }

    private static func definition(_ draft: CheckDraft, id: CheckDefinition.ID, defaults: CheckDefaults) -> CheckDefinition {
        let expectation = draft.schedule ?? .timeout(seconds: draft.timeout ?? defaults.timeout ?? CheckDefinition.defaultTimeout)
        return CheckDefinition(
            id: id,
            name: draft.name ?? draft.key,
            expectation: expectation,
            grace: draft.grace ?? defaults.grace ?? CheckDefinition.defaultGrace,
            tz: draft.tz ?? defaults.tz ?? CheckDefinition.defaultTimeZone,
            tags: draft.tags ?? defaults.tags ?? [],
            desc: draft.desc ?? "",
            methods: draft.methods ?? defaults.methods ?? .any,
            manualResume: draft.manualResume ?? defaults.manualResume ?? false,
            paused: draft.paused ?? false,
            channels: draft.channels ?? defaults.channels ?? .all,
            location: draft.location, slug: draft.slug, pinnedUUID: draft.uuid?.value)
    }

    /// The indices of `checks` in declaration order (file, line, column): the order they were
    /// collected in, unless file names sort differently as paths and as strings.
    static func declarationOrder(_ checks: [CheckDefinition]) -> [Int] {
        let inOrder = checks.indices.dropFirst().allSatisfy { !(checks[$0].location < checks[$0 - 1].location) }
        return inOrder ? Array(checks.indices) : checks.indices.sorted { checks[$0].location < checks[$1].location }
    }

    /// - Returns: whether no two checks of a project share a slug (nor is any slug too long).
    private mutating func reportSlugConflicts(_ checks: [CheckDefinition]) -> Bool {
        // A project's slugs are its own: each project's checks, in declaration order, are read
        // on a core of their own.
        var byProject: [String: [Int]] = [:]
        var project = ""
        var run: [Int] = []
        for index in Self.declarationOrder(checks) {
            if checks[index].id.project != project {
                if !run.isEmpty { byProject[project, default: []] += run }
                project = checks[index].id.project
                run = byProject.removeValue(forKey: project) ?? []
            }
            run.append(index)
        }
        if !run.isEmpty { byProject[project, default: []] += run }
        let groups = byProject.keys.sorted().map { byProject[$0] ?? [] }
        let findings = parallelMap(groups.count) { [groups] group in Self.slugFindings(checks, groups[group]) }
        for finding in findings { diagnostics += finding.diagnostics }
        return findings.allSatisfy(\.unique)
    }

    /// One project's slug conflicts and unusable slugs, its checks' indices given in
    /// declaration order.
    private static func slugFindings(_ checks: [CheckDefinition], _ indices: [Int]) -> (diagnostics: [Diagnostic], unique: Bool) {
        var diagnostics: [Diagnostic] = []
        var unique = true
        var first: [String: Int] = Dictionary(minimumCapacity: indices.count)
        for index in indices {
            // Fields read in place: a copy of the whole definition costs a dozen retains.
            let slug = checks[index].slug
            // (No character count, a grapheme walk, for the usual short ASCII slug.)
            if !slug.isEmpty, slug.utf8.count <= FileDecoder.maxNameLength || slug.count <= FileDecoder.maxNameLength {
                if let firstIndex = first.updateValue(index, forKey: slug) {
                    first[slug] = firstIndex
                    diagnostics.append(slugConflict(checks[index], first: checks[firstIndex]))
                    unique = false
                }
                continue
            }
            let check = checks[index]
            if slug.isEmpty {
                diagnostics.append(Diagnostic(
                    .warning, .emptySlug, "check '\(check.id.key)' has the name '\(check.name)', whose slug is empty; it can only be pinged by UUID",
                    at: check.location, notes: [Diagnostic.Note("give it a name with letters or digits to get a slug URL")]))
            } else {
                unique = false
                diagnostics.append(Diagnostic(
                    .error, .outOfRange, "the slug of check '\(check.id.key)' is \(slug.count) characters long; the limit is \(FileDecoder.maxNameLength)",
                    at: check.location))
            }
        }
        return (diagnostics, unique)
    }

    private static func slugConflict(_ check: CheckDefinition, first: CheckDefinition) -> Diagnostic {
        Diagnostic(
            .warning, .slugConflict,
            "checks '\(first.id.key)' and '\(check.id.key)' of project '\(check.id.project)' have the same slug '\(check.slug)'; pings to that slug URL answer 409",
            at: check.location, notes: [
                Diagnostic.Note("'\(first.id.key)' is declared here", at: first.location),
                Diagnostic.Note("rename one of them, or ping them by UUID"),
            ])
    }

    private mutating func reportDuplicatePingKeys(_ projects: [Project]) {
        var firstBySource: [Secret.Source: (project: Project, key: Secret)] = [:]
        let declared = projects.compactMap { project in project.pingKey.map { (project: project, key: $0) } }
        for (project, key) in declared.sorted(by: { $0.key.location < $1.key.location }) {
            if let first = firstBySource[key.source] {
                diagnostics.append(Diagnostic(
                    .error, .duplicatePingKey,
                    "projects '\(first.project.id)' and '\(project.id)' use the same ping key (\(key.reference)); their slug URLs would collide",
                    at: key.location, notes: [Diagnostic.Note("'\(first.project.id)' sets it here", at: first.key.location)]))
            } else {
                firstBySource[key.source] = (project, key)
            }
        }
    }

    mutating func reportUnknownProject(_ reference: Reference, known: some Collection<String>) {
        var notes: [Diagnostic.Note] = []
        if let close = Suggestion.closest(to: reference.name, in: known) { notes.append(Diagnostic.Note("did you mean '\(close)'?")) }
        notes.append(Diagnostic.Note("declare it under 'projects:' in any file"))
        diagnostics.append(Diagnostic(.error, .unknownProject, "unknown project '\(reference.name)'", at: reference.location, notes: notes))
    }

    private mutating func reportUnknownChannel(_ reference: Reference, project: String, known: [String]) {
        diagnostics.append(Self.unknownChannel(reference, project: project, known: known))
    }

    private static func unknownChannel(_ reference: Reference, project: String, known: [String]) -> Diagnostic {
        var notes: [Diagnostic.Note] = []
        if let close = Suggestion.closest(to: reference.name, in: known) { notes.append(Diagnostic.Note("did you mean '\(close)'?")) }
        notes.append(Diagnostic.Note(known.isEmpty
            ? "project '\(project)' declares no channels"
            : "channels of project '\(project)': \(known.joined(separator: ", "))"))
        return Diagnostic(.error, .unknownChannel, "unknown channel '\(reference.name)' in project '\(project)'", at: reference.location, notes: notes)
    }
}
