import Foundation
@testable import PressroomImaging
import Testing

/// Parallel jobs on one pipeline give the same bytes as one at a time (no shared mutable state leaks).
@Suite struct ConcurrencyTests {
    @Test func parallelDerivesMatchSequentialOnes() async throws {
        let imaging = try Fixtures.imaging()
        let catalog = try Fixtures.catalog()
        let names = ["exif/Landscape_2.jpg", "exif/Portrait_7.jpg", "p3.png", "cmyk-profile.jpg", "grey-alpha.png", "4.webp"]
        var sequential: [String: [Data]] = [:]
        for name in names {
            sequential[name] = try await imaging.derive(source: try Fixtures.data(name), catalog: catalog).outputs.map(\.data)
        }
        let parallel = try await withThrowingTaskGroup(of: (String, [Data]).self) { group in
            for name in names + names {
                group.addTask { (name, try await imaging.derive(source: try Fixtures.data(name), catalog: catalog).outputs.map(\.data)) }
            }
            var results: [(String, [Data])] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(parallel.count == names.count * 2)
        for (name, outputs) in parallel {
            #expect(outputs == sequential[name], "\(name) differs when run in parallel")
        }
    }
}
