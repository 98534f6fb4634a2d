import Foundation
@testable import PressroomDaemon
import PressroomQueue
import PressroomStorage
import Testing
import Yams

struct ConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func write(_ yaml: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func theExampleConfigIsValid() throws {
        let loaded = try ConfigurationLoader().load(file: Self.root.appendingPathComponent("config/pressroom.example.yaml").path, environment: [:])
        #expect(loaded.configuration.queues["derive"]?.concurrency == 4)
        #expect(loaded.configuration.queues["fulfill"]?.concurrency == 32)
        #expect(loaded.configuration.queues["derive"]?.partitions == 1, "one partition: today's keys")
        #expect(loaded.configuration.jobTypeOptions.contains { $0.type == "sleep" })
        // The quick start routes to the sandbox vendor: no account, no secrets to set.
        let sandbox = loaded.configuration.vendors["sandbox"]
        #expect(loaded.configuration.vendors.keys.sorted() == ["sandbox"])
        #expect(sandbox?.adapter == .sandbox)
        #expect(sandbox?.sandbox?.folder == "var/sandbox-vendor")
        #expect(sandbox?.sandbox?.allowedRoots == [loaded.configuration.storage.filesystem?.root ?? ""])
        #expect(sandbox?.sandbox?.shippedAfter?.duration == .seconds(5))
        #expect(Set(loaded.configuration.jobTypeOptions.filter { $0.queue == "fulfill" }.map(\.type)).isSuperset(of: ["fulfill", "vendor-event", "reconcile"]))
    }

    @Test func environmentOverridesAnyField() throws {
        let file = try write("""
            redis: { url: "redis://127.0.0.1:6379/0" }
            queues:
              preview: { concurrency: 2 }
            jobs:
              sleep: { queue: preview }
            """)
        let loaded = try ConfigurationLoader().load(file: file, environment: [
            "PRESSROOM_REDIS_URL": "redis://:pw@10.0.0.1:6380/1",
            "PRESSROOM_QUEUES_PREVIEW_CONCURRENCY": "7",
            "PRESSROOM_QUEUES_PREVIEW_CLAIM_MIN_IDLE": "90s",
            "PRESSROOM_QUEUES_PREVIEW_PARTITIONS": "2",
            "PRESSROOM_QUEUES_PREVIEW_DRAIN_PARTITIONS": "4",
            "PRESSROOM_DRAIN_TIMEOUT": "45s",
            "PRESSROOM_DIAGNOSTICS": "true",
            "PRESSROOM_JOBS_SLEEP_MAX_ATTEMPTS": "9",
            "PRESSROOM_CONSUMER": "w-3",
            "PRESSROOM_TYPO_FIELD": "x",
            "PRESSROOM_TEST_REDIS_URL": "ignored",
        ])
        let c = loaded.configuration
        #expect(c.redis.url == "redis://:pw@10.0.0.1:6380/1")
        #expect(c.queues["preview"]?.concurrency == 7)
        #expect(c.queues["preview"]?.claimMinIdle.duration == .seconds(90))
        #expect(c.partitions(ofQueue: "preview") == QueuePartitions(namespace: "pressroom", queue: "preview", count: 2, drainFrom: 4))
        #expect(c.queueOptions.first?.partitions == 2 && c.queueOptions.first?.drainPartitions == 4)
        #expect(c.drainTimeout.duration == .seconds(45))
        #expect(c.diagnostics)
        #expect(c.jobs["sleep"]?.maxAttempts == 9)
        #expect(c.consumerName == "w-3")
        #expect(loaded.unmatched == ["PRESSROOM_TYPO_FIELD"])
        #expect(SecretMasking.maskURL(c.redis.url ?? "") == "redis://:****@10.0.0.1:6380/1")
    }

    /// `redis.sentinel` instead of `redis.url`, from the file or the environment, with its passwords as secrets.
    @Test func aSentinelTopology() throws {
        let file = try write("""
            redis:
              sentinel: { masterName: pm, sentinels: ["10.0.0.1:26380", "[::1]", sentinel-3], password: "env:REDIS_PW" }
            """)
        let c = try ConfigurationLoader().load(file: file, environment: ["REDIS_PW": "pw-1", "PRESSROOM_REDIS_SENTINEL_SENTINEL_PASSWORD": "pw-2"]).configuration
        guard case .sentinel(let sentinel) = try c.redisTopology else {
            Issue.record("not a sentinel topology: \(try c.redisTopology)")
            return
        }
        #expect(sentinel.masterName == "pm")
        #expect(sentinel.sentinels == [.init(host: "10.0.0.1", port: 26380), .init(host: "::1", port: 26379), .init(host: "sentinel-3", port: 26379)])
        #expect(sentinel.password == "pw-1" && sentinel.sentinelPassword == "pw-2")
        let printed = try YAMLEncoder().encode(c.masked) + "\(try c.redisTopology)"
        #expect(!printed.contains("pw-1") && !printed.contains("pw-2"), "\(printed)")
        #expect("\(try c.redisTopology)" == "sentinel master 'pm' via 10.0.0.1:26380,[::1]:26379,sentinel-3:26379")

        let env = try ConfigurationLoader().load(file: nil, environment: [
            "PRESSROOM_REDIS_SENTINEL_MASTER_NAME": "pm", "PRESSROOM_REDIS_SENTINEL_SENTINELS": "[127.0.0.1:26410,127.0.0.1:26411]",
        ]).configuration
        #expect(try env.redisTopology == .sentinel(RedisSentinelConfiguration(masterName: "pm", sentinels: [
            .init(host: "127.0.0.1", port: 26410), .init(host: "127.0.0.1", port: 26411)])))
        #expect(try ConfigurationLoader().load(file: nil, environment: [:]).configuration.redisTopology == .single(try RedisEndpoint(url: "redis://127.0.0.1:6379/0")))
    }

    @Test func overridesWithoutAFileKeepTheOtherDefaults() throws {
        let c = try ConfigurationLoader().load(file: nil, environment: ["PRESSROOM_QUEUES_DERIVE_CLAIM_MIN_IDLE": "1s"]).configuration
        #expect(c.queues["derive"]?.claimMinIdle.duration == .seconds(1))
        #expect(c.queues["derive"]?.concurrency == 4)
        #expect(c.queues.keys.sorted() == ["derive", "fulfill", "render"])
    }

    @Test func storageSettingsComeFromTheEnvironmentToo() throws {
        let c = try ConfigurationLoader().load(file: nil, environment: [
            "PRESSROOM_STORAGE_BACKEND": "s3",
            "PRESSROOM_STORAGE_S3_BUCKET": "masters",
            "PRESSROOM_STORAGE_S3_ENDPOINT": "http://127.0.0.1:9000",
            "PRESSROOM_STORAGE_S3_ACCESS_KEY_ID": "AKIA",
            "PRESSROOM_STORAGE_S3_SECRET_ACCESS_KEY": "shh",
        ]).configuration
        #expect(c.storage.backend == .s3)
        #expect(c.storage.s3?.bucket == "masters")
        #expect(c.storage.s3?.accessKeyID == "AKIA")
        #expect(c.storage.s3?.secretAccessKey == "shh")
        #expect(ConfigurationLoader.snake("claimMinIdle") == "CLAIM_MIN_IDLE")
        #expect(ConfigurationLoader.snake("accessKeyID") == "ACCESS_KEY_ID")
    }

    @Test func lifecycleSectionsComeFromTheFileAndTheEnvironment() throws {
        let file = try write("""
            scan: { address: 'unix:///run/clamav/clamd.ctl', onInfected: tag }
            retention: { drafts: 14d }
            quotas: { shops: { acme: { jobsPerMinute: { derive: 60 }, bytesPerDay: 1000 } } }
            """)
        let c = try ConfigurationLoader().load(file: file, environment: [
            "PRESSROOM_SCAN_STREAM_MAX_LENGTH": "1048576",
            "PRESSROOM_RETENTION_ORDERS": "90d",
            "PRESSROOM_QUOTAS_SHOPS_ACME_BYTES_PER_DAY": "5000",
            "PRESSROOM_QUOTAS_MAX_WAIT": "10m",
        ]).configuration
        #expect(c.scan?.address == "unix:///run/clamav/clamd.ctl")
        #expect(c.scan?.onInfected == .tag)
        #expect(c.scan?.streamMaxLength == 1_048_576)
        #expect(c.scan?.quarantinePrefix == "quarantine/")
        #expect(c.retention.drafts.duration == .seconds(14 * 86400))
        #expect(c.retention.orders.duration == .seconds(90 * 86400))
        #expect(c.quotas.shops["acme"]?.jobsPerMinute["derive"] == 60)
        #expect(c.quotas.shops["acme"]?.bytesPerDay == 5000)
        #expect(c.quotas.maxWait.duration == .seconds(600))
        // Scanning is off unless configured; the address alone from the environment turns it on.
        #expect(try ConfigurationLoader().load(file: nil, environment: [:]).configuration.scan == nil)
        let env = try ConfigurationLoader().load(file: nil, environment: ["PRESSROOM_SCAN_ADDRESS": "tcp://127.0.0.1:3310"]).configuration
        #expect(env.scan?.address == "tcp://127.0.0.1:3310")
        #expect(env.scan?.chunkBytes == 256 << 10)
    }

    @Test func errorsNameTheField() throws {
        let cases: [(String, [String: String], String)] = [
            ("queues: { derive: { concurrency: many } }", [:], "config field 'queues.derive.concurrency': expected a whole number"),
            ("queues: { derive: { concurrency: 0 } }", [:], "config field 'queues.derive.concurrency': must be 1-1024"),
            ("jobs: { derive: { queue: nowhere } }", [:], "config field 'jobs.derive.queue': names queue 'nowhere'"),
            ("jobs: { derive: { maxAttempts: 3 } }", [:], "config field 'jobs.derive.queue': is required"),
            ("redis: { url: 'http://x' }", [:], "config field 'redis.url'"),
            ("redis: { url: 'redis://x', sentinel: { masterName: m, sentinels: [a:1] } }", [:], "config field 'redis.sentinel': is an alternative to redis.url"),
            ("redis: { sentinel: { sentinels: [a:1] } }", [:], "config field 'redis.sentinel.masterName': is required"),
            ("redis: { sentinel: { masterName: '', sentinels: [a:1] } }", [:], "config field 'redis.sentinel.masterName'"),
            ("redis: { sentinel: { masterName: m, sentinels: [] } }", [:], "config field 'redis.sentinel.sentinels': must list at least one"),
            ("redis: { sentinel: { masterName: m, sentinels: [a:1, 'b:port'] } }", [:], "config field 'redis.sentinel.sentinels[1]': 'b:port': the port must be a number"),
            ("redis: { sentinel: { masterName: m, sentinels: [a:1], pasword: x } }", [:], "config field 'redis.sentinel.pasword'"),
            ("queues: { derive: { claimMinIdle: soon } }", [:], "config field 'queues.derive.claimMinIdle': 'soon' is not a duration"),
            ("log: { format: xml }", [:], "config field 'log.format'"),
            ("{}", ["PRESSROOM_ADMIN_PORT": "99999"], "config field 'admin.port'"),
            ("scan: { address: '127.0.0.1:3310' }", [:], "config field 'scan.address'"),
            ("scan: { streamMaxLength: 10 }", [:], "config field 'scan.address': is required"),
            ("scan: { address: 'tcp://127.0.0.1:3310', quarantinePrefix: uploads/quarantine/ }", [:], "config field 'scan.quarantinePrefix'"),
            ("scan: { address: 'tcp://127.0.0.1:3310', onInfected: ignore }", [:], "config field 'scan.onInfected'"),
            ("retention: { drafts: 0s }", [:], "config field 'retention.drafts'"),
            ("retention: { prefixes: [] }", [:], "config field 'retention.prefixes'"),
            ("quotas: { shops: { 'bad shop': { bytesPerDay: 1 } } }", [:], "config field 'quotas.shops.bad shop'"),
            ("quotas: { defaults: { jobsPerMinute: { derive: 0 } } }", [:], "config field 'quotas.defaults.jobsPerMinute.derive'"),
            ("imaging: { minShortSide: 0 }", [:], "config field 'imaging.minShortSide': must be at least 1"),
            ("queues: { derive: { partitions: 0 } }", [:], "config field 'queues.derive.partitions': must be 1-256"),
            ("queues: { derive: { partitions: 4, drainPartitions: 2 } }", [:], "config field 'queues.derive.drainPartitions': must be between partitions (4) and 256"),
            ("{}", ["PRESSROOM_IMAGING_MAX_ASPECT_RATIO": "0.5"], "config field 'imaging.maxAspectRatio': must be at least 1"),
            ("queues: { fulfill: { batchWait: 2s } }", [:], "config field 'queues.fulfill.batchWait': must be between 0ms and 1s"),
            ("imaging: { masterRowBudget: -1 }", [:], "config field 'imaging.masterRowBudget': must be 0 (no cap) or a number of bytes"),
        ]
        for (yaml, env, expected) in cases {
            let file = try write(yaml)
            do {
                _ = try ConfigurationLoader().load(file: file, environment: env)
                Issue.record("accepted: \(yaml)")
            } catch let error as ConfigurationLoader.Invalid {
                #expect(error.description.hasPrefix(expected), "\(error.description)")
            }
        }
    }

    /// The shape limits reach the pipeline, from the file or the environment.
    @Test func shapeLimitsComeFromTheFileAndTheEnvironment() throws {
        let defaults = try ConfigurationLoader().load(file: nil, environment: [:]).configuration.imaging.configuration
        #expect(defaults.minShortSide == 8 && defaults.maxAspectRatio == 20)
        let file = try write("imaging: { minShortSide: 64 }")
        let c = try ConfigurationLoader().load(file: file, environment: ["PRESSROOM_IMAGING_MAX_ASPECT_RATIO": "12.5"]).configuration
        #expect(c.imaging.configuration.minShortSide == 64)
        #expect(c.imaging.configuration.maxAspectRatio == 12.5)
        #expect(defaults.masterRowBudget == 32 << 10)
        let budget = try ConfigurationLoader().load(file: nil, environment: ["PRESSROOM_IMAGING_MASTER_ROW_BUDGET": "0"]).configuration
        #expect(budget.imaging.configuration.masterRowBudget == 0)
    }

    /// A lane's batch wait reaches its options, from the file or the environment; 20 ms unset.
    @Test func batchWaitComesFromTheFileAndTheEnvironment() throws {
        let file = try write("queues: { fulfill: { concurrency: 64, batchWait: 5ms }, derive: { concurrency: 4 } }")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let options = try ConfigurationLoader().load(file: file, environment: ["PRESSROOM_QUEUES_DERIVE_BATCH_WAIT": "0ms"]).configuration.queueOptions
        #expect(options.first { $0.name == "fulfill" }?.batchWait == .milliseconds(5))
        #expect(options.first { $0.name == "derive" }?.batchWait == .zero)
        #expect(QueueOptions(name: "any").batchWait == .milliseconds(20))
    }

    @Test func unknownJobTypesAreRefusedAtStart() throws {
        var c = PressroomConfiguration()
        c.jobs["resize"] = .init(queue: "derive")
        #expect(throws: ConfigurationLoader.Invalid.self) {
            _ = try PressroomDaemon(configuration: c, logger: .init(label: "t")).makeRegistry()
        }
    }
}

