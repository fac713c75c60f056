import CheckCatalog
import Foundation
import Monitoring
import PingStore

extension AppliedCatalog.Source {
    /// The load's digest of its files, with this build's version and commit: another build
    /// may print the same checks' settings differently.
    static func config(_ loaded: LoadResult) -> UInt64? {
        guard let digest = loaded.configDigest else { return nil }
        var hash = FNV1a()
        withUnsafeBytes(of: digest.littleEndian) { hash.add($0) }
        hash.add(BuildInfo.line.utf8)
        return hash.value
    }
}

extension Registry {
    /// One hash of every check's identity and UUID, in no particular order (a sum of each
    /// entry's hash): equal for equal tables, whatever order the dictionary holds them in.
    var digest: UInt64 {
        var sum: UInt64 = 0
        for (identity, uuid) in checks {
            var hash = FNV1a()
            hash.add(text: identity.project)
            hash.add(text: identity.key)
            withUnsafeBytes(of: uuid.uuid) { hash.add($0) }
            sum &+= hash.value
        }
        return sum
    }
}

extension FNV1a {
    /// The text's UTF-8 and a NUL, through the buffer overload (the generic one, called from
    /// here, goes through a witness table for every byte).
    fileprivate mutating func add(text: String) {
        var text = text
        text.withUTF8 { add(UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0)) { add($0) }
    }
}
