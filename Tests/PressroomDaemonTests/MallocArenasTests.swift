@testable import PressroomDaemon
import Testing

/// The daemon caps glibc's malloc arenas unless the environment chose a cap.
@Suite struct MallocArenasTests {
    @Test func theCapIsAppliedUnlessTheEnvironmentSetsOne() {
        #expect(MallocArenas.apply(environment: ["MALLOC_ARENA_MAX": "4"]) == nil, "glibc's own reading of the variable wins")
        #if os(Linux)
        #expect(MallocArenas.apply(environment: [:]) == MallocArenas.defaultLimit)
        #endif
    }
}
