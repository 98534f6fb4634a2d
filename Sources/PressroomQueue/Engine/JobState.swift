/// Values of a job id's state key (``QueueKeys/job(_:)``): JSON objects, so a
/// producer can `GET` the key and read `status` either way.
enum JobState {
    /// What the consumer running a job keeps in its state key.
    static func running(consumer: String) -> String {
        #"{"status":"running","consumer":"# + jsonString(consumer) + "}"
    }

    static let runningPrefix = #"{"status":"running""#

    static func isRunning(_ value: String) -> Bool {
        value.hasPrefix(runningPrefix)
    }

    /// The record of a finished job, kept for completedTTL.
    static func succeeded(attempt: Int, finishedAt: Int64, result: String) -> String {
        #"{"status":"succeeded","attempt":\#(attempt),"finished_at":\#(finishedAt),"result":\#(result)}"#
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
