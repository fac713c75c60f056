/// A 64-bit hash of a file's bytes, to tell whether they changed since they were last read
/// (`ParsedFiles`, the config cache's checksums, `ConfigFingerprint`).
///
/// Sixteen bytes per step, each step one 64×64→128-bit multiplication of the bytes mixed with
/// the state (the construction of wyhash), where FNV-1a multiplies once per byte: a fleet's
/// 122 MB of YAML took a fifth of a second of a core to hash at every start and every poll.
/// Words are read little-endian, so every machine gives the same value: it goes into the config
/// hash that replicas compare (`kiothc_config_hash`), so do not change it. Not for tables that
/// face chosen input.
public enum ContentHash {
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let count = bytes.count
        var state = seed ^ UInt64(truncatingIfNeeded: count)
        var offset = 0
        while count - offset >= 16 {
            let first = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let second = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
            state = mix(first ^ state ^ secret.0, second ^ secret.1)
            offset += 16
        }
        // The last 0 to 15 bytes, padded with zeros; the length (in the seed) tells the padding
        // from bytes that are zero.
        var tail: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &tail) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
        state = mix(UInt64(littleEndian: tail.0) ^ state ^ secret.0, UInt64(littleEndian: tail.1) ^ secret.1)
        return mix(state ^ secret.2, UInt64(truncatingIfNeeded: count) ^ secret.3)
    }

    public static func of(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { of($0) }
    }

    public static func of(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.withUnsafeBytes { of($0) }
    }

    private static let seed: UInt64 = 0xa076_1d64_78bd_642f
    /// wyhash's constants. As bytes, none is valid UTF-8, so a word of a text file never
    /// cancels one out (a factor of zero would forget the bytes before it).
    private static let secret: (UInt64, UInt64, UInt64, UInt64) = (0xe703_7ed1_a0b4_28db, 0x8ebc_6af0_9c88_c6e3, 0x5899_65cc_7537_4cc3, 0x1d8e_4e27_c47d_124f)

    private static func mix(_ first: UInt64, _ second: UInt64) -> UInt64 {
        let product = first.multipliedFullWidth(by: second)
        return product.high ^ product.low
    }
}
