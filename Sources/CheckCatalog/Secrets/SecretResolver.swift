import Foundation

/// Turns secret references into values: environment variables from a given environment,
/// files read from disk (a trailing newline is dropped, as `echo token > file` leaves one).
public struct SecretResolver: Sendable {
    public var environment: [String: String]
    public var readFile: @Sendable (String) throws -> Data

    public init(
        environment: [String: String],
        readFile: @escaping @Sendable (String) throws -> Data = { try Data(contentsOf: URL(fileURLWithPath: $0)) }
    ) {
        self.environment = environment
        self.readFile = readFile
    }

    public func resolve(_ secret: Secret) -> Result<String, Diagnostic> {
        switch secret.source {
        case .literal(let value):
            return .success(value)
        case .env(let name):
            guard let value = environment[name], !value.isEmpty else {
                return .failure(missing(secret, "environment variable '\(name)' is not set or is empty", hint: "export \(name)=… before starting the server"))
            }
            return .success(value)
        case .file(let path):
            let data: Data
            do {
                data = try readFile(path)
            } catch {
                let reason = (error as NSError).localizedFailureReason ?? "it cannot be read"
                return .failure(missing(secret, "secret file '\(path)' cannot be read: \(reason)", hint: "create it with mode 0600, holding only the secret"))
            }
            guard var value = String(data: data, encoding: .utf8) else {
                return .failure(missing(secret, "secret file '\(path)' is not UTF-8 text", hint: "write the secret as text"))
            }
            while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
            guard !value.isEmpty else {
                return .failure(missing(secret, "secret file '\(path)' is empty", hint: "write the secret into it"))
            }
            return .success(value)
        }
    }

    /// Resolves every secret of a catalog: a `missing-secret` error for each that cannot be
    /// resolved, and `duplicate-ping-key` for projects whose resolved ping keys are equal.
    public func check(_ catalog: Catalog) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var pingKeys: [String: (project: String, key: Secret)] = [:]
        for project in catalog.projects {
            for secret in project.secrets {
                if case .failure(let diagnostic) = resolve(secret) { diagnostics.append(diagnostic) }
            }
            // Literal keys were checked when the file was decoded; equal references too.
            guard let key = project.pingKey, case .success(let value) = resolve(key) else { continue }
            if case .literal = key.source {} else if !PingKey.isValid(value) {
                diagnostics.append(Diagnostic(
                    .error, .invalidValue, "ping key of project '\(project.id)' (\(key.reference)) is not valid: \(PingKey.rule)", at: key.location))
            }
            if let first = pingKeys[value] {
                guard first.key.source != key.source else { continue }
                diagnostics.append(Diagnostic(
                    .error, .duplicatePingKey,
                    "projects '\(first.project)' and '\(project.id)' resolve to the same ping key; their slug URLs would collide",
                    at: key.location, notes: [Diagnostic.Note("'\(first.project)' sets its ping key here", at: first.key.location)]))
            } else {
                pingKeys[value] = (project.id, key)
            }
        }
        return diagnostics
    }

    private func missing(_ secret: Secret, _ message: String, hint: String) -> Diagnostic {
        Diagnostic(.error, .missingSecret, message, at: secret.location, notes: [Diagnostic.Note(hint)])
    }
}

extension Project {
    /// Every secret the project declares: ping key, API keys, channel URLs and headers, the
    /// credentials of integrations.
    public var secrets: [Secret] {
        var secrets = [pingKey, readOnlyKey, readWriteKey].compactMap { $0 }
        for channel in channels {
            switch channel.kind {
            case .webhook(let base, let down, let up):
                for request in [base, down, up].compactMap({ $0 }) {
                    secrets += [request.url].compactMap { $0 } + request.headers.map(\.value)
                }
            case .integration(let integration):
                secrets += integration.secrets
            case .command, .email:
                break
            }
        }
        return secrets
    }
}
