import PostgresNIO

/// A database failure said for a person: what was being done, and PostgreSQL's own message and
/// SQLSTATE when the server answered, or why the connection failed when it did not
/// (postgres-nio's errors print a generic text on purpose, to keep queries out of logs).
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let message: String
    /// The server's SQLSTATE, when it answered (e.g. 40P01 deadlock).
    public let sqlState: String?

    public var description: String { "cannot \(operation) in PostgreSQL: \(message)" }

    init(_ operation: String, _ error: any Error) {
        self.operation = operation
        if let error = error as? DatabaseError {
            message = error.message
            sqlState = error.sqlState
            return
        }
        if let transaction = error as? PostgresTransactionError {
            let inner = transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? transaction.rollbackError
            let described = inner.map { DatabaseError(operation, $0) }
            message = described?.message ?? "the transaction failed"
            sqlState = described?.sqlState
            return
        }
        guard let error = error as? PSQLError else {
            message = "\(error)"
            sqlState = nil
            return
        }
        if let info = error.serverInfo {
            let text = info[.message] ?? "error"
            let detail = info[.detail].map { " (\($0))" } ?? ""
            message = "\(text)\(detail) [SQLSTATE \(info[.sqlState] ?? "?")]"
            sqlState = info[.sqlState]
            return
        }
        sqlState = nil
        switch error.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .poolClosed:
            message = "the connection to the database was lost\(error.underlying.map { ": \($0)" } ?? "")"
        case .failedToAddSSLHandler, .sslUnsupported:
            message = "TLS to the database failed (the server may not offer it: try sslmode=disable or prefer)\(error.underlying.map { ": \($0)" } ?? "")"
        case .queryCancelled:
            message = "the query was cancelled"
        default:
            message = "\(error.code)\(error.underlying.map { ": \($0)" } ?? "")"
        }
    }

    init(operation: String, message: String) {
        self.operation = operation
        self.message = message
        sqlState = nil
    }
}
