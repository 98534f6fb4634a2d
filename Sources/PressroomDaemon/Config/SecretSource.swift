import Foundation

/// Where a secret config value really lives. Any secret field (Redis URL,
/// S3 keys, vendor credentials, console passwords) may hold:
/// - `credential:NAME`: the file `NAME` in `$CREDENTIALS_DIRECTORY`, where
///   systemd's `LoadCredential=NAME:/path` puts it, private to the unit;
/// - `file:/absolute/path`: a file's contents;
/// - `env:NAME`: an environment variable;
/// - anything else: the value itself.
///
/// One trailing newline is dropped from files. Errors name the field and
/// the source, never the secret.
public enum SecretSource {
    public static func resolve(_ value: String, field: String, environment: [String: String]) throws -> String {
        func read(_ path: String, what: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationLoader.Invalid(field: field, problem: "\(what) cannot be read")
            }
            guard var text = String(data: data, encoding: .utf8) else {
                throw ConfigurationLoader.Invalid(field: field, problem: "\(what) is not UTF-8 text")
            }
            if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
            guard !text.isEmpty else { throw ConfigurationLoader.Invalid(field: field, problem: "\(what) is empty") }
            return text
        }
        if value.hasPrefix("credential:") {
            let name = String(value.dropFirst("credential:".count))
            guard !name.isEmpty, !name.contains("/"), name != "..", name != "." else {
                throw ConfigurationLoader.Invalid(field: field, problem: "'credential:' needs a credential name without '/'")
            }
            guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                throw ConfigurationLoader.Invalid(field: field, problem: "names credential '\(name)' but $CREDENTIALS_DIRECTORY is not set (systemd sets it for units with LoadCredential=)")
            }
            return try read(directory + "/" + name, what: "credential '\(name)' in $CREDENTIALS_DIRECTORY")
        }
        if value.hasPrefix("file:") {
            let path = String(value.dropFirst("file:".count))
            guard path.hasPrefix("/") else {
                throw ConfigurationLoader.Invalid(field: field, problem: "'file:' needs an absolute path")
            }
            return try read(path, what: "file \(path)")
        }
        if value.hasPrefix("env:") {
            let name = String(value.dropFirst("env:".count))
            guard let text = environment[name], !text.isEmpty else {
                throw ConfigurationLoader.Invalid(field: field, problem: "names environment variable \(name), which is not set")
            }
            return text
        }
        return value
    }

    /// Whether a value names a source rather than holding the secret itself.
    public static func isReference(_ value: String) -> Bool {
        value.hasPrefix("credential:") || value.hasPrefix("file:") || value.hasPrefix("env:")
    }
}
