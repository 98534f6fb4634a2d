import CLcms2
import Synchronization

/// An lcms2 context with its own error handler and alarm codes.
///
/// lcms2's default error handler and alarm codes are process-wide (and libvips
/// installs its own global handler), so every Pressroom call goes through a
/// context instead: errors are routed to this object's buffer and never clobber
/// or race with another component's handler.
public final class ColorContext: @unchecked Sendable {
    private let errors = Mutex<[String]>([])
    /// Serialises calls that may log an error so each caller reads its own message.
    private let callLock = Mutex(())
    /// Set once in `init`; deleted in `deinit`.
    private(set) var context: cmsContext?

    public init() {
        // The context's user data points back at this object, unretained: the
        // context is deleted in deinit, so it never outlives its owner.
        context = cmsCreateContext(nil, Unmanaged.passUnretained(self).toOpaque())
        cmsSetLogErrorHandlerTHR(context) { context, _, text in
            guard let context, let user = cmsGetContextUserData(context) else { return }
            let owner = Unmanaged<ColorContext>.fromOpaque(user).takeUnretainedValue()
            let message = text.map { String(cString: $0) } ?? "unknown lcms2 error"
            owner.errors.withLock { $0.append(message) }
        }
    }

    deinit {
        if let context { cmsDeleteContext(context) }
    }

    /// Sets the values written for out-of-gamut pixels by gamut-checking transforms of this context.
    func setAlarmCodes(_ codes: [UInt16]) {
        var all = [UInt16](repeating: 0, count: Int(cmsMAXCHANNELS))
        for (index, code) in codes.prefix(all.count).enumerated() { all[index] = code }
        all.withUnsafeBufferPointer { cmsSetAlarmCodesTHR(context, $0.baseAddress) }
    }

    /// Runs an lcms2 call and returns its result with the messages it logged.
    func capturingErrors<T>(_ body: () -> T) -> (T, String?) {
        callLock.withLock { _ in
            errors.withLock { $0.removeAll() }
            let result = body()
            let messages = errors.withLock { list -> String? in
                defer { list.removeAll() }
                return list.isEmpty ? nil : list.joined(separator: "; ")
            }
            return (result, messages)
        }
    }
}
