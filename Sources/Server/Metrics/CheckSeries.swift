import CheckCatalog
import Hummingbird
import Monitoring
import Runtime

/// Healthchecks' per-check series (`hc_check_up` is 1 unless the check is down, as there), with
/// a `project` label added, for the checks a viewer may see; then `hc_tag_up` and the totals.
///
/// Every check's state is read and its status evaluated once, when the scrape starts (one
/// moment for all families, as before streaming), into a byte of flags. The families are then
/// written from those, family after family and check after check, into the response's chunks:
/// a scrape holds about 80 bytes per check (references to its label values, its flags, its
/// unique key), never its text.
struct CheckSeries {
    /// A check's value in each family: one bit per family.
    struct Flags: OptionSet {
        let rawValue: UInt8
        static let up = Flags(rawValue: 1 << 0)
        static let started = Flags(rawValue: 1 << 1)
        static let grace = Flags(rawValue: 1 << 2)
        static let paused = Flags(rawValue: 1 << 3)
        static let inMaintenance = Flags(rawValue: 1 << 4)
    }

    struct Family {
        let name: StaticString
        let header: String
        let flag: Flags

        init(_ name: StaticString, _ help: String, _ flag: Flags) {
            self.name = name
            header = "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            self.flag = flag
        }
    }

    /// In the order they are written.
    static let families = [
        Family("hc_check_up", "For every check, whether it is up (1) or down (0); new, late and paused checks count as up.", .up),
        Family("hc_check_started", "For every check, whether a run is open (a start ping not yet closed).", .started),
        Family("hc_check_grace", "For every check, whether it is late and within its grace period.", .grace),
        Family("hc_check_paused", "For every check, whether it is paused.", .paused),
        Family(
            "kiothc_check_in_maintenance", "For every check, whether one of its maintenance windows is in progress (its alerts are held).",
            .inMaintenance),
    ]

    /// `CheckView.uniqueKey`'s length: 40 hex digits.
    static let uniqueKeyLength = 40

    /// A check's label values, taken from its definition once per scrape: each line then
    /// retains three strings, not the whole definition (a copy of it per line was a third of
    /// a scrape's time in the profile).
    private struct Labels {
        let name: String
        let tags: [String]
        let project: String
    }

    /// The visible checks' label values, in catalog order.
    private var labels: [Labels] = []
    private var flags: [Flags] = []
    /// Each visible check's unique key, `uniqueKeyLength` bytes apiece.
    private var uniqueKeys: [UInt8] = []
    /// Per project, per tag: whether a check of the project with the tag is down.
    private var tagsDown: [String: [String: Bool]] = [:]
    private(set) var down = 0

    var count: Int { labels.count }

    init(_ snapshot: ServingCatalog, visibleTo viewer: Viewer, states: CheckStates, now: Int64) {
        let definitions = snapshot.catalog.checks
        labels.reserveCapacity(definitions.count)
        flags.reserveCapacity(definitions.count)
        uniqueKeys.reserveCapacity(definitions.count * Self.uniqueKeyLength)
        for definition in definitions {
            guard viewer.canSee(definition.id.project), let uuid = snapshot.uuid(of: definition.id) else { continue }
            let (status, started) = CheckView.liveStatus(of: states.state(of: uuid), definition, now: now)
            var value: Flags = []
            if status == .down { down += 1 } else { value.insert(.up) }
            if started { value.insert(.started) }
            if status == .grace { value.insert(.grace) }
            if status == .paused { value.insert(.paused) }
            if definition.maintenance.contains(now) { value.insert(.inMaintenance) }
            labels.append(Labels(name: definition.name, tags: definition.tags, project: definition.id.project))
            flags.append(value)
            uniqueKeys.append(contentsOf: CheckView.uniqueKey(uuid).utf8)
            for tag in definition.tags {
                // In place (`default:` inserts): one hash per level, no copy of the project's tags.
                Self.mark(&tagsDown[definition.id.project, default: [:]][tag, default: false], down: status == .down)
            }
        }
    }

    private static func mark(_ tagDown: inout Bool, down: Bool) {
        if down { tagDown = true }
    }

    /// The families, `hc_tag_up` and the totals, handed to `writer` whenever `out` holds a chunk.
    func write(to out: inout ExpositionBuffer, _ writer: inout any ResponseBodyWriter) async throws {
        for family in Self.families {
            out.write(family.header)
            for index in labels.indices {
                writeLine(family, index, to: &out)
                if out.isFull { try await out.flush(to: &writer) }
            }
        }
        // Healthchecks' hc_tag_up: per tag, 0 when a check with the tag is down. Per project
        // here (tags are a project's, as there), with the `project` label the checks have.
        out.write("# HELP hc_tag_up For every tag of a project, whether all its checks with the tag are up (1) or one is down (0).\n")
        out.write("# TYPE hc_tag_up gauge\n")
        for (project, tags) in tagsDown.sorted(by: { $0.key < $1.key }) {
            for (tag, down) in tags.sorted(by: { $0.key < $1.key }) {
                out.write(#"hc_tag_up{tag=""#)
                out.writeLabelValue(tag)
                out.write(#"",project=""#)
                out.writeLabelValue(project)
                out.write(down ? "\"} 0\n" : "\"} 1\n")
                if out.isFull { try await out.flush(to: &writer) }
            }
        }
        out.write("# HELP hc_checks_total The number of checks.\n# TYPE hc_checks_total gauge\nhc_checks_total ")
        out.write(count)
        out.write("\n# HELP hc_checks_down_total The number of checks that are down.\n# TYPE hc_checks_down_total gauge\nhc_checks_down_total ")
        out.write(down)
        out.write("\n")
    }

    /// `family{name="…",tags="…",unique_key="…",project="…"} 0|1`.
    private func writeLine(_ family: Family, _ index: Int, to out: inout ExpositionBuffer) {
        let check = labels[index]
        out.write(family.name)
        out.write(#"{name=""#)
        out.writeLabelValue(check.name)
        out.write(#"",tags=""#)
        // Joined by spaces: escaping each tag escapes the joined text.
        for (number, tag) in check.tags.enumerated() {
            if number > 0 { out.write(" ") }
            out.writeLabelValue(tag)
        }
        out.write(#"",unique_key=""#)
        uniqueKeys.withUnsafeBytes { keys in
            out.write(UnsafeRawBufferPointer(rebasing: keys[index * Self.uniqueKeyLength..<(index + 1) * Self.uniqueKeyLength]))
        }
        out.write(#"",project=""#)
        out.writeLabelValue(check.project)
        out.write(flags[index].contains(family.flag) ? "\"} 1\n" : "\"} 0\n")
    }
}
