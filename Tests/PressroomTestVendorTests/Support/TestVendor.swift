import Foundation

/// The vendor the tests talk to: the one `scripts/services/vendor.sh`
/// started (`PRESSROOM_TEST_VENDOR_URL`), or else one process started for
/// this test run. Accounts keep tests apart, so all of them share it.
actor TestVendor {
    static let shared = TestVendor()
    /// One start for all callers (the actor is re-entered while it runs).
    private var starting: Task<VendorProcess, any Error>?

    func url() async throws -> String {
        if let url = ProcessInfo.processInfo.environment["PRESSROOM_TEST_VENDOR_URL"], !url.isEmpty { return url }
        let task = starting ?? Task { try await VendorProcess() }
        starting = task
        return try await task.value.url
    }
}
