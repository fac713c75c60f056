import Foundation
import Glibc
import PingStore
import Testing
@testable import Runtime
@testable import Server

/// The message `serve` exits with when it cannot prepare its data directory at start
/// (scripts/faults/full-disk.py runs the real thing on a full and a read-only tmpfs).
@Suite("Data directory failure at start")
struct DataDirectoryFailureTests {
    @Test("a full file system: the file, the reason, where to free space, and to start again")
    func full() {
        let error = StoreError(.system(errno: ENOSPC), operation: "write", path: "/srv/data/registry.json")
        let message = DataDirectoryFailure(directory: "/srv/data", error: error).message
        #expect(message.hasPrefix("cannot start: the file system holding the data directory '/srv/data' is full"))
        #expect(message.contains("(write '/srv/data/registry.json': No space left on device)"))
        #expect(message.contains("df '/srv/data'") && message.contains("df -i") && message.contains("start kiothc again"))
        // Not the store's advice for a running server ("recovers by itself").
        #expect(!message.contains("by itself"))
    }

    @Test("the cause is found behind the applier's failure, the admin token's and Foundation's")
    func wrapped() {
        let store = StoreError(.system(errno: ENOSPC), operation: "write", path: "/d/ping-keys.json")
        let applier = CatalogApplier.Failure(message: "cannot write the data directory '/d': \(store)", cause: store)
        #expect(DataDirectoryFailure(directory: "/d", error: applier).message.contains("(write '/d/ping-keys.json': No space left on device)"))
        let token = AdminToken.Failure(message: "cannot write the admin token file '/d/admin-token'", errno: EDQUOT, path: "/d/admin-token")
        #expect(DataDirectoryFailure(directory: "/d", error: token).message.hasPrefix("cannot start: the disk quota of the data directory '/d' is used up"))
        let cocoa = CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "/d/alerts", NSUnderlyingErrorKey: POSIXError(.ENOSPC)])
        #expect(DataDirectoryFailure(directory: "/d", error: cocoa).message.contains("(creating '/d/alerts': No space left on device)"))
    }

    @Test("a read-only or forbidden directory: make it writable; anything else: the error as it is")
    func otherErrors() {
        for code in [EROFS, EACCES, EPERM] {
            let error = StoreError(.system(errno: code), operation: "mkdir", path: "/d/pings")
            let message = DataDirectoryFailure(directory: "/d", error: error).message
            #expect(message.hasPrefix("cannot start: the data directory '/d' is not writable (mkdir '/d/pings': "))
            #expect(message.contains("Make it writable by the user the server runs as (uid \(getuid()))"))
        }
        let corrupt = StoreError(.corrupt, operation: "read", path: "/d/registry.json", detail: "not JSON")
        #expect(DataDirectoryFailure(directory: "/d", error: corrupt).message
            == "cannot start: cannot prepare the data directory '/d': '/d/registry.json' is damaged: not JSON. Nothing is listening.")
    }
}
