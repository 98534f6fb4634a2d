#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads CPU time (user + system) from `getrusage`.
///
/// Async jobs hop between cooperative threads and libvips fans work out to its
/// own worker threads, so the calling thread's CPU clock
/// (`CLOCK_THREAD_CPUTIME_ID`) misses most of what a job costs. The process
/// clock sees every thread; ``CPUTimeAttributor`` shares its progress among
/// the jobs that were running.
public enum ProcessCPUTime {
    /// CPU time consumed by every thread of this process so far.
    public static func now() -> Duration {
        #if canImport(Glibc)
        read(Int32(RUSAGE_SELF.rawValue))
        #else
        read(RUSAGE_SELF)
        #endif
    }

    #if canImport(Glibc)
    /// CPU time of the calling thread. Only meaningful around one synchronous
    /// stretch of code that stays on one thread (e.g. inside a
    /// `BlockingThreadPool.run` closure) and spawns no threads of its own.
    public static func currentThread() -> Duration {
        // RUSAGE_THREAD is 1 on Linux; Glibc imports the `who` constants as an enum
        // while getrusage takes an Int32, so the raw values are used.
        read(1)
    }

    private static func read(_ who: Int32) -> Duration {
        var usage = rusage()
        // getrusage cannot fail for RUSAGE_SELF/RUSAGE_THREAD with a valid pointer.
        _ = getrusage(who, &usage)
        return duration(usage.ru_utime) + duration(usage.ru_stime)
    }
    #else
    private static func read(_ who: Int32) -> Duration {
        var usage = rusage()
        _ = getrusage(who, &usage)
        return duration(usage.ru_utime) + duration(usage.ru_stime)
    }
    #endif

    private static func duration(_ value: timeval) -> Duration {
        .seconds(Int64(value.tv_sec)) + .microseconds(Int64(value.tv_usec))
    }
}
