import CheckCatalog
import Monitoring

/// The YAML file `kiothc import healthchecks` writes for one Healthchecks project: the project,
/// then its checks under keys derived from their slugs, each pinning its UUID and slug. The
/// text depends only on its inputs, never on their order or the time: importing the same project
/// twice writes the same bytes.
public enum ImportedConfig {
    /// `source` is the site's address as the header names it (no credentials); `pingKey` the
    /// project's ping key when the user gave it (written literally: they asked for it).
    public static func yaml(_ project: HealthchecksProject, projectID: String, source: String, pingKey: String?) -> String {
        let keyed = keys(for: project.checks)
        var out = """
            # Imported from the Healthchecks project at \(address(source)) by `kiothc import healthchecks`
            # (API v3): \(project.checks.count) check\(project.checks.count == 1 ? "" : "s"), \(project.channels.count) channel\(project.channels.count == 1 ? "" : "s"). Importing again writes the same file.
            # Each check pins its Healthchecks UUID and slug, so existing ping URLs keep working.
            projects:
              \(scalar(projectID)):

            """
        if let pingKey {
            out += "    ping_key: \(scalar(pingKey))  # consider {env: NAME} or {file: PATH} instead of the literal key\n"
        } else {
            out += """
                    # ping_key: the Healthchecks project's ping key keeps its slug URLs (/ping/<ping key>/<slug>)
                    # working; set it without writing the secret here, e.g. ping_key: {env: \(projectID.uppercased().replacingOccurrences(of: "-", with: "_"))_PING_KEY}

                """
        }
        if !project.channels.isEmpty {
            let users = channelUsers(keyed)
            out += """
                    # Healthchecks' API lists only each channel's id, name and kind, not its settings, so no
                    # channel is imported; declare the ones you need under channels: (docs/alerts.md).

                """
            for channel in project.channels.sorted(by: { ($0.name, $0.kind, $0.id) < ($1.name, $1.kind, $1.id) }) {
                let used = users[channel.id] ?? []
                out += "    # channel \(quoted(channel.name)) (\(address(channel.kind)), id \(address(channel.id))) not imported: its settings are not in Healthchecks' API"
                out += used.isEmpty ? "; no check uses it\n" : "; used by \(used.joined(separator: ", "))\n"
            }
        }
        out += "project: \(scalar(projectID))\n"
        if keyed.isEmpty {
            out += "checks: {}\n"
            return out
        }
        out += "checks:\n"
        for (key, check) in keyed {
            out += "  \(scalar(key)):\n"
            out += "    uuid: \(check.uuid)\n"
            if check.slug.isEmpty {
                out += "    # no slug in Healthchecks: ping it by UUID\n"
            } else {
                out += "    slug: \(scalar(check.slug))\n"
            }
            if !check.name.isEmpty { out += "    name: \(scalar(check.name))\n" }
            if !check.desc.isEmpty { out += "    desc: \(scalar(check.desc))\n" }
            switch check.schedule {
            case .timeout(let seconds):
                out += "    timeout: \(duration(seconds))\n"
            case .schedule(let expression, let tz):
                out += "    schedule: \(quoted(expression))\n"
                out += "    tz: \(scalar(tz))\n"
            }
            out += "    grace: \(duration(check.grace))\n"
            if !check.tags.isEmpty { out += "    tags: [\(check.tags.map(scalar).joined(separator: ", "))]\n" }
            if !check.methods.isEmpty { out += "    methods: \(scalar(check.methods))\n" }
            if check.manualResume { out += "    manual_resume: true\n" }
            if check.paused { out += "    paused: true\n" }
        }
        return out
    }

    /// A check key for each check, in key order: its slug made an identifier (`[a-z0-9][a-z0-9_-]*`,
    /// at most 64 characters), else `check`; on a collision the checks are taken by UUID and the
    /// later ones get `-2`, `-3`, … .
    public static func keys(for checks: [HealthchecksProject.Check]) -> [(key: String, check: HealthchecksProject.Check)] {
        let ordered = checks.map { (base: baseKey($0), check: $0) }.sorted { ($0.base, $0.check.uuid) < ($1.base, $1.check.uuid) }
        let bases = Set(ordered.map(\.base))
        var taken: Set<String> = []
        var result: [(key: String, check: HealthchecksProject.Check)] = []
        for (base, check) in ordered {
            var key = base
            var number = 1
            while taken.contains(key) || (key != base && bases.contains(key)) {
                number += 1
                let suffix = "-\(number)"
                key = String(base.prefix(maxKeyLength - suffix.count)) + suffix
            }
            taken.insert(key)
            result.append((key, check))
        }
        return result.sorted { $0.key < $1.key }
    }

    static let maxKeyLength = 64

    static func baseKey(_ check: HealthchecksProject.Check) -> String {
        let source = check.slug.isEmpty ? Slug.slugify(check.name) : check.slug
        var key = String(source.lowercased().unicodeScalars.filter { isKeyCharacter($0) }.map(Character.init))
        while let first = key.unicodeScalars.first, !isAlphanumeric(first) { key.removeFirst() }
        key = String(key.prefix(maxKeyLength))
        return key.isEmpty ? "check" : key
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    private static func isKeyCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isAlphanumeric(scalar) || scalar == "-" || scalar == "_"
    }

    private static func channelUsers(_ keyed: [(key: String, check: HealthchecksProject.Check)]) -> [String: [String]] {
        var users: [String: [String]] = [:]
        for (key, check) in keyed {
            for id in check.channelIDs { users[id, default: []].append(key) }
        }
        return users
    }

    /// Seconds in the config's duration syntax, largest units first: `1d6h`, `90` → `1m30s`.
    public static func duration(_ seconds: Int) -> String { DurationSyntax.format(seconds) }

    /// A string as a YAML scalar: plain when it cannot be read as anything else (a letter, then
    /// letters, digits, spaces and `-_./()`; not a word YAML reads as a boolean or null), else
    /// double-quoted.
    public static func scalar(_ text: String) -> String {
        let plainWords: Set<String> = ["true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf"]
        guard let first = text.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic,
              text.last != " ", !plainWords.contains(text.lowercased()),
              text.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || " -_./()".unicodeScalars.contains($0)) })
        else { return quoted(text) }
        return text
    }

    /// A YAML double-quoted scalar: `\` and `"` escaped, and every character YAML would not keep
    /// as it is (control characters, line and paragraph separators, BOM) as an escape.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let value = scalar.value
                let printable = (0x20...0x7E).contains(value) || (0xA0...0xD7FF).contains(value) && value != 0x2028 && value != 0x2029
                    || (0xE000...0xFFFD).contains(value) && value != 0xFEFF || (0x10000...0x10FFFF).contains(value)
                if printable {
                    out.unicodeScalars.append(scalar)
                } else if value <= 0xFFFF {
                    out += "\\u" + hex(value, width: 4)
                } else {
                    out += "\\U" + hex(value, width: 8)
                }
            }
        }
        return out + "\""
    }

    /// A word or URL in a comment: as it is when it is printable ASCII without spaces, else
    /// double-quoted, so that no line break can end the comment.
    static func address(_ text: String) -> String {
        text.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) } && !text.isEmpty ? text : quoted(text)
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
