import Foundation
import Testing

@testable import Runtime

@Suite("What inotify watches for --config")
struct ConfigWatchTests {
    final class Folder {
        let url = URL(fileURLWithPath: FileManager.default.temporaryDirectory.path).appendingPathComponent("kiothc-watch-\(UUID().uuidString)")
            .resolvingSymlinksInPath()

        init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: url) }
    }

    @Test("one file: the directory holding it (renames over it and in-place edits are events there), also while it is missing")
    func singleFile() throws {
        let folder = try Folder()
        let file = folder.url.appendingPathComponent("kiothc.yaml")
        try Data("checks: {}\n".utf8).write(to: file)
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("sub"), withIntermediateDirectories: true)
        #expect(InotifyLoop.directoriesToWatch(file.path) == [folder.url.path])
        // Between an editor's rename of the old file aside and the write of the new one.
        try FileManager.default.removeItem(at: file)
        #expect(InotifyLoop.directoriesToWatch(file.path) == [folder.url.path])
    }

    @Test("one file that is a ConfigMap key: its directory and each directory its symlinks lead through")
    func configMapKey() throws {
        let folder = try Folder()
        let data = folder.url.appendingPathComponent("..2026_01_01_a")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data("checks: {}\n".utf8).write(to: data.appendingPathComponent("checks.yaml"))
        try FileManager.default.createSymbolicLink(atPath: folder.url.appendingPathComponent("..data").path, withDestinationPath: "..2026_01_01_a")
        try FileManager.default.createSymbolicLink(atPath: folder.url.appendingPathComponent("checks.yaml").path, withDestinationPath: "..data/checks.yaml")
        #expect(InotifyLoop.directoriesToWatch(folder.url.appendingPathComponent("checks.yaml").path) == [folder.url.path, data.path])
    }

    @Test("a directory: itself and every directory below it, as before")
    func directory() throws {
        let folder = try Folder()
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("a/b"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent(".git"), withIntermediateDirectories: true)
        #expect(
            InotifyLoop.directoriesToWatch(folder.url.path)
                == [folder.url.path, folder.url.appendingPathComponent("a").path, folder.url.appendingPathComponent("a/b").path])
    }
}
