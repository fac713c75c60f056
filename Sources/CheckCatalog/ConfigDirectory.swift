import Foundation
import Glibc

/// Finds the config files. `--config` names a directory or one file. Under a directory:
/// `*.yaml` and `*.yml` files, recursively, following symlinks (ConfigMap mounts are symlinks),
/// skipping names that start with `.` (which also skips ConfigMap `..data` folders), in sorted
/// path order. A YAML name whose symlink points nowhere is listed all the same: the loader
/// reports it, rather than the checks it held silently vanishing from the plan. A file (or a
/// symlink to one) is the whole configuration, whatever its name: it was named on purpose.
public enum ConfigDirectory {
    public static func yamlFiles(under directory: String) throws(ConfigDirectoryError) -> [String] {
        switch kind(of: directory) {
        case .missing:
            throw ConfigDirectoryError(
                message: "config directory '\(directory)' does not exist; pass --config DIR (a directory of YAML files) or --config FILE (one YAML file)")
        case .other:
            throw ConfigDirectoryError(
                message: "'\(directory)' is neither a directory nor a regular file; --config takes a directory of YAML files or one YAML file")
        case .unreadable(let reason):
            throw ConfigDirectoryError(message: "cannot read the config path '\(directory)': \(reason)")
        case .file:
            return [directory]
        case .directory:
            var files: [String] = []
            var visited: Set<String> = []
            try walk(directory, into: &files, visited: &visited)
            return files.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
    }

    /// What `--config` names, following symlinks.
    public enum Kind: Sendable, Equatable {
        case directory, file, missing
        /// A FIFO, a device, a socket: nothing to read a configuration from.
        case other
        /// stat(2) failed for another reason than absence (a directory on the way not searchable).
        case unreadable(String)
    }

    public static func kind(of path: String) -> Kind {
        var status = stat()
        guard stat(path, &status) == 0 else {
            return errno == ENOENT || errno == ENOTDIR ? .missing : .unreadable(String(cString: strerror(errno)))
        }
        switch status.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        default: return .other
        }
    }

    private static func walk(_ directory: String, into files: inout [String], visited: inout Set<String>) throws(ConfigDirectoryError) {
        // A symlink loop would otherwise recurse forever.
        let real = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        guard visited.insert(real).inserted else { return }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ConfigDirectoryError(message: "cannot list config directory '\(directory)': \(error.localizedDescription)")
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            if exists && isDirectory.boolValue {
                try walk(path, into: &files, visited: &visited)
            } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {  // or a dangling symlink
                files.append(path)
            }
        }
    }
}

public struct ConfigDirectoryError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
