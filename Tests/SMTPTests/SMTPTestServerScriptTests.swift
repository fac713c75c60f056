import Foundation
import Testing
import TestSupport

/// The delivery tests skip (fail under CI=true) when scripts/smtp/test-server exits 3: checked
/// here with python3 taken off PATH and no venv yet.
@Suite struct SMTPTestServerScriptTests {
    @Test("without python3 the test server's script exits 3 saying what to install")
    func withoutPython3TheTestServersScriptExits3SayingWhatToInstall() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-smtp-nopython-\(UUID().uuidString.prefix(8))")
        let bin = scratch.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        for tool in ["dirname", "openssl"] {
            let found = ["/usr/bin/\(tool)", "/bin/\(tool)"].first { FileManager.default.isExecutableFile(atPath: $0) }
            let path = try #require(found, "\(tool) is missing")
            try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(tool).path, withDestinationPath: path)
        }
        let environment = ["PATH": bin.path, "KIOTHC_SMTP_VENV": scratch.appendingPathComponent("venv").path]
        let result = try await onOwnThread {
            try PostgresCluster.run("/bin/bash", [SMTPTestServer.script, "prepare"], environment: environment, timeout: 60)
        }
        #expect(result.status == 3)
        #expect(result.errors.contains("python3 is not installed (apt-get install -y python3 python3-venv)"), "\(result.errors)")
    }
}
