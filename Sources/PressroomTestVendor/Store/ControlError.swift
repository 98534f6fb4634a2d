/// A refused control-API request: `{"error": message}` with the status.
struct ControlError: Error, Sendable {
    var status: Int
    var message: String

    static func badRequest(_ message: String) -> ControlError { ControlError(status: 400, message: message) }
    static func notFound(_ message: String) -> ControlError { ControlError(status: 404, message: message) }
    static func conflict(_ message: String) -> ControlError { ControlError(status: 409, message: message) }
}
