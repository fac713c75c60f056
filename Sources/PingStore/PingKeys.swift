import Foundation

/// `ping-keys.json` (mode 0600): ping keys generated for projects whose config names none
/// (SPEC §1.2), kept so slug URLs survive restarts. A value owned by the config loader.
public struct PingKeys: Sendable, Equatable {
    /// 22 characters of `[a-z0-9]`: about 113 bits.
    public static let length = 22
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)

    public private(set) var keys: [String: String]
    public let path: String?

    public init(keys: [String: String] = [:], path: String? = nil) {
        self.keys = keys
        self.path = path
    }

    public static func load(from data: DataDirectory) throws -> PingKeys {
        guard let bytes = try FileSystem.readAll(data.pingKeys) else { return PingKeys(path: data.pingKeys) }
        let document: PingKeysDocument
        do {
            document = try JSONDecoder().decode(PingKeysDocument.self, from: Data(bytes))
        } catch {
            throw StoreError(.corrupt, operation: "load", path: data.pingKeys,
                             detail: "not a ping key file (\(error)); restore it or delete it to generate new keys (slug URLs change)")
        }
        guard document.v == 1 else {
            throw StoreError(.corrupt, operation: "load", path: data.pingKeys, detail: "unknown version \(document.v)")
        }
        return PingKeys(keys: document.keys, path: data.pingKeys)
    }

    /// The project's generated key, generating and saving one on first use. `avoiding` holds
    /// keys other projects use (from config), which a new key must not equal.
    public mutating func key(for project: String, avoiding taken: Set<String> = []) throws -> String {
        if let known = keys[project] { return known }
        var generator = SystemRandomNumberGenerator()
        let generated = Set(keys.values)
        var key: String
        repeat {
            key = Self.generate(using: &generator)
        } while taken.contains(key) || generated.contains(key)
        var next = self
        next.keys[project] = key
        try next.save()
        self = next
        return key
    }

    /// Takes a key generated elsewhere (by another instance on a shared store) over this one's.
    public mutating func adopt(_ key: String, for project: String) {
        keys[project] = key
    }

    static func generate<G: RandomNumberGenerator>(using generator: inout G) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for _ in 0..<length { bytes.append(alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    func save() throws {
        guard let path else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(PingKeysDocument(v: 1, keys: keys))
        } catch {
            throw StoreError(.invalid, operation: "encode", path: path, detail: "\(error)")
        }
        try FileSystem.writeAtomically(Array(data) + [0x0A], to: path, mode: 0o600)
    }
}

private struct PingKeysDocument: Codable {
    var v: Int
    var keys: [String: String]
}
