import CheckCatalog
import Foundation
import Monitoring

/// The plan for reviewers of a pull request: `--format markdown` (a job summary or a PR comment)
/// and `--format github` (an annotation on the line of each change that breaks a ping URL).
extension CatalogChangeReport {
    /// A ping URL the change stops answering (404), or makes ambiguous (409).
    public struct BrokenURL: Sendable, Equatable {
        public enum Cause: Sendable, Equatable {
            case deleted
            case renamed
            case newUUID
            case conflict
        }
        public var check: CheckIdentity
        public var url: String
        public var cause: Cause
        /// For people: why.
        public var reason: String
        /// The URL that answers in its place, if any (a renamed check's new slug URL).
        public var now: String? = nil
    }

    /// Every ping URL the change breaks, in the order of the text plan.
    public var brokenURLs: [BrokenURL] {
        var broken: [BrokenURL] = []
        for removed in change.removed {
            broken.append(BrokenURL(check: removed.id, url: urls.uuidURL(name(removed.uuid)), cause: .deleted, reason: "deleted"))
            if let slug = removed.slug.flatMap({ urls.slugURL(project: removed.id.project, slug: $0) }), removed.slugSuccessor == nil {
                broken.append(BrokenURL(check: removed.id, url: slug, cause: .deleted, reason: "deleted"))
            }
        }
        for renamed in change.renamed where renamed.oldSlug != renamed.newSlug && renamed.oldSlugSuccessor == nil {
            guard let old = urls.slugURL(project: renamed.id.project, slug: renamed.oldSlug) else { continue }
            let new = urls.slugURL(project: renamed.id.project, slug: renamed.newSlug)
            broken.append(BrokenURL(
                check: renamed.id, url: old, cause: .renamed,
                reason: "renamed \"\(renamed.oldName)\" → \"\(renamed.newName)\"\(new == nil ? "; no slug URL now" : "")", now: new))
        }
        for repinned in change.repinned {
            broken.append(BrokenURL(
                check: repinned.id, url: urls.uuidURL(name(repinned.oldUUID)), cause: .newUUID,
                reason: "takes its pinned UUID", now: urls.uuidURL(name(repinned.newUUID))))
        }
        for conflict in change.newConflicts {
            guard let url = urls.slugURL(project: conflict.project, slug: conflict.slug) else { continue }
            for key in conflict.keys {
                broken.append(BrokenURL(
                    check: CheckIdentity(project: conflict.project, key: key), url: url, cause: .conflict,
                    reason: "slug shared by \(conflict.keys.joined(separator: ", ")): answers 409"))
            }
        }
        return broken
    }

    // MARK: Markdown

    /// A summary table, the ping URLs that break, and the whole text plan folded away.
    /// `title` heads it (a job summary holds several steps' output).
    public func markdown(title: String = "kiothc plan", live: String? = nil, appendix: String = "") -> String {
        let summary = document.summary
        var out = "### \(Self.escapeMarkdown(title))\n\n"
        if let live { out += "\(Self.escapeMarkdown(live))\n\n" }
        guard !change.isEmpty else {
            return out + "**No changes**: the configuration matches \(Self.escapeMarkdown(source)); no ping URL breaks.\n"
        }
        let broken = brokenURLs
        out += "| change | checks |\n|---|---:|\n"
        for (label, count) in [
            ("to create", summary.created), ("to delete", summary.deleted), ("to rename", summary.renamed),
            ("with changed settings", summary.changed), ("new slug conflicts", summary.new_conflicts), ("with a new UUID", summary.new_uuids),
        ] {
            out += "| \(label) | \(count) |\n"
        }
        out += "\n"
        if broken.isEmpty {
            out += "**No ping URL breaks.**\n"
        } else {
            out += "**\(broken.count) ping URL\(broken.count == 1 ? "" : "s") will break** (404, or 409 where a slug becomes shared):\n\n"
            out += "| check | URL | why |\n|---|---|---|\n"
            for item in broken {
                let now = item.now.map { "; now \(Self.code($0))" } ?? ""
                out += "| \(Self.code("\(item.check)")) | \(Self.code(item.url)) | \(Self.escapeMarkdown(item.reason))\(now) |\n"
            }
        }
        out += "\n<details><summary>The whole plan</summary>\n\n~~~text\n\(text())\(appendix)~~~\n\n</details>\n"
        return out
    }

