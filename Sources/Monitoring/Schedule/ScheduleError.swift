/// A schedule that cannot be parsed. The message is lower-case, has no final period, names the
/// field or part and the problem, and quotes the offending value.
public struct ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(_ message: String) {
        self.message = message
    }
}
