import CMallocShims
import Foundation

/// Caps glibc's malloc arenas for the daemon. glibc gives threads that meet
/// a locked arena new ones, up to 8 per core; libvips' worker threads then
/// leave freed image buffers scattered over many arenas that are seldom
/// returned to the system. With the default, a worker with full derive and
/// render lanes grew from 278 to 341 MB over 1,000 jobs (bench/load) and
/// peaked at 1.66× one derive plus one render; with two arenas it stayed flat
/// (257 → 275 MB) and peaked at 1.39×. `MALLOC_ARENA_MAX` in the environment,
/// which glibc reads itself, is left to win.
enum MallocArenas {
    static let defaultLimit: Int32 = 2

    /// Applies the cap unless the environment sets one; returns the cap applied.
    @discardableResult
    static func apply(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32? {
        guard environment["MALLOC_ARENA_MAX"] == nil else { return nil }
        return pressroom_malloc_arena_max(defaultLimit) == 1 ? defaultLimit : nil
    }
}