/// `credential:`, `file:` and `env:` in secret fields (systemd LoadCredential).
struct SecretSourceTests {
    func directory(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-cred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir.path
    }

    @Test func secretFieldsAreReadFromTheCredentialsDirectoryFilesAndEnvironment() throws {
        let creds = try directory(["redis-url": "redis://:s3cret@127.0.0.1:6390/0\n", "s3-secret": "wJalrXUtnFEMI"])
        let keyFile = try directory(["key": "AKIDEXAMPLE\n"]) + "/key"
        let loaded = try ConfigurationLoader().load(file: nil, environment: [
            "CREDENTIALS_DIRECTORY": creds,
            "PRESSROOM_REDIS_URL": "credential:redis-url",
            "PRESSROOM_STORAGE_BACKEND": "s3",
            "PRESSROOM_STORAGE_S3_BUCKET": "b",
            "PRESSROOM_STORAGE_S3_ACCESS_KEY_ID": "file:\(keyFile)",
            "PRESSROOM_STORAGE_S3_SECRET_ACCESS_KEY": "credential:s3-secret",
            "PRESSROOM_STORAGE_S3_SESSION_TOKEN": "env:MY_TOKEN",
            "MY_TOKEN": "tok-1",
        ])
        #expect(loaded.configuration.redis.url == "redis://:s3cret@127.0.0.1:6390/0")
        #expect(loaded.configuration.storage.s3?.accessKeyID == "AKIDEXAMPLE")
        #expect(loaded.configuration.storage.s3?.secretAccessKey == "wJalrXUtnFEMI")
        #expect(loaded.configuration.storage.s3?.sessionToken == "tok-1")
    }

