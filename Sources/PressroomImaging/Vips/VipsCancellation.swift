import CVips
import CVipsShims

/// Stops one pipeline call's libvips work when its task is cancelled (a job's timeout, a
/// shutdown): blocking C work never sees Swift cancellation by itself, so a timed-out render
/// would otherwise keep its thread, its core and its lane slot until libvips finished.
///
/// Bound as a task local around the call on the pool thread; every root image opened there
/// (decodes, materialised copies) is watched with the flag, see `pressroom_vips_watch`.
final class VipsCancellation: @unchecked Sendable {
    @TaskLocal static var current: VipsCancellation?

    /// Owned reference to the C flag; images watching it hold their own.
    private let flag: OpaquePointer

    /// `yieldsToForeground`: the pipelines pause between tiles while a
    /// foreground call (a derive) runs in this process, see ``Imaging``.
    init(yieldsToForeground: Bool = false) {
        guard let flag = pressroom_kill_flag_new() else { fatalError("out of memory allocating a cancellation flag") }
        self.flag = flag
        if yieldsToForeground { pressroom_kill_flag_set_yields(flag, 1) }
    }

    deinit { pressroom_kill_flag_unref(flag) }

    func fire() { pressroom_kill_flag_fire(flag) }

    var isFired: Bool { pressroom_kill_flag_fired(flag) != 0 }

    /// Makes every later pipeline from `image` stop at its next tile once fired.
    func watch(_ image: UnsafeMutablePointer<CVips.VipsImage>) {
        pressroom_vips_watch(image, flag)
    }
}
