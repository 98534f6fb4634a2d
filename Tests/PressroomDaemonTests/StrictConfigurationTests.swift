import Foundation
@testable import PressroomDaemon
import PressroomImaging
import PressroomSupport
import Testing

/// Misspelt keys anywhere in the config, vendors.yaml or a policy are errors
/// naming the path and the nearest known key (issue 15, item 5).
struct StrictConfigurationTests {
    static let root = ConfigurationTests.root

    func write(_ text: String, name: String = "pressroom.yaml", in directory: URL? = nil) throws -> URL {
        let dir = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-strict-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func problem(_ yaml: String, environment: [String: String] = [:]) throws -> String {
        let file = try write(yaml)
        do {
            _ = try ConfigurationLoader().load(file: file.path, environment: environment)
        } catch let error as ConfigurationLoader.Invalid {
            return error.description
        }
        Issue.record("accepted: \(yaml)")
        return ""
    }

    @Test func typosInTheDaemonConfigAreErrorsAtAnyDepth() throws {
        let cases: [(String, String)] = [
            ("queus: { derive: { concurrency: 2 } }", "config field 'queus': unknown key; did you mean 'queues'?"),
            ("redis: { url: 'redis://127.0.0.1:6379', clustr: true }", "config field 'redis.clustr': unknown key; did you mean 'cluster'?"),
            ("queues: { derive: { concurency: 2 } }", "config field 'queues.derive.concurency': unknown key; did you mean 'concurrency'?"),
            ("queues: { derive: { claimMinIdl: 5s } }", "config field 'queues.derive.claimMinIdl': unknown key; did you mean 'claimMinIdle'?"),
            ("queues: { derive: { trim: { maxlength: 5 } } }", "config field 'queues.derive.trim.maxlength': unknown key; did you mean 'maxLength'?"),
            ("jobs: { derive: { queue: derive, maxAttempt: 3 } }", "config field 'jobs.derive.maxAttempt': unknown key; did you mean 'maxAttempts'?"),
            ("storage: { backend: s3, s3: { bucket: b, endpont: 'http://x' } }", "config field 'storage.s3.endpont': unknown key; did you mean 'endpoint'?"),
            ("imaging: { maxPixel: 5 }", "config field 'imaging.maxPixel': unknown key; did you mean 'maxPixels'?"),
            ("quotas: { defaults: { bytesPerDya: 5 } }", "config field 'quotas.defaults.bytesPerDya': unknown key; did you mean 'bytesPerDay'?"),
        ]
        for (yaml, expected) in cases {
            #expect(try problem(yaml) == expected)
        }
        // The environment's sections are merged in first, and stay valid.
        #expect(try problem("queus: {}", environment: ["PRESSROOM_QUEUES_DERIVE_CONCURRENCY": "3"]) == "config field 'queus': unknown key; did you mean 'queues'?")
    }

    @Test func theShippedFilesHaveNoUnknownKeys() throws {
        var env = ConfigurationTests.vendorSecrets
        env["PRESSROOM_FULFILLMENT_VENDORS"] = Self.root.appendingPathComponent("config/vendors.yaml").path
        _ = try ConfigurationLoader().load(file: Self.root.appendingPathComponent("config/pressroom.example.yaml").path, environment: env)
        _ = try PolicyCatalog.load(directory: Self.root.appendingPathComponent("config/policies"),
                                   profilesDirectory: Self.root.appendingPathComponent("config/profiles"))
    }

    @Test func typosInTheVendorsFileAreErrors() throws {
        let vendors = try write("""
            vendors:
              lab:
                adapter: idempotency-key
                baseURL: "https://lab.example"
                maxInFlght: 4
                auth: { kind: api-key, apiKey: k }
                products: { print-4x6: { sku: P } }
                countries: { DE: { priority: 1 } }
            """, name: "vendors.yaml")
        #expect(try problem("fulfillment: { vendors: '\(vendors.path)' }") == "config field 'vendors.lab.maxInFlght': unknown key; did you mean 'maxInFlight'?")
        let nested = try write("""
            vendors:
              lab:
                adapter: idempotency-key
                baseURL: "https://lab.example"
                auth: { kind: api-key, apiKey: k }
                products: { print-4x6: { sku: P, sizng: fit } }
                countries: { DE: { priority: 1 } }
            """, name: "vendors.yaml")
        #expect(try problem("fulfillment: { vendors: '\(nested.path)' }") == "config field 'vendors.lab.products.print-4x6.sizng': unknown key; did you mean 'sizing'?")
    }

    @Test func typosInPoliciesAreErrorsWithTheNearestKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-strict-policies-\(UUID().uuidString.prefix(8))")
        _ = try write("""
            name: card
            kind: product
            size: { width: 100, height: 150, unit: mm, dpi: 300 }
            resolution: { minimum: 150, warning: 200 }
            watermark: { text: PROOF, opactiy: 0.5 }
            output: { format: jpeg, quality: 90, profile: srgb }
            """, name: "card.yaml", in: directory)
        #expect {
            _ = try PolicyCatalog.load(directory: directory, profilesDirectory: Self.root.appendingPathComponent("config/profiles"))
        } throws: { error in
            let text = "\(error)"
            return text.contains("card.yaml") && text.contains("watermark.opactiy") && text.contains("did you mean `opacity`?")
        }
    }

    @Test func unknownEnvironmentVariablesAreWarnedWithTheNearestField() throws {
        let loaded = try ConfigurationLoader().load(file: nil, environment: [
            "PRESSROOM_QUEUES_DERIVE_CONCURENCY": "3", "PRESSROOM_REDIS_URLL": "redis://x", "PRESSROOM_SOMETHING_ELSE": "1",
        ])
        #expect(loaded.warnings == [
            "$PRESSROOM_QUEUES_DERIVE_CONCURENCY matches no config field; did you mean $PRESSROOM_QUEUES_DERIVE_CONCURRENCY?",
            "$PRESSROOM_REDIS_URLL matches no config field; did you mean $PRESSROOM_REDIS_URL?",
            "$PRESSROOM_SOMETHING_ELSE matches no config field",
        ])
    }

    @Test func theHelperFindsUnknownKeysInAnyDecodable() throws {
        struct Inner: Decodable, Equatable { var a: Int; var b: String? }
        struct Outer: Decodable, Equatable { var list: [Inner]; var map: [String: Inner]; var plain: Int? }
        let good = #"{"list": [{"a": 1}], "map": {"x": {"a": 2, "b": "y"}}}"#
        #expect(try JSONDecoder().decode(Strictly<Outer>.self, from: Data(good.utf8)).value == Outer(list: [Inner(a: 1)], map: ["x": Inner(a: 2, b: "y")]))
        let bad = #"{"list": [{"a": 1}, {"a": 2, "bb": "z"}], "map": {}}"#
        #expect {
            _ = try JSONDecoder().decode(Strictly<Outer>.self, from: Data(bad.utf8))
        } throws: { error in
            StrictDecoding.unknownKey(in: error) == StrictDecoding.UnknownKey(path: ["list", "1"], key: "bb", suggestion: "b", known: ["a", "b"])
        }
        #expect("\(StrictDecoding.UnknownKey(path: [], key: "queus", suggestion: "queues", known: []))" == "unknown key `queus` at top level; did you mean `queues`?")
        #expect(StrictDecoding.nearest("zzzz", among: ["url", "namespace"]) == nil)
    }
}