    @Test func aMissingCredentialNamesTheFieldButNeverAValue() throws {
        let creds = try directory([:])
        let cases: [([String: String], String)] = [
            (["CREDENTIALS_DIRECTORY": creds, "PRESSROOM_REDIS_URL": "credential:redis-url"], "credential 'redis-url' in $CREDENTIALS_DIRECTORY cannot be read"),
            (["PRESSROOM_REDIS_URL": "credential:redis-url"], "$CREDENTIALS_DIRECTORY is not set"),
            (["PRESSROOM_REDIS_URL": "credential:../etc/passwd", "CREDENTIALS_DIRECTORY": creds], "without '/'"),
            (["PRESSROOM_REDIS_URL": "file:relative/path"], "absolute path"),
            (["PRESSROOM_REDIS_URL": "env:NOPE"], "NOPE, which is not set"),
        ]
        for (environment, expected) in cases {
            #expect {
                try ConfigurationLoader().load(file: nil, environment: environment)
            } throws: { error in
                let text = "\(error)"
                return text.contains("'redis.url'") && text.contains(expected)
            }
        }
    }
}

extension ConfigurationTests {
    static let vendorSecrets = [
        "PRINTLAB_EU_API_KEY": "pl-key-1", "PRINTLAB_EU_WEBHOOK_SECRET": "pl-wh-1", "PRODIGI_API_KEY": "pd-key-1",
        "PRODIGI_WEBHOOK_TOKEN": "pd-wh-1", "PRINTFUL_TOKEN": "pf-tok-1", "PRINTFUL_WEBHOOK_SECRET": "pf-wh-1",
        "GELATO_API_KEY": "gl-key-1", "GELATO_WEBHOOK_SECRET": "gl-wh-1",
    ]

