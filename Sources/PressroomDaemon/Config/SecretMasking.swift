import Foundation

/// Keeps secrets out of printed configs and logs.
public enum SecretMasking {
    /// `redis://user:secret@host` → `redis://user:****@host`.
    public static func maskURL(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "****"
        return components.string ?? "****"
    }
}

extension PressroomConfiguration {
    /// Every secret field with its path: the one list both secret resolution
    /// (`credential:`/`file:`/`env:`, see ``SecretSource``) and masking use,
    /// so a secret added here is handled everywhere. A test checks that every
    /// field named like a secret is on it.
    mutating func visitSecrets(_ body: (_ value: inout String, _ field: String) throws -> Void) rethrows {
        func visit(_ value: inout String?, _ field: String) throws {
            guard var text = value else { return }
            try body(&text, field)
            value = text
        }
        try visit(&redis.url, "redis.url")
        try visit(&redis.password, "redis.password")
        if var sentinel = redis.sentinel {
            try visit(&sentinel.password, "redis.sentinel.password")
            try visit(&sentinel.sentinelPassword, "redis.sentinel.sentinelPassword")
            redis.sentinel = sentinel
        }
        if var cluster = redis.cluster {
            try visit(&cluster.password, "redis.cluster.password")
            redis.cluster = cluster
        }
        if var s3 = storage.s3 {
            try visit(&s3.accessKeyID, "storage.s3.accessKeyID")
            try visit(&s3.secretAccessKey, "storage.s3.secretAccessKey")
            try visit(&s3.sessionToken, "storage.s3.sessionToken")
            storage.s3 = s3
        }
        for name in vendors.keys.sorted() {
            guard var vendor = vendors[name] else { continue }
            let path = "vendors.\(name)"
            try visit(&vendor.auth.apiKey, "\(path).auth.apiKey")
            try visit(&vendor.auth.token, "\(path).auth.token")
            try visit(&vendor.auth.clientSecret, "\(path).auth.clientSecret")
            if vendor.webhooks != nil { try body(&vendor.webhooks!.secret, "\(path).webhooks.secret") }
            vendors[name] = vendor
        }
        for i in admin.console.users.indices {
            try visit(&admin.console.users[i].password, "admin.console.users[\(i)].password")
            try visit(&admin.console.users[i].token, "admin.console.users[\(i)].token")
        }
    }

    /// This configuration with every secret masked, for `config check`: the
    /// Redis URL keeps all but its password, S3's access key id stays (it
    /// names the key; the secret is what authenticates).
    public var masked: PressroomConfiguration {
        var copy = self
        copy.visitSecrets { value, field in
            switch field {
            case "redis.url": value = SecretMasking.maskURL(value)
            case "storage.s3.accessKeyID": break
            default: value = "****"
            }
        }
        return copy
    }
}
