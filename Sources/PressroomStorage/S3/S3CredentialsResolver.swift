import Foundation

/// Finds credentials the way the AWS SDKs do, in this order: the
/// configuration, the environment (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), then the shared credentials
/// file (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, profile from
/// the configuration, `AWS_PROFILE` or `default`).
public enum S3CredentialsResolver {
    public static func resolve(
        _ configuration: S3Configuration,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> SigV4Credentials {
        if let key = configuration.accessKeyID, let secret = configuration.secretAccessKey {
            return SigV4Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: configuration.sessionToken)
        }
        if let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty {
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return SigV4Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
        }
        let path = environment["AWS_SHARED_CREDENTIALS_FILE"]
            ?? (environment["HOME"].map { $0 + "/.aws/credentials" } ?? NSHomeDirectory() + "/.aws/credentials")
        let profile = configuration.profile ?? environment["AWS_PROFILE"] ?? "default"
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
            let credentials = parseSharedCredentials(text, profile: profile)
        {
            return credentials
        }
        throw ObjectStoreError(
            .invalidConfiguration,
            "no S3 credentials: set accessKeyID/secretAccessKey in the config, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or profile [\(profile)] in \(path)"
        )
    }

    /// Reads one profile of an INI-style credentials file.
    public static func parseSharedCredentials(_ text: String, profile: String) -> SigV4Credentials? {
        var section: String?
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                continue
            }
            guard section == profile, let eq = line.firstIndex(of: "=") else { continue }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            values[name] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        guard let key = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else { return nil }
        return SigV4Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: values["aws_session_token"])
    }
}
