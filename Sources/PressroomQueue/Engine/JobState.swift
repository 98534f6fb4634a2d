import Foundation
import PressroomSupport

/// Values of a job id's state key (``QueueKeys/job(_:)``): JSON objects, so a
/// producer can `GET` the key and read `status` either way.
enum JobState {
    /// What the consumer running a job keeps in its state key. The entry id
    /// tells a duplicate enqueue (another entry: leave it to the runner) from
    /// the same entry taken over from a dead consumer (run it).
    static func running(consumer: String, entry: String) -> String {
        markerPrefix(consumer: consumer) + jsonString(entry) + "}"
    }

    /// A marker up to its entry id, to make markers per entry without
    /// escaping the consumer name again each time.
    static func markerPrefix(consumer: String) -> String {
        #"{"status":"running","consumer":"# + jsonString(consumer) + #","entry":"#
    }

    /// Whether a running marker is for `entry`, whoever holds it.
    static func isRunning(_ value: String, entry: String) -> Bool {
        isRunning(value) && value.hasSuffix(entrySuffix(entry))
    }

    /// How every running marker for `entry` ends.
    static func entrySuffix(_ entry: String) -> String {
        #","entry":"# + jsonString(entry) + "}"
    }

    static let runningPrefix = #"{"status":"running""#

    static func isRunning(_ value: String) -> Bool {
        value.hasPrefix(runningPrefix)
    }

    /// The record of a finished job, kept for completedTTL.
    static func succeeded(attempt: Int, finishedAt: Int64, result: String) -> String {
        #"{"status":"succeeded","attempt":\#(attempt),"finished_at":\#(finishedAt),"result":\#(result)}"#
    }

    /// `text` as a JSON string literal (slashes as they are), written by hand:
    /// every job writes two or three, and a `JSONEncoder` each cost more than the rest of the value.
    static func jsonString(_ text: String) -> String {
        JSONText.quoted(text)
    }
}
