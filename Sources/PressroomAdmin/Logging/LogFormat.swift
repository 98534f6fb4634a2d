/// How log lines are written: `logfmt` for people and grep (the default),
/// `json` for log shippers.
public enum LogFormat: String, Sendable, CaseIterable, Codable {
    case logfmt
    case json
}
