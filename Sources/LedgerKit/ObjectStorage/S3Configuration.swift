import Foundation

/// How to reach S3, resolved the way the AWS CLI resolves it: the
/// environment first, then the profile's entries in `~/.aws/credentials` and
/// `~/.aws/config`.
public struct S3Configuration: Sendable, Equatable {
    var credentials: SignatureV4.Credentials
    /// The region requests are signed for: `AWS_REGION`, `AWS_DEFAULT_REGION` or
    /// the profile's `region`, else `us-east-1`.
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
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        home: String = NSHomeDirectory()
    ) throws -> S3Configuration {
        let profile = environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default"
        let credentialsFile = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
        let configFile = environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
        let credentialSections = INIFile.read(credentialsFile)
        let configSections = INIFile.read(configFile)
        // ~/.aws/credentials names sections by profile; ~/.aws/config says "profile NAME", but "default".
        let fromCredentials = credentialSections[profile] ?? [:]
        let fromConfig =
            configSections[profile == "default" ? "default" : "profile \(profile)"] ?? configSections[
                "profile \(profile)"] ?? [:]
        func setting(_ name: String) -> String? { fromCredentials[name] ?? fromConfig[name] }

        let credentials: SignatureV4.Credentials
        if let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty,
            !secret.isEmpty
        {
            credentials = .init(
                accessKey: key, secretKey: secret,
                sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
        } else if let key = setting("aws_access_key_id"), let secret = setting("aws_secret_access_key") {
            credentials = .init(accessKey: key, secretKey: secret, sessionToken: setting("aws_session_token"))
        } else {
            throw ObjectStorageError.noCredentials(profile: profile)
        }
        let region =
            environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? fromConfig["region"] ?? "us-east-1"
        let given =
            environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"] ?? fromConfig["s3.endpoint_url"]
            ?? fromConfig["endpoint_url"]
        let custom = given.map { withoutUserInfo($0) ?? "" }
        let endpoint: URL
        if let custom {
            guard let url = URL(string: custom), let scheme = url.scheme?.lowercased(),
                ["http", "https"].contains(scheme),
                url.host != nil
            else {
                // Never quoted whole: what could not be read may hold a password.
                let shown = custom.isEmpty || custom.contains("@") ? "given" : "'\(custom)'"
                throw ObjectStorageError.badConfiguration("the endpoint \(shown) is not an http:// or https:// URL")
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
        return S3Configuration(
            credentials: credentials, region: region, endpoint: endpoint, pathStyle: pathStyle, profile: profile)
    }

    /// `endpoint` without a user name or password (`https://user:pw@host` is
    /// `https://host`): S3 requests are signed with the keys and never use
    /// them, and a password must reach no message and no unit file. Nil when
    /// it has them and is not a URL they can be taken out of.
    public static func withoutUserInfo(_ endpoint: String) -> String? {
        guard endpoint.contains("@") else { return endpoint }
        guard var parts = URLComponents(string: endpoint) else { return nil }
        // An "@" elsewhere (in the path) is no user name.
        guard parts.user != nil || parts.password != nil else { return endpoint }
        parts.user = nil
        parts.password = nil
        guard let cleaned = parts.string, let again = URLComponents(string: cleaned), again.user == nil,
            again.password == nil
        else { return nil }
        return cleaned
    }
}
