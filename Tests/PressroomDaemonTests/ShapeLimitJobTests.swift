import Foundation
import PressroomQueue
import Testing

/// A strip upload under maxPixels is refused by the derive and render jobs before decoding:
/// a permanent error that names the setting, so it is dead-lettered with its reason, not retried.
@Suite("degenerate shapes in jobs")
struct ShapeLimitJobTests {
    @Test func stripUploadsArePermanentFailuresNamingTheSetting() async throws {
        let h = try LifecycleHarness()
        let strip = try Data(contentsOf: LifecycleHarness.fixtures.appendingPathComponent("strip-1x4000000.png"))
        try await h.put("uploads/strip.png", strip)
        let derive = try await h.failure("derive", payload: #"{"source":"uploads/strip.png"}"#)
        #expect(derive.errorClass == .permanent)
        #expect(derive.message.contains("degenerateShape") && derive.message.contains("imaging.minShortSide"), "\(derive.message)")
        let render = try await h.failure("render", payload: #"{"source":"uploads/strip.png","policy":"sticker-small"}"#)
        #expect(render.errorClass == .permanent)
        #expect(render.message.contains("imaging.minShortSide"), "\(render.message)")
        // Nothing was written for it.
        #expect(try await h.keys(under: "derived/").isEmpty)
    }
}
