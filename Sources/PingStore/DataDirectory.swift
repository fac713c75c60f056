import Foundation
import Monitoring

/// Where everything lives under `--data` (docs/storage.md describes the layout).
public struct DataDirectory: Sendable, Hashable {
    public let path: String

    public init(_ path: String) {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.path = trimmed
    }

    var pings: String { "\(path)/pings" }
    var flips: String { "\(path)/flips" }
    var journal: String { "\(path)/journal" }
    var retired: String { "\(path)/retired" }
    /// Shared with the outbox (module Alerting), which keeps `outbox.jsonl` there.
    var alerts: String { "\(path)/alerts" }
    /// The alerts of stored flips, written by the store in the flip's own batch; the outbox
    /// ingests them (docs/storage.md).
    public var queuedAlerts: String { "\(alerts)/queued.jsonl" }
    var registry: String { "\(path)/registry.json" }
    var pingKeys: String { "\(path)/ping-keys.json" }
    /// The config files as last decoded (`ParsedFiles.persisted`): a cache, safe to delete.
    public var configCache: String { "\(path)/config-cache" }
    /// Present only between a complete `close()` in fsync mode and the next open.
    var cleanShutdown: String { "\(path)/clean-shutdown" }
    /// `serve.lock` (`DataDirectoryLock`): not data; a copy or a backup of the directory skips it.
    var lock: String { "\(path)/\(DataDirectoryLock.fileName)" }

    func pingFile(_ check: UUID) -> String { "\(pings)/\(Self.name(check)).jsonl" }
    func flipFile(_ check: UUID) -> String { "\(flips)/\(Self.name(check)).jsonl" }
    func retiredPingFile(_ check: UUID) -> String { "\(retired)/\(Self.name(check)).jsonl" }
    func retiredFlipFile(_ check: UUID) -> String { "\(retired)/\(Self.name(check)).flips.jsonl" }
    /// The file a journal record of `log` belongs to.
    func file(of log: Journal.Log, _ check: UUID) -> String {
        switch log {
        case .pings: pingFile(check)
        case .flips: flipFile(check)
        case .alerts: queuedAlerts
        }
    }

    func journalSegment(_ sequence: Int) -> String {
        "\(journal)/\(String(repeating: "0", count: max(0, 12 - String(sequence).count)))\(sequence).wal"
    }

    /// Canonical lower-case form, as ping URLs use.
    static func name(_ check: UUID) -> String { check.lowercasedText }

    /// The UUID a `<uuid>.jsonl` file name stands for; nil for other names (temp files, ...).
    static func check(fromFileName name: String) -> UUID? {
        guard name.hasSuffix(".jsonl"), !name.hasPrefix(".") else { return nil }
        let stem = name.dropLast(".jsonl".count)
        guard let uuid = UUID(canonicalText: stem) else { return nil }
        return uuid
    }

    /// `config-cache`'s bytes; nil when there is none.
    public func readConfigCache() throws -> [UInt8]? {
        try FileSystem.readAll(configCache)
    }

    /// Replaces `config-cache` (by a rename: a reader sees the old file or the new one).
    public func writeConfigCache(_ bytes: [UInt8]) throws {
        try FileSystem.writeAtomically(bytes, to: configCache, mode: 0o600)
    }

    /// Create the directory and its subdirectories if missing.
    func create() throws {
        try FileSystem.makeDirectory(path)
        for sub in [pings, flips, journal, retired, alerts] { try FileSystem.makeDirectory(sub) }
    }
}