    /// `text` as inline code in a table cell: in backticks (doubled when it holds one), with `|`
    /// escaped (GitHub's tables split cells on it even in code).
    static func code(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "|", with: "\\|")
        return text.contains("`") ? "`` \(escaped) ``" : "`\(escaped)`"
    }

    /// `text` as plain Markdown: no character of it formats, links or ends a table cell.
    static func escapeMarkdown(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "|", "#", "!": out += "\\\(character)"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }

    // MARK: GitHub

    /// One workflow command per change that breaks a ping URL, on the line a reviewer changed:
    /// a renamed check's `name:` (warning: its UUID URL keeps working), a check whose key or
    /// project changed (error, on its new key), a check given another pinned UUID (error, on its
    /// `uuid:`), a removed check (error, on its line in the base, when the base is a
    /// configuration tree: the line of the file as it was, which the message says), new slug
    /// conflicts (warning); then the summary as a notice.
    /// - Parameters:
    ///   - head: the configuration planned.
    ///   - base: where each check of the base was declared (`--against`), else empty.
    ///   - baseRoot, headRoot: the two trees' roots as given, to show a base file under the
    ///     path of the head's same file.
    public func github(head: Catalog, base: [CheckIdentity: Diagnostic.Location] = [:], baseRoot: String? = nil, headRoot: String? = nil) -> String {
        var locator = CheckFieldLocator()
        var out = ""
        func annotate(_ command: String, _ location: Diagnostic.Location?, title: String, _ message: String) {
            var properties: [String] = []
            if let location, !location.file.isEmpty {
                properties += ["file=\(DiagnosticReport.escapeProperty(location.file))", "line=\(location.line)", "col=\(location.column)"]
            }
            properties.append("title=\(DiagnosticReport.escapeProperty(title))")
            out += "::\(command) \(properties.joined(separator: ","))::\(DiagnosticReport.escapeData(message))\n"
        }
        let broken = brokenURLs
        func lost(_ id: CheckIdentity, _ cause: BrokenURL.Cause) -> String {
            broken.filter { $0.check == id && $0.cause == cause }.map(\.url).joined(separator: " and ")
        }
        // A removed check and a created one with its slug: its key or project changed.
        var moved: [CheckIdentity: CheckIdentity] = [:]
        var taken = Set<CheckIdentity>()
        for removed in change.removed {
            guard let slug = removed.slug, !slug.isEmpty,
                  let added = change.added.first(where: { $0.slug == slug && !taken.contains($0.id) }) else { continue }
            moved[removed.id] = added.id
            taken.insert(added.id)
        }
        for removed in change.removed {
            let gone = lost(removed.id, .deleted)
            if let new = moved[removed.id] {
                let what = new.project == removed.id.project ? "its key changed" : "its project changed"
                annotate(
                    "error", head.check(new)?.location, title: "check \(removed.id) becomes \(new)",
                    "\(removed.id) becomes \(new) (\(what)): a check's identity is project/key, so this is a new check with a new UUID; \(gone) will answer 404, and the old check's pings move to retired/")
                continue
            }
            var message = "\(removed.id) is deleted: \(gone) will answer 404, its pings move to retired/"
            var location: Diagnostic.Location?
            if let declared = base[removed.id] {
                location = Self.headCounterpart(of: declared, baseRoot: baseRoot, headRoot: headRoot)
                if location != nil {
                    message += " (line \(declared.line) is where the base declared it: the check is gone from this file)"
                } else {
                    message += " (the base declared it at \(DiagnosticReport.position(declared)))"
                }
            }
            annotate("error", location, title: "check \(removed.id) deleted", message)
        }
        for renamed in change.renamed {
            let gone = lost(renamed.id, .renamed)
            guard !gone.isEmpty, let check = head.check(renamed.id) else { continue }
            let line = locator.locate("slug", of: check.location) ?? locator.locate("name", of: check.location) ?? check.location
            let new = urls.slugURL(project: renamed.id.project, slug: renamed.newSlug) ?? "no slug URL"
            annotate(
                "warning", line, title: "slug URL of \(renamed.id) changes",
                "\(renamed.id) renamed \"\(renamed.oldName)\" → \"\(renamed.newName)\": \(gone) will answer 404 (new: \(new)); its UUID URL keeps working")
        }
        for repinned in change.repinned {
            guard let check = head.check(repinned.id) else { continue }
            annotate(
                "error", locator.locate("uuid", of: check.location) ?? check.location, title: "new UUID for \(repinned.id)",
                "\(repinned.id) takes its pinned UUID: \(lost(repinned.id, .newUUID)) will answer 404 (new: \(urls.uuidURL(name(repinned.newUUID)))); its old pings are kept in retired/")
        }
        for conflict in change.newConflicts {
            let first = conflict.keys.lazy.compactMap { head.check(CheckIdentity(project: conflict.project, key: $0)) }.first
            let url = urls.slugURL(project: conflict.project, slug: conflict.slug) ?? conflict.slug
            annotate(
                "warning", first.map { locator.locate("name", of: $0.location) ?? $0.location }, title: "slug conflict in \(conflict.project)",
                "\(conflict.keys.joined(separator: ", ")) share the slug '\(conflict.slug)': \(url) will answer 409 ambiguous slug")
        }
        let summary = document.summary
        let line = change.isEmpty
            ? "No changes: the configuration matches \(source)."
            : "Plan: \(summary.created) to create, \(summary.deleted) to delete, \(summary.renamed) to rename, \(summary.changed) with changed settings, \(summary.new_conflicts) new slug conflicts\(summary.new_uuids > 0 ? ", \(summary.new_uuids) with a new UUID" : ""); \(broken.count) ping URL\(broken.count == 1 ? "" : "s") break."
        out += "::notice title=kiothc plan::\(DiagnosticReport.escapeData(line))\n"
        return out
    }

    /// The head's file at the same path under its root as `location`'s under the base's, with
    /// `location`'s line: where a removed check was, in the file a reviewer sees. nil when that
    /// file is not in the head.
    static func headCounterpart(of location: Diagnostic.Location, baseRoot: String?, headRoot: String?) -> Diagnostic.Location? {
        guard let baseRoot, let headRoot else { return nil }
        let root = baseRoot.hasSuffix("/") ? baseRoot : baseRoot + "/"
        let file: String
        if location.file == baseRoot {
            file = headRoot  // one file given as the configuration
        } else if location.file.hasPrefix(root) {
            file = (headRoot.hasSuffix("/") ? headRoot : headRoot + "/") + location.file.dropFirst(root.count)
        } else {
            return nil
        }
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &directory), !directory.boolValue else { return nil }
        return Diagnostic.Location(file: file, line: location.line, column: location.column)
    }
}
