import Foundation

/// Finds the config files: `*.yaml` and `*.yml` under a directory, recursively, following
/// symlinks (ConfigMap mounts are symlinks), skipping names that start with `.` (which also
/// skips ConfigMap `..data` folders), in sorted path order. A YAML name whose symlink points
/// nowhere is listed all the same: the loader reports it, rather than the checks it held
/// silently vanishing from the plan.
public enum ConfigDirectory {
    public static func yamlFiles(under directory: String) throws(ConfigDirectoryError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw ConfigDirectoryError(message: "config directory '\(directory)' does not exist; pass --config DIR")
        }
        guard isDirectory.boolValue else {
            throw ConfigDirectoryError(message: "'\(directory)' is not a directory; --config takes the directory holding the YAML files")
        }
        var files: [String] = []
        var visited: Set<String> = []
        try walk(directory, into: &files, visited: &visited)
        return files.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
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
