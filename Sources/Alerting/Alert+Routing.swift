import CheckCatalog
import Foundation
import Monitoring

extension Alert {
    /// The alerts a flip causes: one per channel of the check (its named channels, or all of its
    /// project's) whose `on:` includes the direction. None for flips that do not notify
    /// (`new→up`, `paused→up`), for flips to `paused` or `new`, or for a check paused in config.
    public static func alerts(
        for flip: Flip, of check: UUID, definition: CheckDefinition, project: Project?, lastPing: Ping?, now: Int64
    ) -> [Alert] {
        guard flip.notifies, !definition.paused, let project else { return [] }
        let direction: Channel.Direction
        switch flip.new {
        case .down: direction = .down
        case .up: direction = .up
        case .new, .paused: return []
        }
        let channels: [Channel]
        switch definition.channels {
        case .all: channels = project.channels
        case .named(let names): channels = names.compactMap { project.channel(named: $0) }
        }
        let values = AlertValues(
            name: definition.name, slug: definition.slug, code: check.uuidString.lowercased(), status: direction.rawValue,
            now: isoSeconds(flip.time), tags: definition.tags.joined(separator: " "), project: project.name,
            exitStatus: lastPing?.exitStatus.map { String($0) } ?? "", body: lastPing?.body ?? "")
        return channels.filter { $0.on.contains(direction) }.map { channel in
            Alert(check: check, project: project.id, channel: channel.name, direction: direction, flipTime: flip.time, created: now, values: values)
        }
    }

    /// `2026-03-29T23:00:00Z`.
    public static func isoSeconds(_ microseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(microseconds / 1_000_000)))
    }
}
