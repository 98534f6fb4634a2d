import CVipsShims
import Testing

/// The image pipeline sets glibc's malloc for image buffers (a fixed mmap threshold, two
/// arenas) unless the environment chose a value, which is then left to glibc.
@Suite struct MallocTuningTests {
    @Test func eachSettingYieldsToItsEnvironmentVariable() {
        #if os(Linux)
        #expect(pressroom_malloc_tuning(0, 0) == 3, "both applied")
        #expect(pressroom_malloc_tuning(0, 1) == 1, "MALLOC_ARENA_MAX set: the cap is glibc's reading of it")
        #expect(pressroom_malloc_tuning(1, 1) == 0)
        #endif
    }
}
