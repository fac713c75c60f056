/// The message as DATA carries it (RFC 5321 §4.5.2).
enum DotStuffing {
    /// `data` with every line ending as CRLF (a lone CR or LF too, so that nothing in the
    /// message can pass for the end of the data: "SMTP smuggling"), a "." doubled at the start
    /// of a line, and the final "." line.
    static func terminated(_ data: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(data.count + data.count / 50 + 5)
        var atLineStart = true
        var index = 0
        while index < data.count {
            let byte = data[index]
            index += 1
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                if byte == UInt8(ascii: "\r"), index < data.count, data[index] == UInt8(ascii: "\n") { index += 1 }
                output += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
                atLineStart = true
                continue
            }
            if atLineStart, byte == UInt8(ascii: ".") { output.append(UInt8(ascii: ".")) }
            output.append(byte)
            atLineStart = false
        }
        if !atLineStart { output += [UInt8(ascii: "\r"), UInt8(ascii: "\n")] }
        output += Array(".\r\n".utf8)
        return output
    }
}
