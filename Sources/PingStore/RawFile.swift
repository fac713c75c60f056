#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file calls the store needs, each turning errno into a `StoreError` that names
/// the file. A `RawFile` is a plain descriptor: its owner closes it.
struct RawFile: Sendable {
    let fd: Int32
    let path: String

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> RawFile {
        let fd = retrying { Glibc.open(path, flags | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw StoreError.system(errno, "open", path) }
        return RawFile(fd: fd, path: path)
    }

    /// nil when the file does not exist.
    static func openIfExists(_ path: String, _ flags: Int32) throws -> RawFile? {
        let fd = retrying { Glibc.open(path, flags | O_CLOEXEC) }
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw StoreError.system(errno, "open", path)
        }
        return RawFile(fd: fd, path: path)
    }

    func close() { _ = Glibc.close(fd) }

    func size() throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StoreError.system(errno, "fstat", path) }
        return Int(info.st_size)
    }

    /// Writes all bytes (write(2) may write fewer), at the end for an O_APPEND descriptor.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = Glibc.write(fd, base, left)
            if written < 0 {
                if errno == EINTR { continue }
                throw StoreError.system(errno, "write", path)
            }
            left -= written
            base += written
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in try write(buffer) }
    }

    /// Writes all bytes at `offset` (pwrite(2)), whatever the file offset.
    func write(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { buffer in
            guard var base = buffer.baseAddress else { return }
            var left = buffer.count
            var at = offset
            while left > 0 {
                let written = pwrite(fd, base, left, off_t(at))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.system(errno, "write", path)
                }
                left -= written
                base += written
                at += written
            }
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(at offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = out.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return pread(fd, base + done, count - done, off_t(offset + done))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw StoreError.system(errno, "read", path)
            }
            if got == 0 { break }
            done += got
        }
        out.removeSubrange(done...)
        return out
    }

    /// Bytes an unprivileged writer can still use on the file's file system; nil if unknown.
    func freeSpace() -> Int? {
        var info = statvfs()
        guard fstatvfs(fd, &info) == 0 else { return nil }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    func syncData() throws {
        guard retrying({ fdatasync(fd) }) == 0 else { throw StoreError.system(errno, "fdatasync", path) }
    }

    func sync() throws {
        guard retrying({ fsync(fd) }) == 0 else { throw StoreError.system(errno, "fsync", path) }
    }

    func truncate(to size: Int) throws {
        guard retrying({ ftruncate(fd, off_t(size)) }) == 0 else { throw StoreError.system(errno, "ftruncate", path) }
    }

    private static func retrying(_ call: () -> Int32) -> Int32 {
        var result: Int32
        repeat { result = call() } while result < 0 && errno == EINTR
        return result
    }

    private func retrying(_ call: () -> Int32) -> Int32 { Self.retrying(call) }
}

/// Directory and path operations.
enum FileSystem {
    /// fsync a directory so the names created, renamed or removed in it survive a power loss.
    static func syncDirectory(_ path: String) throws {
        let dir = try RawFile.open(path, O_RDONLY | O_DIRECTORY)
        defer { dir.close() }
        try dir.sync()
    }

    static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) != 0 && errno != EEXIST { throw StoreError.system(errno, "mkdir", path) }
    }

    static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw StoreError.system(errno, "rename to '\(to)'", from) }
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw StoreError.system(errno, "unlink", path) }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Names in a directory, without `.` and `..`; empty when it does not exist.
    static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw StoreError.system(errno, "opendir", path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Replace `path` with `bytes` so a crash leaves either the old or the new content: temp
    /// file, fsync, rename, fsync of the directory. `mode` is set explicitly (umask ignored),
    /// which matters for files holding secrets (0600).
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        try writeAtomically(to: path, mode: mode) { write in try write(bytes) }
    }

    /// As `writeAtomically(_:to:mode:)`, with the bytes written in parts by `produce` (through
    /// the function it is given), so a large file is never whole in memory.
    static func writeAtomically(to path: String, mode: mode_t = 0o644, produce: (_ write: ([UInt8]) throws -> Void) throws -> Void) throws {
        let directory = parent(of: path)
        let temp = "\(directory)/.\(basename(of: path)).tmp-\(getpid())"
        // An error names the file being replaced, the one a person knows, and the temporary.
        func named(_ error: any Error) -> any Error {
            guard var error = error as? StoreError, error.path == temp else { return error }
            error.path = path
            error.detail = "its temporary copy \(basename(of: temp))" + (error.detail.isEmpty ? "" : "; \(error.detail)")
            return error
        }
        let file: RawFile
        do {
            file = try RawFile.open(temp, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        } catch {
            throw named(error)
        }
        do {
            guard fchmod(file.fd, mode) == 0 else { throw StoreError.system(errno, "fchmod", temp) }
            // Every 8 MiB written, the disk is asked to start on them (a hint, whose failure
            // changes nothing: the fsync below is what makes them durable), so the fsync of a
            // fleet's 93 MB registry waits for the last part rather than all of it.
            var written = 0
            var flushed = 0
            try produce { bytes in
                try file.write(bytes)
                written += bytes.count
                if written - flushed >= 8 << 20 {
                    startWriteback(file.fd, from: flushed, count: written - flushed)
                    flushed = written
                }
            }
            try file.sync()
            file.close()
        } catch {
            file.close()
            _ = unlink(temp)
            throw named(error)
        }
        do {
            try rename(temp, path)
        } catch {
            _ = unlink(temp)
            throw error
        }
        try syncDirectory(directory)
    }

    /// The whole file, or nil when it does not exist.
    static func readAll(_ path: String) throws -> [UInt8]? {
        guard let file = try RawFile.openIfExists(path, O_RDONLY) else { return nil }
        defer { file.close() }
        return try file.read(at: 0, count: try file.size())
    }

    /// The first `count` bytes (fewer for a shorter file); nil when there is no file.
    static func readPrefix(_ path: String, count: Int) throws -> [UInt8]? {
        guard let file = try RawFile.openIfExists(path, O_RDONLY) else { return nil }
        defer { file.close() }
        return try file.read(at: 0, count: min(count, try file.size()))
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func basename(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

/// Asks the kernel to start writing `count` bytes of `fd` at `offset` to disk, without waiting
/// (Linux's `sync_file_range` with `SYNC_FILE_RANGE_WRITE`); nothing elsewhere.
private func startWriteback(_ fd: Int32, from offset: Int, count: Int) {
    #if os(Linux)
    _ = sync_file_range(fd, Int64(offset), Int64(count), 2)  // SYNC_FILE_RANGE_WRITE
    #endif
}

#if os(Linux)
/// glibc's `sync_file_range` (fcntl.h declares it only for _GNU_SOURCE, which the Glibc module
/// does not define).
@_silgen_name("sync_file_range")
private func sync_file_range(_ fd: Int32, _ offset: Int64, _ count: Int64, _ flags: UInt32) -> Int32
#endif
