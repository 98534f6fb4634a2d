/// Capped exponential backoff with full jitter for reconnect loops, so many
/// workers losing Redis at once do not come back in lockstep.
struct Backoff {
    var initial: Duration = .milliseconds(100)
    var cap: Duration = .seconds(5)
    private(set) var attempts = 0

    mutating func next() -> Duration {
        attempts += 1
        let exponent = min(attempts - 1, 16)
        let ceiling = min(cap.seconds, initial.seconds * Double(1 << exponent))
        let seconds = Double.random(in: (ceiling / 2)...ceiling)
        return .milliseconds(Int64(seconds * 1000))
    }

    mutating func reset() { attempts = 0 }
}
