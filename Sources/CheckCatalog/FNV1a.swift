/// FNV-1a, 64 bits: the hash of config bytes, for the config fingerprint (one hash of every
/// file) and for telling whether a file's bytes changed since it was parsed.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
    }

    /// The same for a buffer, compiled here for it: the generic one, called from another
    /// module, walked a config tree's 130 MB a byte at a time through a witness table.
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var value = value
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        self.value = value
    }

    public static func of(_ bytes: [UInt8]) -> UInt64 {
        var hash = FNV1a()
        bytes.withUnsafeBufferPointer { hash.add($0) }
        return hash.value
    }
}
