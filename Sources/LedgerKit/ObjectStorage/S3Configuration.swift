import Foundation

/// A place in S3-compatible object storage: `s3://BUCKET/PREFIX` (SPEC §4).
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    public let bucket: String
    /// The key prefix of the snapshots, without a trailing `/` ("" for the bucket's top).
    public let prefix: String

    /// Nil when `text` is not an `s3://` location; throws when it is one that cannot be.
    public init?(_ text: String) throws {
        guard text.lowercased().hasPrefix("s3://") else { return nil }
        let rest = text.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        // S3's bucket names: 3 to 63 lower-case letters, digits, dots and hyphens.
        guard (3...63).contains(bucket.count),
              bucket.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
        else {
            throw ObjectStorageError.badLocation(text, reason: "'\(bucket)' is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)")
        }
        self.bucket = bucket
        prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
    }

    private init(bucket: String, prefix: String) {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// The last part of the prefix ("" at the bucket's top).
    var name: String { prefix.split(separator: "/").last.map(String.init) ?? "" }

    /// The place holding this one.
    var parent: S3Location { S3Location(bucket: bucket, prefix: prefix.split(separator: "/").dropLast().joined(separator: "/")) }

    /// The key of an object named `name` at this place.
    public func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "/" + name }

    public var description: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }
}

/// How to reach S3, resolved the way the AWS CLI resolves it: the
/// environment first, then the profile's entries in `~/.aws/credentials` and
/// `~/.aws/config`.
public struct S3Configuration: Sendable, Equatable {
    var credentials: SignatureV4.Credentials
    public let region: String
    /// `https://s3.REGION.amazonaws.com`, or `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` / the profile's `endpoint_url`.
    public let endpoint: URL
    /// `https://ENDPOINT/BUCKET/KEY` rather than `https://BUCKET.ENDPOINT/KEY`: the
    /// default for endpoints other than AWS's (MinIO, Ceph, moto), chosen with
    /// `LEDGER_S3_ADDRESSING=path|virtual` or the profile's `s3 = addressing_style = …`.
    public let pathStyle: Bool
    /// The profile read: `AWS_PROFILE`, else `default`.
    public let profile: String

    /// Resolves the configuration from `environment` and the files under `home`.
    /// - Throws: `ObjectStorageError.noCredentials` (one line saying where they go),
    ///   `.badConfiguration` for an endpoint that is not a URL.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment,
                               home: String = NSHomeDirectory()) throws -> S3Configuration {
        let profile = environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default"
        let credentialsFile = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
        let configFile = environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
        let credentialSections = INIFile.read(credentialsFile)
        let configSections = INIFile.read(configFile)
        // ~/.aws/credentials names sections by profile; ~/.aws/config says "profile NAME", but "default".
        let fromCredentials = credentialSections[profile] ?? [:]
        let fromConfig = configSections[profile == "default" ? "default" : "profile \(profile)"] ?? configSections["profile \(profile)"] ?? [:]
        func setting(_ name: String) -> String? { fromCredentials[name] ?? fromConfig[name] }

        let credentials: SignatureV4.Credentials
        if let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty, !secret.isEmpty {
            credentials = .init(accessKey: key, secretKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
        } else if let key = setting("aws_access_key_id"), let secret = setting("aws_secret_access_key") {
            credentials = .init(accessKey: key, secretKey: secret, sessionToken: setting("aws_session_token"))
        } else {
            throw ObjectStorageError.noCredentials(profile: profile)
        }
        let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? fromConfig["region"] ?? "us-east-1"
        let custom = environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"] ?? fromConfig["s3.endpoint_url"]
            ?? fromConfig["endpoint_url"]
        let endpoint: URL
        if let custom {
            guard let url = URL(string: custom), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  url.host != nil else {
                throw ObjectStorageError.badConfiguration("the endpoint '\(custom)' is not an http:// or https:// URL")
            }
            endpoint = url
        } else {
            guard let url = URL(string: "https://s3.\(region).amazonaws.com") else {
                throw ObjectStorageError.badConfiguration("the region '\(region)' makes no endpoint URL")
            }
            endpoint = url
        }
        let style = environment["LEDGER_S3_ADDRESSING"] ?? fromConfig["s3.addressing_style"]
        let pathStyle: Bool
        switch style?.lowercased() {
        case "path": pathStyle = true
        case "virtual": pathStyle = false
        default: pathStyle = custom != nil
        }
        return S3Configuration(credentials: credentials, region: region, endpoint: endpoint, pathStyle: pathStyle, profile: profile)
    }
}

/// The AWS CLI's configuration files: `[section]` lines, `key = value` lines,
/// `#` and `;` comments, and one level of nesting (`s3 =` followed by indented
/// `key = value` lines, read as `s3.key`).
enum INIFile {
    static func read(_ path: String) -> [String: [String: String]] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        return parse(String(decoding: data, as: UTF8.self))
    }

    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var section: String?
        var parent: String?
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let indented = raw.first == " " || raw.first == "\t"
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                parent = nil
                continue
            }
            guard let section, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if indented, let parent {
                sections[section, default: [:]][parent + "." + key] = value
            } else if value.isEmpty {
                parent = key
            } else {
                parent = nil
                sections[section, default: [:]][key] = value
            }
        }
        return sections
    }
}

/// Why object storage could not be used. Each says what to do.
public enum ObjectStorageError: LocalizedError, Equatable, Sendable {
    case badLocation(String, reason: String)
    case noCredentials(profile: String)
    case badConfiguration(String)
    /// The server or the network refused; the reason says what to do.
    case refused(String)

    public var errorDescription: String? {
        switch self {
        case .badLocation(let text, let reason):
            return "\(text) is not an object storage location: \(reason). Write it as s3://BUCKET/PREFIX."
        case .noCredentials(let profile):
            return "No credentials for object storage: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add them to the [\(profile)] profile of ~/.aws/credentials (AWS_PROFILE picks another)."
        case .badConfiguration(let reason):
            return "The object storage configuration is wrong: \(reason). Check AWS_ENDPOINT_URL and ~/.aws/config."
        case .refused(let reason):
            return reason + "."
        }
    }
}