    @Test func theShippedVendorsFileLoadsWithOverridesAndSecrets() throws {
        var env = Self.vendorSecrets
        env["PRESSROOM_FULFILLMENT_VENDORS"] = Self.root.appendingPathComponent("config/vendors.examples.yaml").path
        env["PRESSROOM_VENDORS_PRINTLAB_EU_BASE_URL"] = "https://eu.example/v2"
        env["PRESSROOM_VENDORS_PRINTLAB_EU_MAX_IN_FLIGHT"] = "4"
        env["PRESSROOM_VENDORS_GELATO_BREAKER_COOL_DOWN"] = "2m"
        let loaded = try ConfigurationLoader().load(file: Self.root.appendingPathComponent("config/pressroom.example.yaml").path, environment: env)
        let c = loaded.configuration
        #expect(c.vendors.keys.sorted() == ["gelato", "printful", "printlab-eu", "prodigi"])
        #expect(c.vendors["printlab-eu"]?.baseURL == "https://eu.example/v2")
        #expect(c.vendors["printlab-eu"]?.maxInFlight == 4)
        #expect(c.vendors["gelato"]?.breaker.coolDown.duration == .seconds(120))
        #expect(c.vendors["printlab-eu"]?.auth.apiKey == "pl-key-1", "env: secrets are resolved")
        #expect(c.vendors["printful"]?.webhooks?.secret == "pf-wh-1")
        #expect(c.vendors["printful"]?.products["print-5x7"]?.sku == "19528")
        #expect(c.vendors["printlab-eu"]?.products["canvas-16x20"]?.sizing == "fillPrintArea")
        #expect(loaded.unmatched.isEmpty, "\(loaded.unmatched)")
        #expect(Set(c.jobTypeOptions.filter { $0.queue == "fulfill" }.map(\.type)) == ["order", "fulfill", "vendor-event", "reconcile"])
    }

