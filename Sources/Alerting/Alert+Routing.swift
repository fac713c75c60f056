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
        var channels: [Channel]
        switch definition.channels {
        case .all: channels = project.channels
        case .named(let names): channels = names.compactMap { project.channel(named: $0) }
        }
        channels.removeAll { !$0.on.contains(direction) }
        // Most checks of a large installation may have no channel: no values to build then.
        guard !channels.isEmpty else { return [] }
        let values = AlertValues(
            name: definition.name, slug: definition.slug, code: check.uuidString.lowercased(), status: direction.rawValue,
            now: UTCTime.secondsZ(flip.time), tags: definition.tags.joined(separator: " "), project: project.name,
            exitStatus: lastPing?.exitStatus.map { String($0) } ?? "", body: lastPing?.body ?? "",
            schedule: scheduleText(definition), lastPing: lastPing.map { UTCTime.secondsZ($0.time) } ?? "")
        return channels.map { channel in
            Alert(check: check, project: project.id, channel: channel.name, direction: direction, flipTime: flip.time, created: now, values: values)
        }
    }

    /// `every 1 day, grace 1 hour`; `0 2 * * * (Europe/Riga), grace 30 minutes`.
    static func scheduleText(_ definition: CheckDefinition) -> String {
        let grace = "grace \(TimeText.duration(definition.grace))"
        switch definition.expectation {
        case .timeout(let seconds): return "every \(TimeText.duration(seconds)), \(grace)"
        case .schedule(let schedule): return "\(schedule.expression) (\(definition.tz)), \(grace)"
        }
    }
}
