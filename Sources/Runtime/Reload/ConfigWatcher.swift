import BlockingWork
import Foundation
import Glibc
import Logging
import ServiceLifecycle
import Synchronization

/// inotify on the config tree (Linux): every directory under it, directories reached through
/// symlinks, and the directories holding the targets of symlinked files; for a single config
/// file, the directory holding it. Kubernetes updates a
/// ConfigMap volume by renaming a new `..data` symlink over the old one: that rename is an
/// event in the watched top directory. After each burst of events the watch set is rebuilt,
/// so new folders, new symlink targets and swapped ConfigMap data are watched too.
///
/// Every event only wakes the reloader, which debounces and compares content hashes: a
/// spurious event costs one fingerprint, never a reload.
struct ConfigWatcher: Service {
    let directory: String
    let queue: ReloadQueue
    let logger: Logger

    func run() async throws {
        let fd = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        guard fd >= 0 else {
            logger.warning("inotify is not available (\(String(cString: strerror(errno)))); config changes are noticed by the poll only")
            return
        }
        let loop = InotifyLoop(fd: fd, directory: directory, queue: queue, logger: logger)
        let finished = loop.start()
        try? await gracefulShutdown()
        loop.stop()
        await finished.value
        close(fd)
    }
}

/// The blocking side: one thread waiting in poll(2) on the inotify descriptor.
final class InotifyLoop: Sendable {
    static let mask = UInt32(IN_MODIFY) | UInt32(IN_ATTRIB) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_FROM) | UInt32(IN_MOVED_TO)
        | UInt32(IN_CREATE) | UInt32(IN_DELETE) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)

    let fd: Int32
    let directory: String
    let queue: ReloadQueue
    let logger: Logger
    private let stopped = Mutex(false)

    init(fd: Int32, directory: String, queue: ReloadQueue, logger: Logger) {
        self.fd = fd
        self.directory = directory
        self.queue = queue
        self.logger = logger
    }

    func stop() { stopped.withLock { $0 = true } }

    /// Starts the thread; the task completes when it has exited.
    func start() -> Task<Void, Never> {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        startThread(named: "kiothc-inotify") { [self] in
            loop()
            continuation.finish()
        }
        return Task { for await _ in stream {} }
    }

    private func loop() {
        var watches: [String: Int32] = [:]
        rewatch(&watches)
        logger.info("watching \(watches.count) director\(watches.count == 1 ? "y" : "ies") of \(directory) for changes (inotify)")
        // A change between the start's load and these watches made no event: look once. The
        // reloader skips the reload when the content hash is the one loaded.
        queue.notice(.file)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !stopped.withLock({ $0 }) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = Glibc.poll(&poller, 1, 200)
            if ready < 0 && errno != EINTR {
                logger.error("inotify poll failed: \(String(cString: strerror(errno))); config changes are noticed by the poll only")
                return
            }
            guard ready > 0 else { continue }
            var events = 0
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                events += Self.countEvents(buffer, count)
            }
            if events > 0 {
                queue.notice(.file)
                rewatch(&watches)
            }
        }
    }

    /// Number of records in a read of `count` bytes (the names are not needed: any change in
    /// a watched directory is a reason to look).
    static func countEvents(_ buffer: [UInt8], _ count: Int) -> Int {
        let header = MemoryLayout<inotify_event>.size
        var offset = 0
        var events = 0
        while offset + header <= count {
            let length = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) }
            offset += header + Int(length)
            events += 1
        }
        return events
    }

    /// Brings the watch set in line with the tree as it is now.
    private func rewatch(_ watches: inout [String: Int32]) {
        let wanted = Self.directoriesToWatch(directory)
        for (path, descriptor) in watches where !wanted.contains(path) {
            inotify_rm_watch(fd, descriptor)
            watches[path] = nil
        }
        for path in wanted where watches[path] == nil {
            let descriptor = inotify_add_watch(fd, path, Self.mask)
            if descriptor >= 0 {
                watches[path] = descriptor
            } else {
                logger.debug("cannot watch \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Real paths of: the config directory, every directory below it (following symlinks,
    /// skipping names starting with `.` as the loader does), and the directory of the target
    /// of every symlink met on the way, so edits behind a link are seen. For a single config
    /// file: the directory holding it (an editor that saves by writing a new file and renaming
    /// it over the old one replaces the file, not that directory), and the directories its
    /// symlinks lead through (a ConfigMap key: `checks.yaml -> ..data/checks.yaml`).
    static func directoriesToWatch(_ root: String) -> Set<String> {
        var result: Set<String> = []
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        // Also while the path is missing: between an editor's rename of the old file aside and
        // the write of the new one, the watch must stay on the directory that will hold it.
        if !files.fileExists(atPath: root, isDirectory: &isDirectory) || !isDirectory.boolValue {
            result.insert(URL(fileURLWithPath: root).deletingLastPathComponent().resolvingSymlinksInPath().path)
            watchLinks(from: root, into: &result)
            return result
        }
        var stack = [root]
        while let directory = stack.popLast() {
            let real = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
            guard result.insert(real).inserted else { continue }
            guard let names = try? files.contentsOfDirectory(atPath: directory) else { continue }
            for name in names where !name.hasPrefix(".") {
                let path = directory + "/" + name
                var isDirectory: ObjCBool = false
                guard files.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    stack.append(path)
                } else {
                    watchLinks(from: path, into: &result)
                }
            }
        }
        return result
    }

    /// For a symlinked file (a ConfigMap key, a shared file): the directory of each hop on the
    /// way to where it really lives (`..data` -> `..2024_...`); nothing for a plain file.
    private static func watchLinks(from path: String, into result: inout Set<String>) {
        let files = FileManager.default
        var hop = path
        for _ in 0..<8 {
            guard let target = try? files.destinationOfSymbolicLink(atPath: hop) else { break }
            let base = URL(fileURLWithPath: hop).deletingLastPathComponent()
            hop = target.hasPrefix("/") ? target : base.appendingPathComponent(target).path
            result.insert(URL(fileURLWithPath: hop).deletingLastPathComponent().resolvingSymlinksInPath().path)
        }
    }
}
