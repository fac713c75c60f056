import Foundation
import Testing

@testable import PingStore

@Suite("The data directory lock (serve.lock)")
struct DataDirectoryLockTests {
    @Test("a second holder is refused with the first's pid until the first releases it")
    func exclusive() async throws {
        try await TemporaryDirectory.with { dir in
            let data = DataDirectory(dir.path + "/data")
            let first = try DataDirectoryLock.acquire(data)
            #expect(try readText(dir.path + "/data/serve.lock") == "\(getpid())\n")
            do throws(DataDirectoryLock.Failure) {
                _ = try DataDirectoryLock.acquire(data)
                Issue.record("the lock was taken twice")
            } catch {
                guard case .held(let directory, let path, let pid) = error else {
                    Issue.record("not refused as held: \(error)")
                    return
                }
                #expect(directory == data.path)
                #expect(path == data.path + "/serve.lock")
                #expect(pid == getpid())
                #expect("\(error)".contains("is in use by another kiothc serve (pid \(getpid()))"))
            }
            first.release()
            let again = try DataDirectoryLock.acquire(data)
            again.release()
        }
    }

    @Test("a lock file left behind, whatever it holds, does not block: only a held lock does")
    func staleFile() async throws {
        try await TemporaryDirectory.with { dir in
            for content in ["", "12345\n", "not a pid", "-1\n"] {
                try Data(content.utf8).write(to: URL(fileURLWithPath: dir.path + "/serve.lock"))
                let lock = try DataDirectoryLock.acquire(dir.data)
                #expect(try readText(dir.path + "/serve.lock") == "\(getpid())\n")
                lock.release()
            }
        }
    }

    @Test("a data directory that cannot be created is an I/O failure naming it")
    func cannotCreate() async throws {
        do throws(DataDirectoryLock.Failure) {
            _ = try DataDirectoryLock.acquire(DataDirectory("/nonexistent-parent-\(UUID().uuidString)/data"))
            Issue.record("acquired under a missing parent")
        } catch {
            guard case .io(let cause) = error else {
                Issue.record("not an I/O failure: \(error)")
                return
            }
            #expect(cause.errno == ENOENT)
        }
    }
}
