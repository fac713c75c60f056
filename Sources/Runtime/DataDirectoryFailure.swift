import Foundation
import PingStore

/// Why `serve` could not prepare its data directory at start (create its folders, write the
/// admin token, the generated ping keys or the UUID registry), worded for the operator: what
/// failed on which file, and what to do. The server then exits without listening: a check
/// whose UUID cannot be stored would get another one at the next start, so it is not served
/// under one that would not last (docs/reliability.md, "Full disk").
struct DataDirectoryFailure {
    var directory: String
    var errno: Int32?
    var operation: String?
    var path: String?
    var text: String

    init(directory: String, error: any Error) {
        self.directory = directory
        text = "\(error)"
        switch error {
        case let error as StoreError:
            errno = error.errno
            operation = error.operation
            path = error.path
        case let error as CatalogApplier.Failure:
            errno = error.cause?.errno
            operation = error.cause?.operation
            path = error.cause?.path
        case let error as any FailedFileOperation:
            errno = error.errno
            path = error.path
        case let error as CocoaError:
            operation = "creating"
            path = error.userInfo[NSFilePathErrorKey] as? String
            errno = (error.userInfo[NSUnderlyingErrorKey] as? POSIXError)?.code.rawValue
        default:
            break
        }
    }

    var message: String {
        let failed = path.map { "\(operation ?? "writing") '\($0)': " } ?? ""
        let reason = errno.map { String(cString: strerror($0)) } ?? text
        let again = "then start kiothc again; what this start wrote is kept and used then. Nothing is listening."
        switch errno {
        case ENOSPC:
            return "cannot start: the file system holding the data directory '\(directory)' is full (\(failed)\(reason)). "
                + "Free space on it (df '\(directory)'; a file system can also run out of inodes, df -i), "
                + "or point --data at another file system, \(again)"
        case EDQUOT:
            return "cannot start: the disk quota of the data directory '\(directory)' is used up (\(failed)\(reason)). "
                + "Free space or raise the quota of the server's user, \(again)"
        case EACCES, EPERM, EROFS:
            return "cannot start: the data directory '\(directory)' is not writable (\(failed)\(reason)). "
                + "Make it writable by the user the server runs as (uid \(getuid())), or point --data elsewhere, \(again)"
        default:
            return "cannot start: cannot prepare the data directory '\(directory)': \(text). Nothing is listening."
        }
    }
}

/// An error from a system call on a file, with its errno: `DataDirectoryFailure` gives its
/// advice from them (the HTTP side's admin token file, for one).
protocol FailedFileOperation: Error {
    var errno: Int32? { get }
    var path: String? { get }
}