    @Test func vendorProblemsNameTheField() throws {
        var env = Self.vendorSecrets
        env["PRESSROOM_FULFILLMENT_VENDORS"] = Self.root.appendingPathComponent("config/vendors.examples.yaml").path
        env.removeValue(forKey: "PRINTFUL_TOKEN")
        #expect(throws: ConfigurationLoader.Invalid(field: "vendors.printful.auth.token", problem: "names environment variable PRINTFUL_TOKEN, which is not set")) {
            _ = try ConfigurationLoader().load(file: nil, environment: env)
        }
        let bad = try write("""
            vendors:
              lab:
                adapter: idempotency-key
                baseURL: "ftp://lab.example"
                auth: { kind: api-key, apiKey: k }
                products: { print-4x6: P }
                countries: { DE: { priority: 1 } }
            """)
        #expect(throws: ConfigurationLoader.Invalid(field: "vendors.lab.baseURL", problem: "must be an http(s) URL with a host")) {
            _ = try ConfigurationLoader().load(file: nil, environment: ["PRESSROOM_FULFILLMENT_VENDORS": bad])
        }
        let country = try write("""
            vendors:
              lab:
                adapter: gelato
                baseURL: "https://lab.example"
                auth: { kind: oauth2, tokenURL: "https://lab.example/token", clientID: c }
                products: { print-4x6: P }
                countries: { DE: { priority: 1 } }
            """)
        #expect(throws: ConfigurationLoader.Invalid(field: "vendors.lab.auth.clientSecret", problem: "is required for kind oauth2")) {
            _ = try ConfigurationLoader().load(file: nil, environment: ["PRESSROOM_FULFILLMENT_VENDORS": country])
        }
    }
}
