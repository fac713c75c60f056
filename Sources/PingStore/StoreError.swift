#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the store could not do something, worded for the person reading the log: what failed,
/// on which file, and what to do. The server answers 503 for an append that throws.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A system call failed with this errno (ENOSPC, EIO, EACCES, ...).
        case system(errno: Int32)
        /// A file's content is not what the store wrote.
        case corrupt
        /// The store was closed.
        case closed
        /// A caller asked for something that does not exist or cannot be done.
        case invalid
    }

    public var kind: Kind
    /// The operation, e.g. `write`, `fdatasync`, `rename`.
    public var operation: String
    /// The file or directory involved.
    public var path: String
    public var detail: String

    public init(_ kind: Kind, operation: String, path: String, detail: String = "") {
        self.kind = kind
        self.operation = operation
        self.path = path
        self.detail = detail
    }

    static func system(_ code: Int32, _ operation: String, _ path: String) -> StoreError {
        StoreError(.system(errno: code), operation: operation, path: path)
    }

    /// The errno for system errors, so callers can tell a full disk from a broken one.
    public var errno: Int32? {
        if case .system(let code) = kind { return code }
        return nil
    }

    public var description: String {
        switch kind {
        case .system(let code):
            let reason = String(cString: strerror(code))
            return "\(operation) failed on '\(path)': \(reason)\(Self.advice(code))\(detail.isEmpty ? "" : " (\(detail))")"
        case .corrupt:
            return "'\(path)' is damaged: \(detail)"
        case .closed:
            return "the ping store is closed; '\(operation)' was not done"
        case .invalid:
            return "\(operation) on '\(path)': \(detail)"
        }
    }

    private static func advice(_ code: Int32) -> String {
        switch code {
        case ENOSPC, EDQUOT: "; free space on that disk, the store recovers by itself"
        case EACCES, EPERM, EROFS: "; make the data directory writable by the server's user"
        case EIO: "; the disk reported an I/O error, check it (dmesg)"
        case EMFILE, ENFILE: "; raise the open-file limit (ulimit -n)"
        default: ""
        }
    }
}
