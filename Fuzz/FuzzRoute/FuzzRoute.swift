// libFuzzer harness: the ping path on a fuzzed request, without a socket. The target itself
// (the input format, the fixed catalog, a real store in a temporary directory, the responder)
// is RouteFuzzTarget.swift, a link to Tests/ServerTests/RouteFuzzTarget.swift, which the test
// suite also uses to replay the corpus. Any trap, sanitizer report or hang is a bug; so is an
// answer outside the statuses the Pinging API documents (SPEC §2), or a thrown error.
import Foundation
import Synchronization

let harnessRoot = NSTemporaryDirectory() + "kiothc-fuzz-route-\(getpid())"
let target: RouteFuzzTarget = {
    try? FileManager.default.removeItem(atPath: harnessRoot)
    // libFuzzer ends the process with exit(): the temporary directory goes then.
    atexit { try? FileManager.default.removeItem(atPath: harnessRoot) }
    return try! RouteFuzzTarget(root: harnessRoot)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRoute(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let input = FuzzRequest(bytes) else { return -1 }  // not a request: not added to the corpus
    let done = DispatchSemaphore(value: 0)
    let answer = Answer()
    Task {
        do {
            let status = try await target.status(for: input)
            answer.value.withLock { $0 = .status(status) }
        } catch {
            answer.value.withLock { $0 = .thrown("\(error)") }
        }
        done.signal()
    }
    done.wait()
    switch answer.value.withLock({ $0 }) {
    case .status(let code) where !RouteFuzzTarget.documentedStatuses.contains(code):
        fatalError("unexpected status \(code) for \(input.method) \(input.path)")
    case .thrown(let error):
        fatalError("the responder threw \(error) for \(input.method) \(input.path)")
    case .none:
        fatalError("no answer for \(input.method) \(input.path)")
    case .status:
        break
    }
    // The runtime's store compacts by itself, as in `serve`: the data directory stays small.
    return 0
}

/// What the task that answered the request saw, handed back to the fuzzer's thread.
final class Answer: Sendable {
    enum Outcome: Sendable {
        case status(Int)
        case thrown(String)
    }

    let value = Mutex<Outcome?>(nil)
}
