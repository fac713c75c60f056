import Crypto
import Glibc
import Monitoring
import NIOSSL

/// The certificate chain and private key of `--tls-cert` and `--tls-key`, read from their
/// files and checked to work together: what a TLS handshake presents.
struct CertificatePair: Sendable {
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    /// What the files held: a reload that reads the same bytes changes nothing.
    let files: CertificateFiles
    /// The leaf certificate's serial number, in hexadecimal as `openssl x509 -serial` prints it.
    let serial: String
    /// SHA-256 of the leaf certificate's DER, as `openssl x509 -fingerprint -sha256` prints it.
    let fingerprint: String
    /// The leaf's validity, in seconds since the Unix epoch.
    let notBefore: Int64
    let notAfter: Int64

    /// Parses what the files held and checks the chain and key work together; each problem
    /// names the file and what is wrong with it.
    init(_ files: CertificateFiles, certificate: String, key: String) throws(CertificateProblem) {
        let certificateBytes = files.certificate
        let keyBytes = files.key
        let certificateText = String(decoding: certificateBytes, as: UTF8.self)
        guard certificateText.contains("-----BEGIN CERTIFICATE-----") else {
            throw CertificateProblem("the TLS certificate '\(certificate)' holds no PEM certificate (no '-----BEGIN CERTIFICATE-----' line)")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificateBytes)
        } catch {
            throw CertificateProblem("the TLS certificate '\(certificate)' is not a valid PEM certificate chain (a block is damaged, cut short or not a certificate)")
        }
        guard let leaf = chain.first else {
            throw CertificateProblem("the TLS certificate '\(certificate)' holds no PEM certificate")
        }
        let keyText = String(decoding: keyBytes, as: UTF8.self)
        if keyText.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || keyText.contains("Proc-Type: 4,ENCRYPTED") {
            throw CertificateProblem(
                "the TLS key '\(key)' is encrypted; kiothc needs it unencrypted (openssl pkey -in \(key) -out <new file>, then keep the new file readable by kiothc only)")
        }
        guard keyText.contains("PRIVATE KEY-----") else {
            throw CertificateProblem("the TLS key '\(key)' holds no PEM private key (no '-----BEGIN … PRIVATE KEY-----' line)")
        }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw CertificateProblem("the TLS key '\(key)' is not a valid PEM private key (damaged, cut short, or of a kind TLS cannot use)")
        }
        // What a handshake will do with them: BoringSSL refuses a key that is not the leaf's
        // (and a certificate it cannot serve), so a pair that passes here cannot fail there.
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey)))
        } catch {
            // The key was read above: BoringSSL refusing it now means it is not the leaf's.
            if error as? NIOSSLError == .failedToLoadPrivateKey || "\(error)".uppercased().contains("MISMATCH") {
                throw CertificateProblem(
                    "the TLS key '\(key)' does not match the certificate '\(certificate)' (it is the key of another certificate; replace both files together)")
            }
            throw CertificateProblem("the TLS certificate '\(certificate)' and key '\(key)' cannot be used together: \(error)")
        }
        let der: [UInt8]
        do {
            der = try leaf.toDERBytes()
        } catch {
            throw CertificateProblem("the TLS certificate '\(certificate)' cannot be encoded again: \(error)")
        }
        self.chain = chain
        self.key = privateKey
        self.files = files
        serial = Self.hex(leaf.serialNumber, separator: "")
        fingerprint = Self.hex(Array(SHA256.hash(data: der)), separator: ":")
        notBefore = Int64(leaf.notValidBefore)
        notAfter = Int64(leaf.notValidAfter)
    }

    /// Seen by new handshakes, in place of the pair the listener started with.
    var override: NIOSSLContextConfigurationOverride {
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = chain.map { .certificate($0) }
        override.privateKey = .privateKey(key)
        return override
    }

    /// How the log names it: enough to tell it from the previous one and to find it in a
    /// certificate manager.
    var summary: String {
        "serial \(serial), SHA-256 fingerprint \(fingerprint), valid until \(UTCTime.readable(notAfter * 1_000_000))"
    }

    private static func hex(_ bytes: [UInt8], separator: String) -> String {
        let digits = Array("0123456789ABCDEF")
        return bytes.map { String([digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]]) }.joined(separator: separator)
    }
}

/// The bytes of `--tls-cert` and `--tls-key`, read one after the other.
struct CertificateFiles: Sendable, Equatable {
    let certificate: [UInt8]
    let key: [UInt8]

    /// A PEM file larger than this is no certificate chain or key (a wrong path, say).
    static let largestFile = 1 << 20

    /// Blocking I/O: call it off the cooperative pool.
    static func read(certificate: String, key: String) throws(CertificateProblem) -> CertificateFiles {
        CertificateFiles(certificate: try readFile(certificate, what: "certificate"), key: try readFile(key, what: "key"))
    }

    private static func readFile(_ path: String, what: String) throws(CertificateProblem) -> [UInt8] {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw CertificateProblem("cannot read the TLS \(what) '\(path)': \(String(cString: strerror(errno)).lowercased())")
        }
        defer { Glibc.close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CertificateProblem("cannot read the TLS \(what) '\(path)': \(String(cString: strerror(errno)).lowercased())")
            }
            if count == 0 { break }
            bytes += buffer[..<count]
            guard bytes.count <= largestFile else {
                throw CertificateProblem("the TLS \(what) '\(path)' is larger than 1 MiB: not a PEM \(what == "key" ? "private key" : "certificate chain")")
            }
        }
        return bytes
    }
}

/// Why a certificate or key cannot serve: what is wrong and in which file, for the log (and,
/// at start, the error that stops `serve`).
struct CertificateProblem: Error, Sendable, CustomStringConvertible {
    let message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
