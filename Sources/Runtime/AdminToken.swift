import Foundation
import Glibc

/// The admin token (SPEC §7): it authorizes `POST /-/reload`, `/metrics` and the dashboard's
/// admin login. Generated at the first start into `<data>/admin-token` (mode 0600, 43
/// characters from a CSPRNG) or read from `--admin-token-file`. Compared in constant time.
public struct AdminToken: Sendable {
    public static let fileName = "admin-token"
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// 43 characters of a 64-letter alphabet: 258 bits.
    static let length = 43
    static let minimumLength = 16

    private let value: [UInt8]

    /// The token's text, only for the one log line at first generation and the login URL.
    public var text: String { String(decoding: value, as: UTF8.self) }

    public init(_ text: String) {
        value = Array(text.utf8)
    }

    public enum Origin: Sendable { case generated, stored, configured }

    public struct Failure: FailedFileOperation, Sendable, CustomStringConvertible {
        public let message: String
        /// The errno and file of a failed system call, for the start's advice.
        var errno: Int32? = nil
        public var path: String? = nil
        public var description: String { message }
    }

    /// The token of `--admin-token-file` when given; else the one in the data directory,
    /// created there (0600) on the first start.
    public static func load(dataDirectory: String, file: String?) throws(Failure) -> (AdminToken, Origin) {
        if let file {
            return (try read(file, what: "--admin-token-file"), .configured)
        }
        let path = "\(dataDirectory)/\(fileName)"
        if FileManager.default.fileExists(atPath: path) {
            return (try read(path, what: "the admin token file"), .stored)
        }
        let token = generated()
        try create(path, Array(token.text.utf8) + [0x0A], what: "the admin token file")
        return (token, .generated)
    }

    /// A fresh random token.
    static func generated() -> AdminToken {
        var generator = SystemRandomNumberGenerator()
        return AdminToken(String(decoding: (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }, as: UTF8.self))
    }

    private static func read(_ path: String, what: String) throws(Failure) -> AdminToken {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(message: "cannot read \(what) '\(path)'")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard text.count >= minimumLength, !text.contains(where: \.isWhitespace) else {
            throw Failure(message: "\(what) '\(path)' must hold one token of at least \(minimumLength) characters without spaces")
        }
        return AdminToken(text)
    }

    /// O_EXCL with mode 0600 from the start: the token is never readable by others, not even
    /// for a moment, and two servers starting at once cannot both write one. (The badge secret
    /// is created the same way.)
    static func create(_ path: String, _ bytes: [UInt8], what: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            throw Failure(message: "cannot create \(what) '\(path)': \(String(cString: strerror(code)))", errno: code, path: path)
        }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            // A short write sets no errno; on a local file system it means the disk is full.
            let code = written >= 0 && written < bytes.count ? ENOSPC : errno
            unlink(path)
            throw Failure(message: "cannot write \(what) '\(path)': \(String(cString: strerror(code)))", errno: code, path: path)
        }
    }

    /// Whether `Authorization: Bearer <token>` carries this token. The comparison takes the
    /// same time wherever the first difference is.
    public func authorizes(_ authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        return matches(authorization.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces))
    }

    public func matches(_ candidate: String) -> Bool {
        ConstantTime.equal(candidate.utf8, value)
    }
}
